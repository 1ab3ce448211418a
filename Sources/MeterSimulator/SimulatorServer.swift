public import DeviceProfiles
import Foundation
public import GridLedgerCore
public import Logging
public import ModbusCore
public import ModbusTransport
public import ServiceLifecycle
import Synchronization

/// A running simulated meter: a libmodbus server on a thread of its own.
///
/// ```swift
/// let simulator = try await SimulatorServer.start(.init(profile: sdm630, endpoint: .tcp(host: "127.0.0.1", port: 0)))
/// print(simulator.port!)   // the bound port
/// await simulator.stop()
/// ```
public final class SimulatorServer: Sendable {
    public struct Configuration: Sendable {
        public var profile: DeviceProfile
        public var endpoint: ModbusEndpoint
        /// Unit id answered; nil answers every unit (TCP only; RTU always answers one unit).
        public var unit: UInt8?
        public var generator: any ValueGenerator
        public var clock: any WallClock
        public var serialNumber: UInt64
        /// More devices of the same profile behind the same endpoint, each answering its own
        /// unit id (meters sharing a bus); needs `unit` for the first.
        public var otherUnits: [SimulatedUnit]

        public init(
            profile: DeviceProfile, endpoint: ModbusEndpoint, unit: UInt8? = nil, generator: (any ValueGenerator)? = nil,
            clock: any WallClock = SimulatorClock(), serialNumber: UInt64 = 12_345_678, otherUnits: [SimulatedUnit] = []
        ) {
            self.profile = profile
            self.endpoint = endpoint
            self.unit = unit
            self.clock = clock
            self.generator = generator ?? SyntheticHousehold(startMillis: clock.nowMillis())
            self.serialNumber = serialNumber
            self.otherUnits = otherUnits
        }
    }

    /// A further device on the simulator's endpoint.
    public struct SimulatedUnit: Sendable {
        public var unit: UInt8
        public var generator: any ValueGenerator
        public var serialNumber: UInt64

        public init(unit: UInt8, generator: any ValueGenerator, serialNumber: UInt64) {
            self.unit = unit
            self.generator = generator
            self.serialNumber = serialNumber
        }
    }

    public let configuration: Configuration
    /// The TCP port actually bound (nil for RTU).
    public let port: Int?
    private let stopRequested: Atomic<Bool>
    private let finished: Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>
    private let served: Atomic<Int>

    private init(configuration: Configuration, port: Int?) {
        self.configuration = configuration
        self.port = port
        self.stopRequested = Atomic(false)
        finished = Mutex((false, []))
        served = Atomic(0)
    }

    /// Binds the endpoint and starts serving. Throws if the port is taken or the device cannot
    /// be opened.
    public static func start(_ configuration: Configuration) async throws(ModbusError) -> SimulatorServer {
        let units = [configuration.unit] + configuration.otherUnits.map(\.unit)
        guard configuration.otherUnits.isEmpty || (configuration.unit != nil && Set(units).count == units.count) else {
            throw .invalidRequest("devices sharing an endpoint need distinct unit ids")
        }
        let result: Result<SimulatorServer, ModbusError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                let server: ModbusServer
                do throws(ModbusError) {
                    server = try ModbusServer(endpoint: configuration.endpoint, rtuUnit: configuration.unit ?? 1)
                } catch {
                    continuation.resume(returning: .failure(error))
                    return
                }
                let simulator = SimulatorServer(configuration: configuration, port: server.boundPort)
                continuation.resume(returning: .success(simulator))
                let first = SimulatedRegisterMap(
                    profile: configuration.profile, unit: configuration.unit, generator: configuration.generator,
                    clock: configuration.clock, serialNumber: configuration.serialNumber)
                let others = configuration.otherUnits.map {
                    SimulatedRegisterMap(profile: configuration.profile, unit: $0.unit, generator: $0.generator, clock: configuration.clock, serialNumber: $0.serialNumber)
                }
                let responder: any RegisterResponder = others.isEmpty ? first : SimulatedBus(devices: [first] + others)
                server.serve(responder: responder) {
                    simulator.served.store(server.requestsServed, ordering: .relaxed)
                    return simulator.stopRequested.load(ordering: .relaxed)
                }
                simulator.served.store(server.requestsServed, ordering: .relaxed)
                let waiters = simulator.finished.withLock { state in
                    state.done = true
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
            }
            thread.name = "gridledger.simulator"
            thread.start()
        }
        return try result.get()
    }

    /// Requests served so far.
    public var requestsServed: Int { served.load(ordering: .relaxed) }

    /// Stops serving and waits until the server thread has closed its socket or port.
    public func stop() async {
        stopRequested.store(true, ordering: .relaxed)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyDone = finished.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if alreadyDone { continuation.resume() }
        }
    }
}

/// Several simulated devices on one endpoint: a request goes to the device of its unit id; an
/// unknown unit gets no answer, as on a bus.
final class SimulatedBus: RegisterResponder {
    private let devices: [UInt8: SimulatedRegisterMap]

    init(devices: [SimulatedRegisterMap]) {
        self.devices = Dictionary(devices.compactMap { map in map.unit.map { ($0, map) } }, uniquingKeysWith: { first, _ in first })
    }

    func respond(unit: UInt8, span: RegisterSpan) -> ModbusAnswer? {
        devices[unit]?.respond(unit: unit, span: span)
    }
}

/// The wall clock the simulator uses by default.
public struct SimulatorClock: WallClock {
    public init() {}
    public func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// A simulated meter as a `Service`: serves until graceful shutdown, then closes its port.
public struct SimulatorService: Service {
    public let simulator: SimulatorServer
    private let logger: Logger

    public init(simulator: SimulatorServer, logger: Logger) {
        self.simulator = simulator
        self.logger = logger
    }

    public func run() async throws {
        logger.info("simulated meter serving", metadata: [
            "simulator.endpoint": "\(simulator.configuration.endpoint)", "simulator.port": "\(simulator.port.map(String.init) ?? "-")",
            "profile.id": "\(simulator.configuration.profile.id)",
        ])
        try? await gracefulShutdown()
        await simulator.stop()
        logger.info("simulated meter stopped", metadata: ["simulator.requests": "\(simulator.requestsServed)"])
    }
}
