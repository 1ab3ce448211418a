import AsyncAlgorithms
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Logging
import MQTTTransport
import ServiceLifecycle

/// Receives record envelopes from the broker, authenticates them on several workers and admits
/// them into the ledger engine.
///
/// Messages are spread over the workers by meter, so each meter's records stay in arrival order;
/// a worker authenticates (signature, Merkle path, registry) outside any lock, then admits in order.
struct IngestService: Service {
    let client: MQTTClient
    let engine: LedgerEngine
    let workers: Int
    let maximumRecords: Int
    let clock: any WallClock
    let blockDue: @Sendable () -> Void
    let logger: Logger

    func run() async throws {
        try client.subscribe(GatewayTopics.everyReading, qos: 1)
        let verifier = RecordVerifier(cacheLimit: 65536)
        let lanes = (0..<workers).map { _ in AsyncChannel<MQTTMessage>() }
        await withTaskGroup(of: Void.self) { group in
            for lane in lanes {
                group.addTask { await work(lane, verifier: verifier) }
            }
            for await message in client.messages.cancelOnGracefulShutdown() {
                engine.metrics.received.add(1, ordering: .relaxed)
                await lanes[Self.lane(of: message.topic, workers: workers)].send(message)
            }
            for lane in lanes { lane.finish() }
        }
        logger.info("ingest stopped")
    }

    private func work(_ lane: AsyncChannel<MQTTMessage>, verifier: RecordVerifier) async {
        for await message in lane {
            let topic = GatewayTopics.parseReading(message.topic)
            let result: Result<AuthenticatedRecord, Refusal> = topic.map { engine.registry.authenticate(message.payload, topic: $0, verifier: verifier) }
                ?? .failure(.topicMismatch("not a reading topic"))
            let pending = engine.admit([(result: result, payload: message.payload, topic: message.topic)], receivedMillis: clock.nowMillis())
            if pending >= maximumRecords { blockDue() }
        }
    }

    /// FNV-1a of the topic's meter level, so one meter always lands on the same worker.
    static func lane(of topic: String, workers: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in topic.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int(hash % UInt64(workers))
    }
}
