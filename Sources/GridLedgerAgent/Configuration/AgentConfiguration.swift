@_exported public import ServiceConfiguration

/// Everything `gridledger-agent run` needs, as read from its YAML file (see docs/AGENT.md).
///
/// ```swift
/// let configuration = try AgentConfiguration.load(path: "/etc/gridledger/agent.yaml")
/// let agent = try buildAgent(configuration: configuration, logger: logger)
/// ```
public struct AgentConfiguration: Sendable {
    /// The gateway's id: the first part of every meter id and a level of every MQTT topic.
    public var gatewayID: String
    /// Where the outbox, chain state and (by default) the key live.
    public var stateDirectory: String
    /// The gateway's Ed25519 key (mode 0600), made by `gridledger-agent keygen`.
    public var keyFile: String
    /// Directory of device profiles; `nil` looks in the usual places.
    public var profilesDirectory: String?
    public var broker: BrokerConfiguration
    public var outbox: OutboxConfiguration
    public var metrics: MetricsConfiguration
    public var buses: [AgentBus]

    public init(
        gatewayID: String, stateDirectory: String, keyFile: String? = nil, profilesDirectory: String? = nil,
        broker: BrokerConfiguration, outbox: OutboxConfiguration = .init(), metrics: MetricsConfiguration = .init(), buses: [AgentBus]
    ) {
        self.gatewayID = gatewayID
        self.stateDirectory = stateDirectory
        self.keyFile = keyFile ?? "\(stateDirectory)/gateway.key"
        self.profilesDirectory = profilesDirectory
        self.broker = broker
        self.outbox = outbox
        self.metrics = metrics
        self.buses = buses
    }

    /// The outbox database in the state directory.
    public var outboxPath: String { "\(stateDirectory)/outbox.sqlite" }
}

/// How many signed records the outbox keeps, how they are sent, and how often unconfirmed ones
/// are sent again.
public struct OutboxConfiguration: Sendable {
    public static let defaultRecordsPerMessage = 64

    /// At this many records, old records are thinned (docs/OUTBOX.md).
    public var bound: Int
    /// A published record not confirmed within this time is published again.
    public var republishAfterMillis: Int64
    /// Envelopes per MQTT message: above 1 they go out as bundles on the gateway's `readings`
    /// topic, 1 sends each on its meter's `reading` topic (docs/MQTT.md).
    public var recordsPerMessage: Int

    public init(bound: Int = 100_000, republishAfterMillis: Int64 = 300_000, recordsPerMessage: Int = defaultRecordsPerMessage) {
        self.bound = bound
        self.republishAfterMillis = republishAfterMillis
        self.recordsPerMessage = recordsPerMessage
    }
}

/// Where the agent reports its counters.
public struct MetricsConfiguration: Sendable {
    /// Interval of the summary log line; 0 turns it off.
    public var logIntervalMillis: Int64
    /// A Prometheus text-format file rewritten on every interval (for node_exporter's textfile
    /// collector); `nil` for none.
    public var textfile: String?

    public init(logIntervalMillis: Int64 = 60_000, textfile: String? = nil) {
        self.logIntervalMillis = logIntervalMillis
        self.textfile = textfile
    }
}

/// One bus of the agent and its meters.
public struct AgentBus: Sendable {
    public var bus: BusConfiguration
    public var meters: [AgentMeter]

    public init(bus: BusConfiguration, meters: [AgentMeter]) {
        self.bus = bus
        self.meters = meters
    }
}

/// What the agent knows about a meter beyond how to poll it.
public struct AgentMeter: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case grid, pv, battery, load
    }

    public var name: String
    public var unit: UInt8
    public var role: Role
    /// The meter is mounted the other way round: power signs flip and import/export swap.
    public var invert: Bool

    public init(name: String, unit: UInt8, role: Role, invert: Bool = false) {
        self.name = name
        self.unit = unit
        self.role = role
        self.invert = invert
    }
}
