import ArgumentParser
import Foundation
import Traces

/// `gridledger trace …`: import recorded or generated data into the trace format, and check traces.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Import and check meter traces: cumulative Wh registers per meter over time (docs/TRACES.md).",
        discussion: """
            A trace is a CSV file with one line per meter reading, in time order:
              timestamp,meter,import_wh,export_wh
            optionally followed by power_w and power_l1_w,power_l2_w,power_l3_w.
            Registers are whole Wh and never decrease per meter. `trace import`
            makes traces from other data; `trace check` validates one and
            summarises each meter. The format: docs/TRACES.md.

            Examples:
              gridledger trace import --format opsd household.csv \\
                  --output houses.csv --only grid,pv
              gridledger trace import --format power-series pv.csv \\
                  --meter roof-pv --output pv-trace.csv
              gridledger trace check houses.csv
              gridledger trace check houses.csv --skip-bad --json
            """,
        subcommands: [TraceImportCommand.self, TraceCheckCommand.self])
}

/// `gridledger trace import`.
struct TraceImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert an Open Power System Data household CSV or a power series into a trace.",
        discussion: """
            --format opsd: the "Household Data" CSV of Open Power System Data
            (single-index, any resolution): utc_timestamp, cet_cest_timestamp,
            then cumulative kWh registers named
            <country>_<region>_<house>_<device>. Per house, grid_import and
            grid_export become the meter <house>:grid; pv becomes <house>:pv
            (its value is the export register); every other device becomes
            <house>:<device> (its value is the import register). kWh are
            converted to Wh exactly. An empty cell is a missing reading; a
            grid row with only one of import and export is left out and
            counted. Select with --house and --only.

            --format power-series: a CSV with the columns timestamp,power_w at
            a fixed step (from the first two rows, or --step). A row's power is
            the average over the step starting at its timestamp; it is
            integrated exactly into the import (positive power) and export
            (negative power) registers of the meter --meter, starting at 0 (or
            --start-import-wh, --start-export-wh). n rows give n + 1 samples:
            the last one closes the last step.

            Errors name the line and the column, e.g.
              line 17: power_w: '12a' is not a decimal number of W such as 1234.5
            With --skip-bad, bad rows are left out and counted instead. An
            existing output is refused unless --force. Inputs are limited to
            512 MiB and 10 000 000 rows. Details: docs/TRACES.md.

            Examples:
              gridledger trace import --format opsd \\
                  opsd-residential4-60min.csv --output residential4.csv
              gridledger trace import --format opsd household_15min.csv \\
                  --output kn.csv --only grid,pv \\
                  --house DE_KN_residential1,DE_KN_residential4
              gridledger trace import --format power-series heat-pump.csv \\
                  --meter hp-1 --step 900 --output hp-trace.csv
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case opsd
        case powerSeries = "power-series"
    }

    @Option(help: ArgumentHelp("What the input is: opsd or power-series.", valueName: "FORMAT"))
    var format: Format

    @Argument(help: ArgumentHelp("The file to import.", valueName: "INPUT"))
    var input: String

    @Option(name: [.short, .long], help: ArgumentHelp("The trace file to write.", valueName: "FILE"))
    var output: String

    @Flag(help: "Leave out bad rows (and count them) instead of stopping at the first.")
    var skipBad = false

    @Flag(help: "Overwrite the output file if it exists.")
    var force = false

    @Option(help: ArgumentHelp("power-series: the meter id of the trace (1…128 of A-Z a-z 0-9 . _ : -).", valueName: "ID"))
    var meter: String?

    @Option(help: ArgumentHelp("power-series: the step in seconds (default: from the first two rows).", valueName: "SECONDS"))
    var step: Int64?

    @Option(help: ArgumentHelp("power-series: the import register at the first timestamp, Wh.", valueName: "WH"))
    var startImportWh: Int64 = 0

    @Option(help: ArgumentHelp("power-series: the export register at the first timestamp, Wh.", valueName: "WH"))
    var startExportWh: Int64 = 0

    @Option(parsing: .singleValue, help: ArgumentHelp("opsd: only these devices (grid, pv, heat_pump, …); comma-separated or repeated.", valueName: "DEVICES"))
    var only: [String] = []

    @Option(parsing: .singleValue, help: ArgumentHelp("opsd: only these houses (DE_KN_residential4, …); comma-separated or repeated.", valueName: "HOUSES"))
    var house: [String] = []

    @Flag(help: "opsd: leave out the readings the file marks as interpolated (column interpolated_values).")
    var dropInterpolated = false

    var devices: [String] { only.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }
    var houses: [String] { house.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }

    func validate() throws {
        switch format {
        case .powerSeries:
            guard let meter else { throw ValidationError("--format power-series needs --meter ID: the series has no meter column") }
            guard TraceSample.isValidMeterID(meter) else {
                throw ValidationError("--meter '\(meter)': a meter id is 1…\(TraceSample.maximumMeterIDLength) characters of A-Z a-z 0-9 . _ : -")
            }
            if let step { guard (1...86_400).contains(step) else { throw ValidationError("--step must be 1…86400 seconds") } }
            guard startImportWh >= 0, startExportWh >= 0 else { throw ValidationError("--start-import-wh and --start-export-wh must not be negative") }
            guard only.isEmpty, house.isEmpty, !dropInterpolated else {
                throw ValidationError("--only, --house and --drop-interpolated are for --format opsd")
            }
        case .opsd:
            guard meter == nil, step == nil, startImportWh == 0, startExportWh == 0 else {
                throw ValidationError("--meter, --step, --start-import-wh and --start-export-wh are for --format power-series (OPSD meters are named <house>:<device>)")
            }
            guard !devices.contains(where: \.isEmpty), !houses.contains(where: \.isEmpty) else {
                throw ValidationError("--only and --house take comma-separated names without empty entries")
            }
        }
    }

    func run() throws {
        let inputURL = URL(fileURLWithPath: input).standardizedFileURL
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL
        guard inputURL.path != outputURL.path else { throw OperatorFailure("--output is the input file \(input): choose another file") }
        if FileManager.default.fileExists(atPath: output), !force {
            throw OperatorFailure("\(output) exists: refusing to overwrite it (use --force)")
        }
        let directory = outputURL.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OperatorFailure("cannot write \(output): the directory \(directory) does not exist")
        }
        let limits: TraceLimits = format == .opsd ? .opsd : .trace
        let bytes = try readTraceInput(input, limits: limits)
        let trace: ParsedTrace
        do {
            switch format {
            case .opsd:
                trace = try OPSDHouseholdImporter.parse(
                    bytes, options: .init(houses: houses, devices: devices, dropInterpolated: dropInterpolated), skipBad: skipBad, limits: limits)
            case .powerSeries:
                trace = try PowerSeriesImporter.parse(
                    bytes, options: .init(meterID: meter ?? "", stepMillis: step.map { $0 * 1000 }, startImportWh: startImportWh, startExportWh: startExportWh),
                    skipBad: skipBad, limits: limits)
            }
        } catch {
            throw OperatorFailure("\(input): \(error)")
        }
        guard !trace.samples.isEmpty else {
            throw OperatorFailure("\(input): no readings to import (\(trace.rowsRead) rows, \(trace.skipped) left out)" + firstReasonsText(trace))
        }
        var comments = ["imported by `gridledger trace import --format \(format.rawValue)` from \(inputURL.lastPathComponent)"]
        if format == .opsd {
            comments.append("data: Open Power System Data, Household Data (CoSSMic project), CC BY 4.0: attribute it when you share it")
        }
        let text: String
        do {
            text = try Trace.write(trace.samples, comments: comments)
        } catch {
            throw OperatorFailure("cannot write the trace: \(error)")
        }
        do {
            try Data(text.utf8).write(to: outputURL, options: force ? [.atomic] : [.withoutOverwriting])
        } catch {
            throw OperatorFailure("cannot write \(output): \(error.localizedDescription)")
        }
        print("wrote \(output): " + overviewText(trace))
        print(skippedText(trace), terminator: "")
        print(meterSummaryText(trace), terminator: "")
    }
}

/// `gridledger trace check`.
struct TraceCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a trace and summarise each meter: first and last time and registers, energy in between.",
        discussion: """
            Reads the whole trace with every rule of docs/TRACES.md (header,
            timestamps, meter ids, whole Wh registers that never decrease, time
            order) and stops at the first problem with its line and column
            (exit status 1). With --skip-bad, bad rows are left out and
            counted, the first ones listed, and the rest is summarised.

            Per meter: the number of samples, the first and last time, the
            first and last import and export registers, and the energy
            imported and exported between them (Wh and kWh).

            Examples:
              gridledger trace check residential4.csv
              gridledger trace check residential4.csv --json
              gridledger trace check messy.csv --skip-bad
            """)

    @Argument(help: ArgumentHelp("The trace file.", valueName: "FILE"))
    var file: String

    @Flag(help: "Leave out bad rows (and count them) instead of stopping at the first.")
    var skipBad = false

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let bytes = try readTraceInput(file, limits: .trace)
        let trace: ParsedTrace
        do {
            trace = try Trace.parse(bytes, skipBad: skipBad)
        } catch {
            if json {
                var detail: [String: Any] = ["reason": error.reason, "message": error.description]
                if let line = error.line { detail["line"] = line }
                if let field = error.field { detail["field"] = field }
                try printJSON(["file": file, "valid": false, "error": detail])
                throw ExitCode(1)
            }
            throw OperatorFailure("\(file): \(error)")
        }
        if json {
            try printJSON(jsonSummary(trace))
            return
        }
        print("\(file): valid, " + overviewText(trace))
        print(skippedText(trace), terminator: "")
        print(meterSummaryText(trace), terminator: "")
    }

    func jsonSummary(_ trace: ParsedTrace) -> [String: Any] {
        func energy(_ wh: Int64) -> [String: Any] { ["wh": wh, "kWh": EnergyText.kWh(wh)] }
        var object: [String: Any] = [
            "file": file, "valid": true, "rows": trace.rowsRead, "samples": trace.samples.count, "skipped": trace.skipped,
            "skipReasons": trace.skipReasons.map(\.description), "columns": trace.columns.names,
        ]
        if let span = trace.span {
            object["firstTime"] = TraceTime.text(millis: span.lowerBound)
            object["lastTime"] = TraceTime.text(millis: span.upperBound)
        }
        object["meters"] = trace.meterSummaries().map { meter -> [String: Any] in
            [
                "meter": meter.meterID, "samples": meter.samples,
                "firstTime": TraceTime.text(millis: meter.first.millis), "lastTime": TraceTime.text(millis: meter.last.millis),
                "first": ["importWh": meter.first.importWh, "exportWh": meter.first.exportWh],
                "last": ["importWh": meter.last.importWh, "exportWh": meter.last.exportWh],
                "imported": energy(meter.importedWh), "exported": energy(meter.exportedWh),
            ]
        }
        return object
    }

    func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Reads a file for a trace reader, refusing anything but a regular file of at most
/// `limits.maximumBytes`, checked before reading.
func readTraceInput(_ path: String, limits: TraceLimits) throws -> [UInt8] {
    let attributes: [FileAttributeKey: Any]
    do {
        attributes = try FileManager.default.attributesOfItem(atPath: path)
    } catch {
        throw OperatorFailure(FileManager.default.fileExists(atPath: path) ? "cannot read \(path)" : "\(path): no such file")
    }
    guard attributes[.type] as? FileAttributeType == .typeRegular else { throw OperatorFailure("\(path) is not a regular file") }
    let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
    guard size <= Int64(limits.maximumBytes) else {
        throw OperatorFailure("\(path) is \(size) bytes, more than the limit of \(limits.maximumBytes) bytes (\(limits.maximumBytes >> 20) MiB): split it")
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw OperatorFailure("cannot read \(path)") }
    return [UInt8](data)
}

/// `8 meters, 90059 samples from 11867 rows, 2015-10-04T01:00:00Z … 2017-02-09T11:00:00Z`.
func overviewText(_ trace: ParsedTrace) -> String {
    var text = "\(trace.meters.count) meter\(trace.meters.count == 1 ? "" : "s"), \(trace.samples.count) samples from \(trace.rowsRead) rows"
    if let span = trace.span { text += ", \(TraceTime.text(millis: span.lowerBound)) … \(TraceTime.text(millis: span.upperBound))" }
    return text
}

/// `skipped N: …` and the first reasons, one per line; empty when nothing was skipped.
func skippedText(_ trace: ParsedTrace) -> String {
    guard trace.skipped > 0 else { return "" }
    var text = "skipped \(trace.skipped)"
    if trace.skipped > trace.skipReasons.count { text += " (the first \(trace.skipReasons.count) listed)" }
    text += ":\n"
    for reason in trace.skipReasons { text += "  \(reason)\n" }
    return text
}

func firstReasonsText(_ trace: ParsedTrace) -> String {
    trace.skipReasons.isEmpty ? "" : "; first: \(trace.skipReasons[0])"
}

/// Per meter: samples, span, registers and energy in Wh and kWh.
func meterSummaryText(_ trace: ParsedTrace) -> String {
    var text = ""
    for meter in trace.meterSummaries() {
        text += "\(meter.meterID): \(meter.samples) samples, \(TraceTime.text(millis: meter.first.millis)) … \(TraceTime.text(millis: meter.last.millis))\n"
        text += "  import \(meter.first.importWh) → \(meter.last.importWh) Wh: \(meter.importedWh) Wh (\(EnergyText.kWh(meter.importedWh)) kWh)\n"
        text += "  export \(meter.first.exportWh) → \(meter.last.exportWh) Wh: \(meter.exportedWh) Wh (\(EnergyText.kWh(meter.exportedWh)) kWh)\n"
    }
    return text
}
