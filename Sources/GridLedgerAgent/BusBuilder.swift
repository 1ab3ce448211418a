public import DeviceProfiles
public import MeterPolling
import ModbusCore
public import ModbusTransport

/// The reader every production bus uses: libmodbus (or RTU-over-TCP framing), paced for RS-485.
public typealias ProductionReader = PacedReader<ModbusConnection>

/// How to reach one bus and which meters are on it.
public struct BusConfiguration: Sendable {
    public var name: String
    public var endpoint: ModbusEndpoint
    public var timeouts: ModbusClient.Timeouts
    public var pacing: BusPacing
    public var meters: [MeterConfiguration]

    public init(name: String, endpoint: ModbusEndpoint, timeouts: ModbusClient.Timeouts = .init(), pacing: BusPacing = .init(), meters: [MeterConfiguration]) {
        self.name = name
        self.endpoint = endpoint
        self.timeouts = timeouts
        self.pacing = pacing
        self.meters = meters
    }
}

/// One meter on a bus.
public struct MeterConfiguration: Sendable {
    public var name: String
    public var unit: UInt8
    /// A profile id, or `sunspec` for SunSpec discovery.
    public var profile: String
    public var pollIntervalMillis: Int64
    public var backoff: Backoff

    public init(name: String, unit: UInt8, profile: String, pollIntervalMillis: Int64 = 1000, backoff: Backoff = Backoff()) {
        self.name = name
        self.unit = unit
        self.profile = profile
        self.pollIntervalMillis = pollIntervalMillis
        self.backoff = backoff
    }
}

/// Builds a bus worker from configuration: used by the agent's commands and by the tests, so
/// both exercise the same path.
public func buildBus(_ configuration: BusConfiguration, catalog: ProfileCatalog) throws -> BusWorker<ProductionReader> {
    var sessions: [MeterSession] = []
    for meter in configuration.meters {
        let choice: MeterProfileChoice = meter.profile == "sunspec" ? .sunspec(catalog) : .profile(try catalog.profile(meter.profile))
        sessions.append(MeterSession(name: meter.name, unit: meter.unit, choice: choice, pollIntervalMillis: meter.pollIntervalMillis, backoff: meter.backoff))
    }
    let client = try ModbusConnection(endpoint: configuration.endpoint, timeouts: configuration.timeouts)
    return BusWorker(name: configuration.name, reader: PacedReader(client, pacing: configuration.pacing), sessions: sessions)
}
