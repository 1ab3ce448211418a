import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Logging
import MQTTTransport
import ServiceLifecycle

/// Authenticates the record envelopes queued in the ``IngestLanes`` and admits them into the
/// ledger engine, one worker per lane.
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

    /// Small enough that a batch's authentication does not hold back the block it belongs to.
    static let batchLimit = 256

    func run() async throws {
        try client.subscribe(GatewayTopics.everyReading, qos: 1)
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
            let batch = await lane.take(upTo: Self.batchLimit)
            if batch.isEmpty { return }
            var admissions: [(result: Result<AuthenticatedRecord, Refusal>, payload: [UInt8], topic: String)] = []
            admissions.reserveCapacity(batch.count)
            let started = ContinuousClock.now
            for message in batch {
                let topic = GatewayTopics.parseReading(message.topic)
                let result = topic.map { engine.registry.authenticate(message.payload, topic: $0, verifier: verifier) }
                    ?? .failure(.topicMismatch("not a reading topic"))
                admissions.append((result, message.payload, message.topic))
            }
            engine.metrics.authenticationMicros.add((ContinuousClock.now - started).wholeMicroseconds, ordering: .relaxed)
            let pending = engine.admit(admissions, receivedMillis: clock.nowMillis())
            if pending >= maximumRecords { blockDue() }
        }
    }
}
