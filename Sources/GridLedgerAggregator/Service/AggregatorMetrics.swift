import LedgerCore
import Synchronization

/// Counters and gauges of the aggregator, exported in the Prometheus text format on `/metrics`.
public final class AggregatorMetrics: Sendable {
    let received = Atomic<Int>(0)
    /// Envelopes taken out of those messages (a bundle holds several).
    let receivedRecords = Atomic<Int>(0)
    let accepted = Atomic<Int>(0)
    let duplicates = Atomic<Int>(0)
    let events = Atomic<Int>(0)
    let held = Atomic<Int>(0)
    let blocks = Atomic<Int>(0)
    let committedRecords = Atomic<Int>(0)
    let height = Atomic<Int>(-1)
    let confirmationsPublished = Atomic<Int>(0)
    let confirmationFailures = Atomic<Int>(0)
    let commitFailures = Atomic<Int>(0)
    /// Sum and count of block commit durations in microseconds.
    let commitMicros = Atomic<Int>(0)
    /// Time spent authenticating readings (signatures, registry) and running contracts.
    let authenticationMicros = Atomic<Int>(0)
    let settlementMicros = Atomic<Int>(0)
    private let refusals: Mutex<[String: Int]> = Mutex([:])

    public init() {}

    func refused(_ code: String) {
        refusals.withLock { $0[code, default: 0] += 1 }
    }

    public var acceptedCount: Int { accepted.load(ordering: .relaxed) }
    public var receivedCount: Int { received.load(ordering: .relaxed) }
    public var receivedRecordCount: Int { receivedRecords.load(ordering: .relaxed) }
    public var committedRecordCount: Int { committedRecords.load(ordering: .relaxed) }
    public var blockHeight: Int { height.load(ordering: .relaxed) }
    public func refusalCount(_ code: String) -> Int { refusals.withLock { $0[code] ?? 0 } }
    public var refusalCounts: [String: Int] { refusals.withLock { $0 } }
    /// Where the aggregator's time went, in microseconds: authenticating readings (all ingest
    /// workers together), running the contracts, committing blocks.
    public var busyMicros: (authentication: Int, settlement: Int, commit: Int) {
        (authenticationMicros.load(ordering: .relaxed), settlementMicros.load(ordering: .relaxed), commitMicros.load(ordering: .relaxed))
    }

    /// The Prometheus text exposition (version 0.0.4).
    public func prometheusText() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("gridledger_aggregator_messages_received_total", "counter", "Reading and bundle messages received from the broker.", received.load(ordering: .relaxed))
        metric("gridledger_aggregator_records_received_total", "counter", "Record envelopes received (one per reading message, several per bundle).",
               receivedRecords.load(ordering: .relaxed))
        metric("gridledger_aggregator_records_accepted_total", "counter", "Records that passed every rule.", accepted.load(ordering: .relaxed))
        metric("gridledger_aggregator_records_duplicate_total", "counter", "Identical resends of accepted records (ignored).", duplicates.load(ordering: .relaxed))
        metric("gridledger_aggregator_records_held", "gauge", "Out-of-order records waiting for a hole to fill.", held.load(ordering: .relaxed))
        metric("gridledger_aggregator_ledger_events_total", "counter", "Missing-data and equivocation events recorded.", events.load(ordering: .relaxed))
        metric("gridledger_aggregator_blocks_total", "counter", "Blocks committed since start.", blocks.load(ordering: .relaxed))
        metric("gridledger_aggregator_block_height", "gauge", "Height of the last committed block (-1: none).", height.load(ordering: .relaxed))
        metric("gridledger_aggregator_records_committed_total", "counter", "Records committed in blocks since start.", committedRecords.load(ordering: .relaxed))
        metric("gridledger_aggregator_confirmations_published_total", "counter", "Confirmation messages published.", confirmationsPublished.load(ordering: .relaxed))
        metric("gridledger_aggregator_confirmation_failures_total", "counter", "Confirmations that could not be published.", confirmationFailures.load(ordering: .relaxed))
        metric("gridledger_aggregator_commit_failures_total", "counter", "Block commits that failed and were retried.", commitFailures.load(ordering: .relaxed))
        metric("gridledger_aggregator_commit_microseconds_total", "counter", "Time spent committing blocks.", commitMicros.load(ordering: .relaxed))
        metric("gridledger_aggregator_authentication_microseconds_total", "counter", "Time spent authenticating readings (all ingest workers).",
               authenticationMicros.load(ordering: .relaxed))
        metric("gridledger_aggregator_settlement_microseconds_total", "counter", "Time spent running billing contracts.", settlementMicros.load(ordering: .relaxed))
        let counts = refusals.withLock { $0 }
        out += "# HELP gridledger_aggregator_records_refused_total Records refused, by reason.\n# TYPE gridledger_aggregator_records_refused_total counter\n"
        for code in Refusal.allCodes {
            out += "gridledger_aggregator_records_refused_total{reason=\"\(code)\"} \(counts[code] ?? 0)\n"
        }
        return out
    }
}
