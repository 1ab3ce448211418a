import ArgumentParser
import Foundation
import SyntheticCommunity
import Traces

/// `gridledger community …`: synthetic energy communities.
struct CommunityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "community",
        abstract: "Synthetic energy communities: households, rooftop PV and batteries from a seed.",
        subcommands: [GenerateCommunityCommand.self])
}

/// `gridledger community generate`: a synthetic community trace from a seed.
struct GenerateCommunityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic community trace (one grid meter per household) from a seed.",
        discussion: """
            Households follow the BDEW standard load profile H0 (3 seasons × 3 day
            types × 96 quarter hours, dynamised per day of the year), scaled to an
            annual consumption drawn from the seed (2 000–5 500 kWh/a), with
            day-to-day and quarter-hour noise. --pv of them have rooftop PV
            (3–10 kWp) under a clear-sky sun for --latitude/--longitude and a
            seeded cloud cover shared by the community; --batteries of those store
            their surplus. Each household gets a grid meter hNN:grid whose
            cumulative import/export registers (whole Wh) count what crosses its
            connection point; --pv-meters adds a generation meter hNN:pv. The same
            seed and options give the same file, byte for byte.

            The trace runs from local midnight of --start in --time-zone to local
            midnight --days later (a day with a clock change has 23 or 25 hours);
            timestamps are written in UTC. Refuses to overwrite
            --output unless --force. Prints a summary: households, kWp, battery
            capacity, annual consumption, energy consumed, generated, imported and
            exported over the span, self-sufficiency, and the energy the community
            could share. Model: docs/COMMUNITY.md; file format: docs/TRACES.md.

            Examples:
              gridledger community generate --seed 42 --households 10 --pv 4 \\
                  --batteries 2 --start 2026-06-01 --output community.csv
              gridledger community generate --seed 7 --households 50 --pv 20 \\
                  --start 2026-01-01 --days 31 --resolution 5 --pv-meters \\
                  --output january.csv
              gridledger community generate --seed 1 --households 3 \\
                  --start 2026-03-21 --time-zone utc --latitude 52.5 \\
                  --longitude 13.4 --output berlin.csv --force
            """)

    @Option(help: "Seed of every random choice (0…18446744073709551615).")
    var seed: UInt64

    @Option(help: "Number of households, 1…10000 (one grid meter each).")
    var households: Int

    @Option(name: .customLong("pv"), help: ArgumentHelp("How many households have rooftop PV (chosen from the seed).", valueName: "M"))
    var pvHouseholds: Int = 0

    @Option(help: ArgumentHelp("How many of the PV households also have a battery.", valueName: "K"))
    var batteries: Int = 0

    @Option(help: ArgumentHelp("First day, local time.", valueName: "YYYY-MM-DD"))
    var start: String

    @Option(help: "Number of days, 1…366.")
    var days: Int = 1

    @Option(help: ArgumentHelp("Minutes between samples: 1, 5 or 15.", valueName: "MINUTES"))
    var resolution: Int = 15

    @Option(help: ArgumentHelp("Latitude of the community, degrees north (south negative).", valueName: "DEGREES"))
    var latitude: Double = CommunitySpec.defaultLatitude

    @Option(help: ArgumentHelp("Longitude of the community, degrees east (west negative).", valueName: "DEGREES"))
    var longitude: Double = CommunitySpec.defaultLongitude

    @Option(help: ArgumentHelp("The households' clock: cet (CET/CEST, EU summer time), utc, or a fixed offset such as +01:00.", valueName: "ZONE"))
    var timeZone: String = "cet"

    @Option(help: ArgumentHelp("Public holidays that take the Sunday profile: germany (nationwide) or none.", valueName: "SET"))
    var holidays: String = "germany"

    @Flag(help: "Also write a generation meter hNN:pv for every PV household (export = generation).")
    var pvMeters = false

    @Flag(help: "Turn the noise off: the bare H0 profile and a clear sky every day (for checks).")
    var noNoise = false

    @Option(help: ArgumentHelp("The trace file to write.", valueName: "FILE"))
    var output: String

    @Flag(help: "Overwrite --output if it exists.")
    var force = false

    func validate() throws {
        _ = try spec()
    }

    /// The spec the options describe, or a ValidationError naming the option.
    func spec() throws -> CommunitySpec {
        guard let date = Self.date(start) else {
            throw ValidationError("--start '\(start)': expected a date YYYY-MM-DD such as 2026-06-01")
        }
        guard let clock = Self.clock(timeZone) else {
            throw ValidationError("--time-zone '\(timeZone)': expected cet, utc, or an offset ±HH:MM that is a multiple of 15 minutes within ±14:00")
        }
        guard let holidaySet = H0Profile.Holidays(rawValue: holidays) else {
            throw ValidationError("--holidays '\(holidays)': expected germany or none")
        }
        let spec = CommunitySpec(
            seed: seed, households: households, pvHouseholds: pvHouseholds, batteries: batteries,
            startMillis: clock.localMidnightMillis(year: date.year, month: date.month, day: date.day), days: days,
            resolutionMinutes: resolution, latitude: latitude, longitude: longitude, clock: clock, holidays: holidaySet,
            pvMeters: pvMeters, noise: !noNoise)
        do {
            try spec.validate()
        } catch {
            let option = ["households": "--households", "pv": "--pv", "batteries": "--batteries", "days": "--days",
                          "resolution": "--resolution", "latitude": "--latitude", "longitude": "--longitude",
                          "clock": "--time-zone", "start": "--start"][error.field]
            throw ValidationError(option.map { "\($0): \(error.reason)" } ?? error.reason)
        }
        return spec
    }

    func run() throws {
        let spec = try spec()
        if !force, FileManager.default.fileExists(atPath: output) {
            throw OperatorFailure("\(output) exists: refusing to overwrite it (give --force to replace it)")
        }
        let generator: CommunityGenerator
        do {
            generator = try CommunityGenerator(spec)
        } catch {
            throw OperatorFailure("\(error)")
        }
        var writer = TraceWriter(columns: TraceColumns(power: true), comments: comments(spec))
        writer.reserveCapacity(spec.rowCount * 52)
        let summary: CommunitySummary
        do {
            summary = try generator.run { sample throws(TraceError) in try writer.append(sample) }
        } catch {
            throw OperatorFailure("the generated trace was refused (a bug): \(error)")
        }
        do {
            try Data(writer.text.utf8).write(to: URL(fileURLWithPath: output), options: force ? .atomic : .withoutOverwriting)
        } catch {
            throw OperatorFailure("cannot write \(output): \(error.localizedDescription)")
        }
        print("wrote \(output): \(spec.meterCount) meters × \(spec.stepCount + 1) instants = \(writer.count) rows, "
              + "\(start) + \(days) day\(days == 1 ? "" : "s") at \(resolution) min, seed \(seed)")
        print(Self.report(summary, spec: spec), terminator: "")
    }

    /// The file's comment lines: how to make it again.
    func comments(_ spec: CommunitySpec) -> [String] {
        var command = "gridledger community generate --seed \(seed) --households \(households) --pv \(pvHouseholds) --batteries \(batteries)"
        command += " --start \(start) --days \(days) --resolution \(resolution) --latitude \(latitude) --longitude \(longitude)"
        command += " --time-zone \(timeZone) --holidays \(holidays)"
        if pvMeters { command += " --pv-meters" }
        if noNoise { command += " --no-noise" }
        return ["Synthetic community (docs/COMMUNITY.md): BDEW H0 households, rooftop PV, batteries; registers in Wh, power in W.",
                command]
    }

    /// The summary printed after writing.
    static func report(_ summary: CommunitySummary, spec: CommunitySpec) -> String {
        let households = summary.households
        let annual = households.map(\.annualConsumptionKWh)
        let pv = households.compactMap(\.pv)
        let batteries = households.compactMap(\.battery)
        func kWh(_ wh: Double) -> String { String(format: "%.1f kWh", wh / 1000) }
        func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }
        var text = "households:    \(households.count), annual consumption \(annual.reduce(0, +)) kWh/a in total (\(annual.min()!)–\(annual.max()!) kWh/a each)\n"
        text += "PV:            \(pv.count) households, " + String(format: "%.1f kWp", pv.reduce(0) { $0 + $1.peakKW }) + " in total\n"
        text += "batteries:     \(batteries.count), " + String(format: "%.1f kWh, %.1f kW", batteries.reduce(0) { $0 + $1.capacityKWh }, batteries.reduce(0) { $0 + $1.powerKW }) + " in total\n"
        text += "over the span: consumed \(kWh(summary.loadWh)), generated \(kWh(summary.pvWh)), imported \(kWh(Double(summary.importWh))), exported \(kWh(Double(summary.exportWh)))\n"
        text += "               self-sufficiency \(percent(summary.selfSufficiency))"
        if let consumption = summary.selfConsumption { text += ", PV used on site \(percent(consumption))" }
        text += ", shareable within the community \(kWh(Double(summary.shareableWh)))\n"
        guard households.count <= 50 else { return text }
        text += "\nmeter        kWh/a    kWp  battery           imported    exported\n"
        for (household, totals) in zip(households, summary.totals) {
            let peak = household.pv.map { String(format: "%5.1f", $0.peakKW) } ?? "    -"
            let battery = household.battery.map { String(format: "%4.1f kWh %4.1f kW", $0.capacityKWh, $0.powerKW) } ?? "        -       "
            let id = household.gridMeterID.padding(toLength: 12, withPad: " ", startingAt: 0)
            text += "\(id) \(String(format: "%5d", household.annualConsumptionKWh))  \(peak)  \(battery)  "
                + String(format: "%7.1f kWh %7.1f kWh", Double(totals.importWh) / 1000, Double(totals.exportWh) / 1000) + "\n"
        }
        return text
    }

    static func date(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1970...9998).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        // Reject 31 April and the like: the date must survive a round trip through RFC 3339.
        let text = "\(parts[0])-\(parts[1])-\(parts[2])T00:00:00Z"
        guard let millis = TraceTime.millis(rfc3339: text), TraceTime.text(millis: millis) == text else { return nil }
        return (year, month, day)
    }

    static func clock(_ text: String) -> LocalClock? {
        switch text.lowercased() {
        case "cet", "cet/cest", "europe": return .centralEuropean
        case "utc", "z", "+00:00", "-00:00": return .utc
        default: break
        }
        let bytes = Array(text.utf8)
        guard bytes.count == 6, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"), bytes[3] == UInt8(ascii: ":"),
              let hours = Int(String(text.dropFirst().prefix(2))), let minutes = Int(String(text.suffix(2))),
              bytes[1...2].allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes[4...5].allSatisfy({ $0 >= 48 && $0 <= 57 }),
              minutes < 60, minutes % 15 == 0
        else { return nil }
        let offset = (hours * 60 + minutes) * (bytes[0] == UInt8(ascii: "-") ? -1 : 1)
        guard abs(offset) <= 14 * 60 else { return nil }
        return .fixed(offsetMinutes: offset)
    }
}
