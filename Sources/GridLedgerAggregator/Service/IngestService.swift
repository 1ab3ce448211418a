import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Logging
import MQTTTransport
import ServiceLifecycle

/// Authenticates the record envelopes queued in the ``IngestLanes`` (one per reading topic
/// message, several per bundle) and admits them into the ledger engine, one worker per lane.
///
/// A worker takes what its lane holds (up to a batch), authenticates each record (signature,
/// Merkle path, registry) outside any lock, then admits the whole batch in order under one lock:
/// under load the per-message hand-offs and lock round trips are paid once per batch.
struct IngestService: Service {
    let client: MQTTClient
    let lanes: IngestLanes
    let engine: LedgerEngine
    let maximumRecords: Int
    let clock: any WallClock
    let blockDue: @Sendable () -> Void
    let logger: Logger

    /// Small enough that a batch's authentication does not hold back the block it belongs to:
    /// 256 single envelopes, or bundles up to 256 KiB (≈ 600 typical envelopes, ≈ 10 ms).
    static let batchLimit = 256
    static let batchBytes = 256 << 10

    func run() async throws {
        try client.subscribe(GatewayTopics.everyReading, qos: 1)
        try client.subscribe(GatewayTopics.everyBundle, qos: 1)
        let verifier = RecordVerifier(cacheLimit: 65536)
        await withTaskGroup(of: Void.self) { group in
            for lane in lanes.lanes {
                group.addTask { await work(lane, verifier: verifier) }
            }
            await withGracefulShutdownHandler {
                await group.waitForAll()
            } onGracefulShutdown: {
                lanes.finish()
            }
        }
        logger.info("ingest stopped")
    }

    private func work(_ lane: IngestLane, verifier: RecordVerifier) async {
        while true {
            let batch = await lane.take(upTo: Self.batchLimit, bytes: Self.batchBytes)
            if batch.isEmpty { return }
            var admissions: [(result: Result<AuthenticatedRecord, Refusal>, payload: [UInt8], topic: String)] = []
            admissions.reserveCapacity(batch.count)
            let started = ContinuousClock.now
            // The ledger checks the registry again under its lock, so a snapshot per batch will do.
            let registry = engine.registry
            for message in batch {
                authenticate(message, registry: registry, verifier: verifier, into: &admissions)
            }
            engine.metrics.authenticationMicros.add((ContinuousClock.now - started).wholeMicroseconds, ordering: .relaxed)
            let pending = engine.admit(admissions, receivedMillis: clock.nowMillis())
            if pending >= maximumRecords { blockDue() }
        }
    }

    /// Authenticates the envelope of a per-meter reading topic, or each envelope of a bundle in
    /// order; a bundle whose framing is broken is refused whole, as one malformed message.
    private func authenticate(
        _ message: MQTTMessage, registry: Registry, verifier: RecordVerifier,
        into admissions: inout [(result: Result<AuthenticatedRecord, Refusal>, payload: [UInt8], topic: String)]
    ) {
        guard let claim = GatewayTopics.parseIngest(message.topic) else {
            admissions.append((.failure(.topicMismatch("not a reading topic")), message.payload, message.topic))
            return
        }
        guard claim.meterID == nil else {
            engine.metrics.receivedRecords.add(1, ordering: .relaxed)
            admissions.append((registry.authenticate(message.payload, topic: claim, verifier: verifier), message.payload, message.topic))
            return
        }
        guard message.payload.count <= ReadingBundle.maximumSize else {
            admissions.append((.failure(.oversized(message.payload.count)), message.payload, message.topic))
            return
        }
        let bundle: ReadingBundle
        do {
            bundle = try ReadingBundle(decoding: message.payload)
        } catch {
            admissions.append((.failure(.malformed("bundle: \(error.description)")), message.payload, message.topic))
            return
        }
        engine.metrics.receivedRecords.add(bundle.envelopes.count, ordering: .relaxed)
        for envelope in bundle.envelopes {
            admissions.append((registry.authenticate(envelope, topic: claim, verifier: verifier), envelope, message.topic))
        }
    }
}
