import GridLedgerRecords
import Logging
import MQTTTransport
import ServiceLifecycle
import Synchronization

/// What is committed and who still has to hear about it: the minter reports each commit here and
/// goes on minting, the ``ConfirmationService`` publishes.
///
/// Requests coalesce: a meter asked about twice before its confirmation goes out gets one
/// confirmation, with its newest committed sequence (a confirmation means "everything up to
/// here", so only the newest matters).
final class ConfirmationQueue: Sendable {
    private struct State {
        var committed: [String: UInt64]
        var pending: [String: Set<String>] = [:]
        var consumer: CheckedContinuation<[String: [String: UInt64]], Never>?
        var finished = false

        /// Pending gateways with each meter's committed sequence; meters never committed are left
        /// out (nothing to confirm yet).
        mutating func takePending() -> [String: [String: UInt64]] {
            var taken: [String: [String: UInt64]] = [:]
            for (gatewayID, meterIDs) in pending {
                var confirmed: [String: UInt64] = [:]
                for meterID in meterIDs { if let sequence = committed[meterID] { confirmed[meterID] = sequence } }
                if !confirmed.isEmpty { taken[gatewayID] = confirmed }
            }
            pending.removeAll(keepingCapacity: true)
            return taken
        }
    }

    private let state: Mutex<State>

    init(committed: [String: UInt64]) {
        state = Mutex(State(committed: committed))
    }

    /// Records newly committed sequences and asks to confirm `meters` (gateway → meter ids).
    func committed(_ sequences: [String: UInt64], confirming meters: [String: Set<String>]) {
        let wake = state.withLock { s -> (CheckedContinuation<[String: [String: UInt64]], Never>, [String: [String: UInt64]])? in
            for (meterID, sequence) in sequences { s.committed[meterID] = sequence }
            for (gatewayID, meterIDs) in meters { s.pending[gatewayID, default: []].formUnion(meterIDs) }
            guard let consumer = s.consumer else { return nil }
            let taken = s.takePending()
            guard !taken.isEmpty else { return nil }
            s.consumer = nil
            return (consumer, taken)
        }
        if let (consumer, taken) = wake { consumer.resume(returning: taken) }
    }

    /// Waits for something to confirm; empty once finished and nothing is left.
    func next() async -> [String: [String: UInt64]] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> [String: [String: UInt64]]? in
                let taken = s.takePending()
                if !taken.isEmpty || s.finished { return taken }
                s.consumer = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// After the last commit: ``next()`` hands out what is left, then returns empty.
    func finish() {
        let consumer = state.withLock { s -> CheckedContinuation<[String: [String: UInt64]], Never>? in
            s.finished = true
            defer { s.consumer = nil }
            return s.consumer
        }
        consumer?.resume(returning: [:])
    }
}

/// Publishes confirmations (`gridledger/v1/<gateway>/confirm`, QoS 1) for what the minter has
/// committed, many at once, apart from the minter.
///
/// Apart, because a QoS 1 publish waits for the broker's PUBACK, which arrives behind everything
/// the broker is sending us: under load, awaiting 50 of those one after the other used to hold up
/// the next block for longer than the block interval.
struct ConfirmationService: Service {
    let queue: ConfirmationQueue
    let client: MQTTClient
    let metrics: AggregatorMetrics
    let logger: Logger
    /// Publishes in flight at once (the client allows more; this leaves room for other traffic).
    static let concurrency = 64

    func run() async throws {
        await withGracefulShutdownHandler {
            while true {
                let work = await queue.next()
                if work.isEmpty { break }
                await publish(work)
            }
        } onGracefulShutdown: {
            // The minter, which stops before us, has committed its last block by now.
            queue.finish()
        }
        logger.info("confirmations stopped")
    }

    private func publish(_ work: [String: [String: UInt64]]) async {
        let messages = work.flatMap { gatewayID, confirmed in
            confirmed.chunked(16).map { (GatewayTopics(gatewayID: gatewayID).confirm, Confirmation(confirmed: $0).encoded(), gatewayID) }
        }
        await withTaskGroup(of: Void.self) { group in
            var started = 0
            for (topic, payload, gatewayID) in messages {
                if started >= Self.concurrency { await group.next() }
                started += 1
                group.addTask {
                    do {
                        try await client.publish(topic, payload: payload, qos: 1)
                        metrics.confirmationsPublished.add(1, ordering: .relaxed)
                    } catch {
                        // The gateway resends what stays unconfirmed; its resend triggers a new confirmation.
                        metrics.confirmationFailures.add(1, ordering: .relaxed)
                        logger.debug("confirmation not published", metadata: ["gateway.id": "\(gatewayID)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}

extension Dictionary where Key == String, Value == UInt64 {
    /// Splits into dictionaries of at most `size` entries: 16 meter ids of ≤ 128 characters keep a
    /// confirmation under 4 KiB, the production broker's `message_size_limit` (deploy/mosquitto).
    func chunked(_ size: Int) -> [[String: UInt64]] {
        var chunks: [[String: UInt64]] = [[:]]
        for (key, value) in self {
            if chunks[chunks.count - 1].count >= size { chunks.append([:]) }
            chunks[chunks.count - 1][key] = value
        }
        return chunks
    }
}
