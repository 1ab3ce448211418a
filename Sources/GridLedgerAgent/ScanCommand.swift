import ArgumentParser
import DeviceProfiles
import Foundation
import MeterPolling
import ModbusCore

/// `gridledger-agent scan`: find known devices on a bus or host.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Find known devices on a bus or host.",
        discussion: """
            Asks each unit id for the identification registers of every device profile, and looks
            for a SunSpec model chain (the 'SunS' marker at 40000, 50000 or 0). Prints each device
            found with the profile and unit id to put in the agent's configuration.

            A silent unit id costs one response timeout: keep --units short on a serial bus, or
            lower --timeout (devices on a healthy RS-485 bus answer within ~50 ms).

            Examples:
              gridledger-agent scan --rtu /dev/ttyUSB0 --baud 9600 --units 1-16 --timeout 200
              gridledger-agent scan --tcp 192.0.2.10:502 --units 1,126,240
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Unit ids to try: a list and/or ranges, e.g. 1-10,126,240.", valueName: "LIST"))
    var units: String = "1-10"

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Directory of device profiles.", valueName: "DIR"))
    var profiles: String?

    func validate() throws {
        _ = try Self.parseUnits(units)
    }

    static func parseUnits(_ text: String) throws -> [UInt8] {
        var result: [UInt8] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!, (1...247).contains(low), (low...247).contains(high) else {
                throw ValidationError("--units: '\(part)' is not a unit id or range within 1…247")
            }
            result += (low...high).map { UInt8($0) }
        }
        guard !result.isEmpty else { throw ValidationError("--units is empty") }
        return Array(Set(result)).sorted()
    }

    struct Found: Encodable {
        var unit: UInt8
        var profile: String
        var serialNumber: String?
        var reportedModel: String?
        var sunspecModels: [UInt16]?
        var sunspecBase: UInt16?
    }

    func run() async throws {
        let catalog = try loadCatalog(profiles)
        let unitIDs = try Self.parseUnits(units)
        let bus = try buildBus(BusConfiguration(name: "scan", endpoint: try connection.endpoint(), timeouts: connection.timeouts, meters: []), catalog: catalog)
        var found: [Found] = []
        var silent = 0
        var linkError: String?
        for unit in unitIDs {
            let result: Result<[IdentifiedDevice], ModbusError> = await bus.withReader { reader in
                Result { () throws(ModbusError) in try DeviceIdentifier.identify(unit: unit, reader: &reader, catalog: catalog) }
            }
            switch result {
            case .success(let devices):
                for device in devices {
                    switch device.match {
                    case .profile(let id):
                        found.append(Found(unit: unit, profile: id, serialNumber: device.serialNumber, reportedModel: device.reportedModel))
                    case .sunspec(let map):
                        found.append(Found(unit: unit, profile: "sunspec", serialNumber: device.serialNumber, reportedModel: device.reportedModel, sunspecModels: map.models.map(\.id), sunspecBase: map.baseAddress))
                    }
                }
            case .failure(.connection(let detail)):
                linkError = detail
            case .failure:
                silent += 1
            }
            if linkError != nil { break }
        }
        if let linkError { throw CommandFailure("cannot reach \(try connection.endpoint()): \(linkError)") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(found), as: UTF8.self))
            return
        }
        if found.isEmpty {
            print("No known device found on units \(units) (\(silent) unit(s) did not answer).")
            return
        }
        var rows = [["unit", "profile", "serial", "details"]]
        for device in found {
            var details = device.reportedModel ?? ""
            if let models = device.sunspecModels {
                details += (details.isEmpty ? "" : "; ") + "SunSpec at \(device.sunspecBase!), models \(models.map(String.init).joined(separator: ","))"
            }
            rows.append([String(device.unit), device.profile, device.serialNumber ?? "-", details])
        }
        print(ReadingPresentation.render(rows, rightAligned: 99), terminator: "")
        print("\nConfiguration entries:")
        for device in found {
            print("  - {unit: \(device.unit), profile: \(device.profile)}")
        }
    }
}
