import ServiceConfiguration
public import AgentOutbox
public import DeviceProfiles
import AsyncAlgorithms
import Foundation
public import GridLedgerCore
public import GridLedgerRecords
public import Logging
public import MQTTTransport
public import MeterPolling
public import ServiceLifecycle
public import UnixSignals

/// A built agent: its services in one group, and handles for tests and the command.
public struct Agent: Sendable {
    public let group: ServiceGroup
    public let metrics: AgentMetrics
    public let outbox: Outbox
    public let client: MQTTClient
    public let topics: GatewayTopics

    public func run() async throws { try await group.run() }
}

/// Why the agent cannot start, in one line for the operator.
public struct AgentStartupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Builds the agent from its configuration: used by `gridledger-agent run` and by the tests, so
/// both exercise what ships.
///
/// Services, started in this order and shut down in reverse on SIGTERM or SIGINT:
/// MQTT connection, publisher, signer, poller, metrics, systemd watchdog. Polling stops first
/// and its last cycle is signed and stored; the publisher stops; the MQTT service publishes
/// `offline` and disconnects.
///
/// - Parameter catalog: device profiles already loaded (a process building many agents loads
///   them once); nil loads them from `configuration.profilesDirectory`.
public func buildAgent(
    configuration: AgentConfiguration, logger: Logger, clock: any WallClock = SystemWallClock(),
    catalog: ProfileCatalog? = nil,
    clockSynchronized: @escaping @Sendable () -> Bool = ClockSynchronization.isSynchronized,
    environment: [String: String]? = nil,
    shutdownSignals: [UnixSignal] = [.sigterm, .sigint]
) throws -> Agent {
    let environment = environment ?? ProcessInfo.processInfo.environment
    try prepareStateDirectory(configuration.stateDirectory)
    let key = try KeyFile.load(from: configuration.keyFile)
    let catalog = try catalog ?? loadCatalog(configuration.profilesDirectory)
    let topics = GatewayTopics(gatewayID: configuration.gatewayID)

    let outbox: Outbox
    let heads: [String: ChainHead]
    let batchSequence: UInt64
    let bindings: [String: String]
    try guardAgainstLostChainState(configuration)
    do {
        outbox = try Outbox(path: configuration.outboxPath, bound: configuration.outbox.bound)
        heads = try outbox.chainHeads()
        batchSequence = try outbox.lastBatchSequence()
        bindings = try outbox.meterBindings()
    } catch {
        throw AgentStartupError("cannot open the outbox \(configuration.outboxPath): \(error)")
    }

    var buses: [BusWorker<ProductionReader>] = []
    var meters: [String: AgentMeter] = [:]
    for agentBus in configuration.buses {
        buses.append(try buildBus(agentBus.bus, catalog: catalog))
        for meter in agentBus.meters { meters[MeterDirectory.bindingKey(bus: agentBus.bus.name, unit: meter.unit)] = meter }
    }

    let client = try MQTTClient(configuration: try mqttConfiguration(configuration, topics: topics), logger: logger)
    let metrics = AgentMetrics()
    let queue = BlockingQueue(label: "gridledger.outbox")
    let doorbell = Doorbell()
    let cycles = AsyncChannel<[PolledReading]>()
    let assembler = RecordAssembler(
        signer: BatchSigner(gatewayID: configuration.gatewayID, key: key), meters: meters, heads: heads,
        batchSequence: batchSequence, bindings: bindings)

    let poller = MeterPoller(
        buses: buses, clock: clock, logger: logger, cycleTime: { duration in metrics.update { $0.modbusMicros += duration.wholeMicroseconds } }
    ) { readings in await cycles.send(readings) }
    let signing = SigningService(
        assembler: assembler, outbox: outbox, queue: queue, cycles: cycles, metrics: metrics, clock: clock,
        clockSynchronized: clockSynchronized, logger: logger, stored: { doorbell.ring() })
    let publisher = PublisherService(
        client: client, outbox: outbox, queue: queue, topics: topics, doorbell: doorbell, metrics: metrics, clock: clock,
        republishAfterMillis: configuration.outbox.republishAfterMillis, recordsPerMessage: configuration.outbox.recordsPerMessage, logger: logger)
    let longestInterval = configuration.buses.flatMap(\.bus.meters).map(\.pollIntervalMillis).max() ?? 1000
    let watchdog = WatchdogService(
        notifier: SystemdNotifier(environment: environment), interval: SystemdNotifier.watchdogInterval(environment: environment),
        metrics: metrics, clock: clock, staleAfterMillis: max(60_000, 5 * longestInterval), startedMillis: clock.nowMillis(), logger: logger)
    let reporter = MetricsService(
        metrics: metrics, outbox: outbox, queue: queue, buses: buses,
        names: meters.mapValues(\.name), gatewayID: configuration.gatewayID, configuration: configuration.metrics, logger: logger)

    let group = ServiceGroup(configuration: ServiceGroupConfiguration(
        services: [
            .init(service: MQTTService(client: client, logger: logger)),
            .init(service: publisher),
            .init(service: signing),
            .init(service: PollingService(poller: poller, cycles: cycles)),
            .init(service: reporter),
            .init(service: watchdog),
        ],
        gracefulShutdownSignals: shutdownSignals,
        logger: logger))
    logger.info(
        "agent built",
        metadata: [
            "gateway.id": "\(configuration.gatewayID)", "meters.count": "\(meters.count)", "buses.count": "\(buses.count)",
            "outbox.depth": "\((try? outbox.depth()) ?? -1)", "mqtt.broker": "\(configuration.broker.host):\(configuration.broker.port)",
        ])
    return Agent(group: group, metrics: metrics, outbox: outbox, client: client, topics: topics)
}

/// The outbox holds every meter's last sequence number and hash. If it vanished (deleted, disk
/// replaced) while the key stayed, starting again would begin every chain at sequence 1 and
/// sign a second history under numbers already used: an equivocation. A marker written beside
/// the outbox on first start tells that case from a first start.
func guardAgainstLostChainState(_ configuration: AgentConfiguration) throws {
    let marker = "\(configuration.stateDirectory)/chains.started"
    let outboxExists = FileManager.default.fileExists(atPath: configuration.outboxPath)
    if !outboxExists, FileManager.default.fileExists(atPath: marker) {
        throw AgentStartupError(
            "\(configuration.outboxPath) is missing, but this gateway has signed records before (\(marker) exists): "
                + "starting again would reuse sequence numbers. Restore the outbox from a backup; or, to start new chains "
                + "deliberately (the aggregator will flag every meter's restart at sequence 1), delete \(marker).")
    }
    if !FileManager.default.fileExists(atPath: marker) {
        guard FileManager.default.createFile(atPath: marker, contents: Data("chains of this gateway started\n".utf8), attributes: [.posixPermissions: 0o600]) else {
            throw AgentStartupError("cannot write \(marker)")
        }
    }
}

/// The state directory must exist and belong to us alone: it holds the key and the outbox.
func prepareStateDirectory(_ path: String) throws {
    var info = stat()
    if stat(path, &info) != 0 {
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw AgentStartupError("cannot create the state directory \(path): \(String(cString: strerror(errno)))")
        }
        return
    }
    guard info.st_mode & S_IFMT == S_IFDIR else { throw AgentStartupError("\(path) is not a directory") }
    guard access(path, W_OK) == 0 else { throw AgentStartupError("the state directory \(path) is not writable") }
}

func mqttConfiguration(_ configuration: AgentConfiguration, topics: GatewayTopics) throws -> MQTTConfiguration {
    var mqtt = try configuration.broker.mqttConfiguration(defaultClientID: "gridledger-agent-\(configuration.gatewayID)")
    mqtt.will = MQTTMessage(topic: topics.status, payload: Array("offline".utf8), qos: 1, retain: true)
    mqtt.birth = MQTTMessage(topic: topics.status, payload: Array("online".utf8), qos: 1, retain: true)
    return mqtt
}
