import Dispatch
public import MQTTTransport
import Synchronization

/// The aggregator's receive buffer: one queue per ingest worker, bounded in messages and in
/// bytes, filled on the MQTT network thread and drained by the workers in batches.
///
/// A gateway's messages always land in the same lane (by the gateway level of the topic), so its
/// per-meter messages and bundles stay in the order the gateway sent them. When a
/// lane is full the network thread *waits* for its worker instead of dropping: everything the
/// client acknowledged to the broker reaches the ledger, and an overloaded aggregator slows the
/// broker down (which queues for the persistent session) instead of losing records.
public final class IngestLanes: MQTTMessageSink {
    let lanes: [IngestLane]
    private let metrics: AggregatorMetrics

    /// `capacity` messages and `byteCapacity` payload bytes in all, split evenly over `workers`
    /// lanes.
    public init(workers: Int, capacity: Int, byteCapacity: Int = 256 << 20, metrics: AggregatorMetrics) {
        let perLane = max(1, capacity / max(1, workers))
        let bytesPerLane = max(1, byteCapacity / max(1, workers))
        lanes = (0..<max(1, workers)).map { _ in IngestLane(capacity: perLane, byteCapacity: bytesPerLane) }
        self.metrics = metrics
    }

    public func receive(_ message: MQTTMessage) -> Bool {
        metrics.received.add(1, ordering: .relaxed)
        return lanes[Self.lane(of: message.topic, workers: lanes.count)].push(message)
    }

    /// Stops taking messages (later ones are dropped: they are not confirmed, so their gateways
    /// resend them) and lets the workers drain what is queued.
    func finish() {
        for lane in lanes { lane.finish() }
    }

    /// FNV-1a of the topic's third level (`gridledger/v1/<gateway>/…`; the whole topic when it
    /// has fewer), so one gateway always lands on the same worker.
    static func lane(of topic: String, workers: Int) -> Int {
        let levels = topic.utf8.split(separator: UInt8(ascii: "/"), maxSplits: 3, omittingEmptySubsequences: false)
        let key = levels.count > 2 && !levels[2].isEmpty ? levels[2] : topic.utf8[...]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int(hash % UInt64(workers))
    }
}

/// One bounded FIFO between a thread that may block (the producer) and a task that must not (the
/// consumer, which suspends instead).
final class IngestLane: Sendable {
    private struct State {
        var items: [MQTTMessage] = []
        var head = 0
        var consumer: CheckedContinuation<[MQTTMessage], Never>?
        var producerWaiting = false
        var finished = false
        /// Payload bytes queued.
        var bytes = 0

        var count: Int { items.count - head }

        mutating func take(upTo limit: Int, bytes byteLimit: Int) -> [MQTTMessage] {
            var end = head
            var takenBytes = 0
            while end < items.count, end - head < limit {
                let size = items[end].payload.count
                if end > head && takenBytes + size > byteLimit { break }
                takenBytes += size
                end += 1
            }
            let taken = Array(items[head..<end])
            bytes -= takenBytes
            head = end
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 4096 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return taken
        }
    }

    private enum PushStep {
        case queued, dropped, full
        case handOver(CheckedContinuation<[MQTTMessage], Never>)
    }

    let capacity: Int
    let byteCapacity: Int
    private let state = Mutex(State())
    /// Signalled when a waiting producer may find room again.
    private let room = DispatchSemaphore(value: 0)

    init(capacity: Int, byteCapacity: Int) {
        self.capacity = capacity
        self.byteCapacity = byteCapacity
    }

    /// Queues `message`, waiting while the lane is full; `false` once the lane is finished.
    func push(_ message: MQTTMessage) -> Bool {
        while true {
            let step = state.withLock { s -> PushStep in
                if s.finished { return .dropped }
                if let consumer = s.consumer {
                    s.consumer = nil
                    return .handOver(consumer)
                }
                // An empty lane takes any message, so one larger than the byte bound still passes.
                if s.count == 0 || (s.count < capacity && s.bytes + message.payload.count <= byteCapacity) {
                    s.items.append(message)
                    s.bytes += message.payload.count
                    return .queued
                }
                s.producerWaiting = true
                return .full
            }
            switch step {
            case .queued: return true
            case .dropped: return false
            case .handOver(let consumer):
                consumer.resume(returning: [message])
                return true
            case .full:
                // Bounded waits: a signal that raced with our going to sleep costs at most this.
                _ = room.wait(timeout: .now() + .milliseconds(50))
            }
        }
    }

    /// The next messages in order, at most `limit` and, beyond the first, at most `byteLimit`
    /// payload bytes; waits while the lane is empty. Empty once the lane is finished and drained.
    func take(upTo limit: Int, bytes byteLimit: Int = .max) async -> [MQTTMessage] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[MQTTMessage], Never>) in
                let (ready, wakeProducer) = state.withLock { s -> ([MQTTMessage]?, Bool) in
                    if s.count > 0 {
                        let taken = s.take(upTo: limit, bytes: byteLimit)
                        let wake = s.producerWaiting
                        s.producerWaiting = false
                        return (taken, wake)
                    }
                    if s.finished { return ([], false) }
                    s.consumer = continuation
                    return (nil, false)
                }
                if wakeProducer { room.signal() }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    func finish() {
        let consumer = state.withLock { s -> CheckedContinuation<[MQTTMessage], Never>? in
            s.finished = true
            defer { s.consumer = nil }
            return s.consumer
        }
        consumer?.resume(returning: [])
        room.signal()
    }
}
