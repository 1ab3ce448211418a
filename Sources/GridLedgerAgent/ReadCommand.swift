import ArgumentParser
import DeviceProfiles
import Foundation
import GridLedgerCore
import MeterPolling

/// `gridledger-agent read`: one device, one-shot (or a few polls), printed with units or as JSON.
struct ReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read one meter and print its values.",
        discussion: """
            Reads every quantity the device profile defines, in as few Modbus requests as the
            device allows, and prints the values in normalised units (energy in Wh, power in W).
            Use --profile sunspec to discover a SunSpec device's models instead of naming a profile.

            Examples:
              gridledger-agent read --profile eastron-sdm630 --tcp 127.0.0.1:1502 --unit 1
              gridledger-agent read --profile eastron-sdm120 --rtu /dev/ttyUSB0 --baud 9600 --unit 3 --json
              gridledger-agent read --profile sunspec --tcp 192.0.2.10:502 --unit 126 --count 5 --interval 2
              gridledger-agent read --profile abb-b23-b24 --rtu-over-tcp 192.0.2.20:8899 --unit 2

            Exit status: 0 when every poll returned values, 1 when a poll failed, 64 for bad options.
            """)

    @Option(name: .long, help: ArgumentHelp("Device profile id (see firmware-profiles/), or 'sunspec'.", valueName: "ID"))
    var profile: String

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "Modbus unit id (slave address) of the device, 1…247.")
    var unit: Int = 1

    @Option(name: .long, help: "Number of polls.")
    var count: Int = 1

    @Option(name: .long, help: ArgumentHelp("Seconds between polls.", valueName: "SECONDS"))
    var interval: Double = 1

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .long, help: "Also print how many Modbus requests one reading needs.")
    var showRequests = false

    @Option(name: .long, help: ArgumentHelp("Directory of device profiles (default: ./firmware-profiles, $GRIDLEDGER_PROFILES, or the install location).", valueName: "DIR"))
    var profiles: String?

    func validate() throws {
        guard (1...247).contains(unit) else { throw ValidationError("--unit must be 1…247") }
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be 1…100000") }
        guard interval >= 0.05, interval <= 86_400 else { throw ValidationError("--interval must be 0.05…86400 seconds") }
    }

    func run() async throws {
        let catalog = try loadCatalog(profiles)
        if profile != "sunspec" { _ = try catalogProfile(catalog, profile) }
        let meter = MeterConfiguration(name: "meter", unit: UInt8(unit), profile: profile, pollIntervalMillis: Int64(interval * 1000), backoff: Backoff(initialDelayMillis: 1, maximumDelayMillis: 1))
        let bus = try buildBus(BusConfiguration(name: "cli", endpoint: try connection.endpoint(), timeouts: connection.timeouts, meters: [meter]), catalog: catalog)
        var polled: [PolledReading] = []
        let clock = SystemWallClock()
        for poll in 0..<count {
            if poll > 0 { try await Task.sleep(for: .milliseconds(Int(interval * 1000))) }
            polled += await bus.pollDueMetersIgnoringSchedule(clock: clock)
        }
        let allFailed = polled.allSatisfy { $0.reading.status == .failed }
        if json {
            print(try ReadingPresentation.json(polled), terminator: "")
        } else if !allFailed {
            print(ReadingPresentation.table(polled.map(\.reading)), terminator: "")
        }
        if showRequests, let session = await bus.sessions().first {
            print("Modbus requests per reading: \(session.requestsPerReading)")
        }
        if let failure = polled.first(where: { $0.reading.status == .failed }) {
            throw CommandFailure("reading \(try connection.endpoint()) unit \(unit) failed: \(failure.reading.problems.joined(separator: "; "))")
        }
    }
}

/// An error that ends a command with a one-line message and exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func loadCatalog(_ directory: String?) throws -> ProfileCatalog {
    do {
        return try ProfileCatalog.locate(directory: directory)
    } catch {
        throw CommandFailure("\(error)")
    }
}

func catalogProfile(_ catalog: ProfileCatalog, _ id: String) throws -> DeviceProfile {
    do {
        return try catalog.profile(id)
    } catch {
        throw CommandFailure("\(error)")
    }
}
