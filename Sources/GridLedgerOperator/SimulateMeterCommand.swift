import ArgumentParser
import DeviceProfiles
import Foundation
import GridLedgerCore
import Logging
import MeterSimulator
import ModbusCore
import ModbusTransport
import ServiceLifecycle
import UnixSignals

/// `gridledger simulate-meter`: a Modbus server that behaves like a device of a profile.
struct SimulateMeterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-meter",
        abstract: "Serve a device profile's registers over Modbus TCP or RTU, like a real meter.",
        discussion: """
            Values come from a synthetic household (daily load curve, rooftop PV around noon,
            counters that integrate the simulated power), or are fixed with --value. Registers are
            encoded exactly as the profile describes (type, word order, scale), so any Modbus
            client reads what the real device would send. Runs until SIGINT/SIGTERM or --duration.

            Prints one line when ready: "serving <profile> on <endpoint>" (with the bound port
            when --tcp asks for port 0).

            Examples:
              gridledger simulate-meter --profile eastron-sdm630 --tcp 127.0.0.1:1502
              gridledger simulate-meter --profile eastron-sdm630 --tcp 127.0.0.1:0 --value energy.active.import.total=12345000
              gridledger simulate-meter --profile abb-b23-b24 --rtu /tmp/ptyB --unit 7
            """)

    @Option(name: .long, help: ArgumentHelp("Device profile id to simulate.", valueName: "ID"))
    var profile: String

    @Option(name: .long, help: ArgumentHelp("Listen for Modbus TCP (port 0 picks a free port). Loopback is the default host.", valueName: "HOST:PORT"))
    var tcp: String?

    @Option(name: .long, help: ArgumentHelp("Serve Modbus RTU on this serial device (e.g. one end of a socat pty pair).", valueName: "DEVICE"))
    var rtu: String?

    @Option(name: .long, help: "RTU baud rate.")
    var baud: Int = 9600

    @Option(name: .long, help: "Unit id to answer. TCP answers every unit id when omitted; RTU defaults to 1.")
    var unit: Int?

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Fix a quantity's value, in the vocabulary's unit (Wh, W, V, A, Hz). Repeatable.", valueName: "QUANTITY=VALUE"))
    var value: [String] = []

    @Option(name: .long, help: "Seed varying the synthetic household's curve.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Serial number the identification registers report.")
    var serial: UInt64 = 12_345_678

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp("Directory of device profiles.", valueName: "DIR"))
    var profiles: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "notice"

    func validate() throws {
        guard (tcp == nil) != (rtu == nil) else { throw ValidationError("give exactly one of --tcp HOST:PORT or --rtu DEVICE") }
        if let unit { guard (1...247).contains(unit) else { throw ValidationError("--unit must be 1…247") } }
        _ = try fixedValues()
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical") }
        if let duration { guard duration > 0, duration <= 31_536_000 else { throw ValidationError("--duration must be positive") } }
    }

    func fixedValues() throws -> [Quantity: ScaledValue] {
        var fixed: [Quantity: ScaledValue] = [:]
        for entry in value {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let quantity = Quantity(rawValue: parts[0]) else {
                throw ValidationError("--value '\(entry)': expected QUANTITY=VALUE with a quantity id such as energy.active.import.total")
            }
            guard let number = ScaledValue(decimalString: parts[1]) else {
                throw ValidationError("--value '\(entry)': '\(parts[1])' is not a decimal number")
            }
            fixed[quantity] = number
        }
        return fixed
    }

    func run() async throws {
        let catalog: ProfileCatalog
        let deviceProfile: DeviceProfile
        do {
            catalog = try ProfileCatalog.locate(directory: profiles)
            deviceProfile = try catalog.profile(profile)
        } catch {
            throw OperatorFailure("\(error)")
        }
        guard deviceProfile.kind != .sunspecModel else {
            throw OperatorFailure("'\(profile)' is a SunSpec model, not a device; simulate a meter or inverter profile")
        }
        let endpoint: ModbusEndpoint
        do {
            if let tcp {
                endpoint = try ModbusEndpoint(parsing: tcp.hasPrefix("tcp://") ? tcp : "tcp://\(tcp)")
            } else {
                endpoint = try ModbusEndpoint(parsing: "rtu://\(rtu!)?baud=\(baud)")
            }
        } catch {
            throw ValidationError("\(error)")
        }
        var logger = Logger(label: "gridledger.simulator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        let fixed = try fixedValues()
        let clock = SimulatorClock()
        let household = SyntheticHousehold(startMillis: clock.nowMillis(), seed: seed)
        let generator: any ValueGenerator = fixed.isEmpty ? household : OverlaidValues(base: household, fixed: fixed)
        let effectiveUnit: UInt8? = unit.map(UInt8.init) ?? (rtu != nil ? 1 : nil)
        let simulator: SimulatorServer
        do {
            simulator = try await SimulatorServer.start(.init(profile: deviceProfile, endpoint: endpoint, unit: effectiveUnit, generator: generator, clock: clock, serialNumber: serial))
        } catch {
            throw OperatorFailure("cannot serve on \(endpoint): \(error)")
        }
        var shown = endpoint.description
        if case .tcp(let host, _) = endpoint, let port = simulator.port {
            shown = host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
        // Unbuffered, so a script or test waiting for this line sees it at once.
        FileHandle.standardOutput.write(Data(("serving \(deviceProfile.id) on \(shown)" + (effectiveUnit.map { " unit \($0)" } ?? "") + "\n").utf8))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: SimulatorService(simulator: simulator, logger: logger))]
        if let duration { services.append(.init(service: StopAfter(seconds: duration), successTerminationBehavior: .gracefullyShutdownGroup)) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Ends the service group after a fixed time.
struct StopAfter: Service {
    var seconds: Double
    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
    }
}

/// A generator with some quantities pinned to fixed values.
struct OverlaidValues: ValueGenerator {
    var base: any ValueGenerator
    var fixed: [Quantity: ScaledValue]
    func values(atMillis millis: Int64) -> [Quantity: ScaledValue] {
        base.values(atMillis: millis).merging(fixed) { _, pinned in pinned }
    }
}

struct OperatorFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

