import AgentOutbox
import GridLedgerCore
import GridLedgerRecords
import Logging
import MQTTTransport
import ServiceLifecycle

/// Publishes the outbox in order and removes what the aggregator confirms.
///
/// Records go out oldest first (per meter that is sequence order) at QoS 1, several to a message
/// as a bundle when `recordsPerMessage` is above 1 (one poll cycle of several meters then costs
/// one message, one PUBACK and one wake-up of the broker and the aggregator). A PUBACK only
/// marks a record as sent: it stays in the outbox until the aggregator's confirmation says it
/// is in a block. After every reconnect all unconfirmed records are sent again, in order, and a
/// record still unconfirmed `republishAfter` after its last sending is sent again too: the
/// aggregator ignores identical duplicates, so at-least-once delivery loses nothing.
final class PublisherService: Service {
    private let client: MQTTClient
    private let outbox: Outbox
    private let queue: BlockingQueue
    private let topics: GatewayTopics
    private let doorbell: Doorbell
    private let metrics: AgentMetrics
    private let clock: any WallClock
    private let republishAfterMillis: Int64
    private let recordsPerMessage: Int
    private let logger: Logger
    /// Records fetched from the outbox per round.
    private let roundSize = 256

    init(
        client: MQTTClient, outbox: Outbox, queue: BlockingQueue, topics: GatewayTopics, doorbell: Doorbell, metrics: AgentMetrics,
        clock: any WallClock, republishAfterMillis: Int64, recordsPerMessage: Int, logger: Logger
    ) {
        self.client = client
        self.outbox = outbox
        self.queue = queue
        self.topics = topics
        self.doorbell = doorbell
        self.metrics = metrics
        self.clock = clock
        self.republishAfterMillis = republishAfterMillis
        self.recordsPerMessage = recordsPerMessage
        self.logger = logger
    }

    func run() async throws {
        try client.subscribe(topics.confirm, qos: 1)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.consumeConfirmations() }
                group.addTask { await self.publishLoop() }
            }
        }
    }

    private func publishLoop() async {
        var connectsSeen = -1
        while !Task.isCancelled {
            let connected = client.isConnected
            metrics.update { $0.mqttConnected = connected }
            guard connected else {
                await doorbell.wait(upTo: .milliseconds(200))
                continue
            }
            do {
                let connects = client.statistics.connects
                let outbox = self.outbox
                if connects != connectsSeen {
                    // A new session: whatever was in flight may be lost; send everything again, in order.
                    try await queue.run { try outbox.resetPublished() }
                    connectsSeen = connects
                }
                let cutoff = clock.nowMillis() - republishAfterMillis
                let limit = roundSize
                let due = try await queue.run { try outbox.due(limit: limit, republishBeforeMillis: cutoff) }
                if due.isEmpty {
                    await doorbell.wait(upTo: .seconds(1))
                    continue
                }
                let sent = await publish(due)
                let now = clock.nowMillis()
                let ids = sent
                try await queue.run { try outbox.markPublished(ids, atMillis: now) }
                metrics.update { $0.recordsPublished += ids.count }
            } catch {
                metrics.update { $0.outboxErrors += 1 }
                logger.error("outbox error while publishing", metadata: ["error": "\(error)"])
                await doorbell.wait(upTo: .seconds(1))
            }
        }
    }

    /// Publishes `due` in order and returns the outbox ids of what the broker acknowledged; stops
    /// at the first failure (the rest goes out in a later round, in order).
    private func publish(_ due: [OutboxRecord]) async -> [Int64] {
        var sent: [Int64] = []
        for message in Self.messages(due, topics: topics, recordsPerMessage: recordsPerMessage) {
            do {
                try await client.publish(message.topic, payload: message.payload, qos: 1)
                sent += message.records.map(\.id)
            } catch {
                metrics.update { $0.publishFailures += 1 }
                let first = message.records[0]
                logger.debug("publish interrupted", metadata: [
                    "error": "\(error)", "meter.id": "\(first.meterID)", "record.sequence": "\(first.sequence)", "message.records": "\(message.records.count)",
                ])
                break
            }
        }
        return sent
    }

    /// `due` as MQTT messages, in order: bundles of up to `recordsPerMessage` envelopes within
    /// ``ReadingBundle``'s size bound (a lone record too, so the gateway's records share one
    /// topic), or one message per record on its meter's topic when `recordsPerMessage` is 1. A
    /// payload no bundle may hold (the agent never writes one) goes alone on its meter's topic
    /// rather than being held back.
    static func messages(
        _ due: [OutboxRecord], topics: GatewayTopics, recordsPerMessage: Int
    ) -> [(topic: String, payload: [UInt8], records: [OutboxRecord])] {
        func single(_ record: OutboxRecord) -> (topic: String, payload: [UInt8], records: [OutboxRecord]) {
            (topics.reading(meterID: record.meterID), record.payload, [record])
        }
        guard recordsPerMessage > 1 else { return due.map(single) }
        var messages: [(topic: String, payload: [UInt8], records: [OutboxRecord])] = []
        var bundleable: [OutboxRecord] = []
        func flush() {
            for run in ReadingBundle.cut(bundleable, maximumEnvelopes: recordsPerMessage, envelope: \.payload) {
                let records = Array(run)
                if let bundle = try? ReadingBundle(envelopes: records.map(\.payload)) {
                    messages.append((topics.bundle, bundle.encoded(), records))
                } else {
                    messages += records.map(single)
                }
            }
            bundleable = []
        }
        for record in due {
            if ReadingBundle.canHold(record.payload) {
                bundleable.append(record)
            } else {
                flush()
                messages.append(single(record))
            }
        }
        flush()
        return messages
    }

    private func consumeConfirmations() async {
        for await message in client.messages {
            guard message.topic == topics.confirm else { continue }
            let confirmation: Confirmation
            do {
                confirmation = try Confirmation(decoding: message.payload)
            } catch {
                metrics.update { $0.confirmationsRefused += 1 }
                logger.warning("confirmation refused", metadata: ["error": "\(error)"])
                continue
            }
            do {
                let outbox = self.outbox
                let removed = try await queue.run {
                    var removed = 0
                    for (meterID, sequence) in confirmation.confirmed { removed += try outbox.confirm(meterID: meterID, upTo: sequence) }
                    return removed
                }
                metrics.update { $0.recordsConfirmed += removed }
            } catch {
                metrics.update { $0.outboxErrors += 1 }
                logger.error("cannot apply a confirmation to the outbox", metadata: ["error": "\(error)"])
            }
        }
    }
}
