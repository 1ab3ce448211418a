import Crypto
public import MeterPolling
import Foundation
public import GridLedgerCore
import LedgerCore
public import LedgerStore
public import Logging
public import MQTTTransport
import ServiceConfiguration
public import ServiceLifecycle
public import UnixSignals

/// A built aggregator: its service group and the parts tests and the HTTP API look at.
public struct Aggregator: Sendable {
    public let group: ServiceGroup
    public let store: SQLiteLedgerStore
    public let engine: LedgerEngine
    public let metrics: AggregatorMetrics
    public let client: MQTTClient
    public let publicKey: [UInt8]

    public func run() async throws { try await group.run() }
}

public struct AggregatorStartupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Extra services composed into the aggregator's group (the HTTP read API), built from the
/// aggregator's parts so that this module does not link the HTTP server.
public typealias AggregatorExtension = @Sendable (_ store: SQLiteLedgerStore, _ engine: LedgerEngine, _ metrics: AggregatorMetrics,
                                                   _ publicKey: [UInt8]) throws -> [any Service]

/// Builds the aggregator from its configuration; `main` and the tests both use this.
public func buildAggregator(
    configuration: AggregatorConfiguration, logger: Logger, clock: any WallClock = SystemWallClock(),
    extensions: [AggregatorExtension] = [], shutdownSignals: [UnixSignal] = [.sigterm, .sigint]
) throws -> Aggregator {
    try prepareDirectory(configuration.stateDirectory)
    let key = try KeyFile.load(from: configuration.keyFile, creationHint: "gridledger-aggregator keygen --config <file>")
    let publicKey = Array(key.publicKey.rawRepresentation)
    let store: SQLiteLedgerStore
    let registry: Registry
    let heads: [String: MeterHead]
    do {
        store = try SQLiteLedgerStore(path: configuration.databaseFile, access: .aggregator(publicKey: publicKey), compressionLevel: configuration.blocks.compressionLevel)
        var replayed = Registry()
        for entry in try store.recordedRegistryEntries() { try replayed.apply(entry.change) }
        registry = replayed
        heads = try store.heads()
    } catch {
        throw AggregatorStartupError("cannot open the ledger \(configuration.databaseFile): \(error)")
    }
    let metrics = AggregatorMetrics()
    let engine = LedgerEngine(registry: registry, heads: heads, rules: configuration.rules, metrics: metrics, logger: logger)

    var mqtt = try configuration.broker.mqttConfiguration(defaultClientID: "gridledger-aggregator")
    mqtt.maximumInFlight = 1000
    mqtt.persistentSession = true
    let lanes = IngestLanes(
        workers: configuration.ingest.workers, capacity: configuration.ingest.bufferMessages, byteCapacity: configuration.ingest.bufferBytes, metrics: metrics)
    let client = try MQTTClient(configuration: mqtt, messageSink: lanes, logger: logger)
    let confirmations = ConfirmationQueue(committed: heads.mapValues(\.sequence))
    let minter = try MinterService(
        engine: engine, store: store, confirmations: confirmations, key: key, settings: configuration.blocks, clock: clock, logger: logger)
    let ingest = IngestService(
        client: client, lanes: lanes, engine: engine, maximumRecords: configuration.blocks.maximumRecords,
        clock: clock, blockDue: { minter.blockDue() }, logger: logger)

    // Graceful shutdown runs from the last service to the first: extensions (HTTP) stop, ingest
    // stops taking messages, the minter commits what was admitted, its confirmations go out, MQTT
    // goes last.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: MQTTService(client: client, logger: logger)),
        .init(service: ConfirmationService(queue: confirmations, client: client, metrics: metrics, logger: logger)),
        .init(service: minter),
        .init(service: ingest),
    ]
    for makeServices in extensions {
        for service in try makeServices(store, engine, metrics, publicKey) { services.append(.init(service: service)) }
    }
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: shutdownSignals, logger: logger))
    let latest = try? store.latestHeader()
    logger.info("aggregator built", metadata: [
        "aggregator.key": "\(KeyID.fingerprint(publicKey))", "block.height": "\(latest.map { "\($0.height)" } ?? "none")",
        "registry.meters": "\(registry.meters.count)", "mqtt.broker": "\(mqtt.broker)",
    ])
    return Aggregator(group: group, store: store, engine: engine, metrics: metrics, client: client, publicKey: publicKey)
}

func prepareDirectory(_ path: String) throws {
    var info = stat()
    if stat(path, &info) != 0 {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AggregatorStartupError("cannot create the state directory \(path): \(error.localizedDescription)")
        }
        return
    }
    guard info.st_mode & S_IFMT == S_IFDIR else { throw AggregatorStartupError("\(path) is not a directory") }
    guard access(path, W_OK) == 0 else { throw AggregatorStartupError("the state directory \(path) is not writable") }
}
