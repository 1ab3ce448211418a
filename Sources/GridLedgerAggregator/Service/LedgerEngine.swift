import GridLedgerRecords
public import LedgerCore
public import LedgerStore
public import Logging
import Synchronization

/// The aggregator's ledger state between blocks: the sequential ingest rules, and what the next
/// block will hold (accepted records, events, refusals). Ingest admits into it; the minter takes
/// a block's worth out of it atomically. Thread-safe.
public final class LedgerEngine: Sendable {
    struct Pending: Sendable {
        var ledger: IngestLedger
        /// Accepted records with their meter's head after each.
        var records: [(record: AuthenticatedRecord, head: MeterHead)] = []
        var events: [LedgerEvent] = []
        /// Registry entries applied to `ledger` and due as the first events of the next block.
        var registryIDs: [Int64] = []
        /// The newest registry entry already applied: the store lists entries as pending until
        /// the block recording them commits, and each must be applied once.
        var lastRegistryID: Int64 = 0
        var refusals: [RefusedRecord] = []
        /// Meters whose gateway resent records we already hold, per gateway: they get their
        /// committed sequence confirmed again.
        var reconfirm: [String: Set<String>] = [:]
    }

    /// What the minter commits next.
    public struct BlockContents: Sendable {
        public var records: [AuthenticatedRecord]
        public var events: [LedgerEvent]
        public var registryIDs: [Int64]
        public var heads: [String: MeterHead]
        public var refusals: [RefusedRecord]
        public var reconfirm: [String: Set<String>]

        public var isEmpty: Bool { records.isEmpty && events.isEmpty }
    }

    private let state: Mutex<Pending>
    let metrics: AggregatorMetrics
    private let logger: Logger

    public init(registry: Registry, heads: [String: MeterHead], rules: LedgerRules, metrics: AggregatorMetrics, logger: Logger) {
        state = Mutex(Pending(ledger: IngestLedger(registry: registry, heads: heads, rules: rules)))
        self.metrics = metrics
        self.logger = logger
    }

    /// A registry snapshot for authenticating records outside the lock.
    public var registry: Registry { state.withLock { $0.ledger.registry } }

    public var pendingRecordCount: Int { state.withLock { $0.records.count } }

    /// Admits authenticated records (or refusals from authentication) in arrival order; returns
    /// how many records are now pending for the next block.
    @discardableResult
    public func admit(_ results: [(result: Result<AuthenticatedRecord, Refusal>, payload: [UInt8], topic: String)], receivedMillis: Int64) -> Int {
        state.withLock { pending in
            for item in results {
                switch item.result {
                case .success(let record):
                    for outcome in pending.ledger.admit(record, receivedMillis: receivedMillis) {
                        handle(outcome, receivedMillis: receivedMillis, into: &pending)
                    }
                case .failure(let refusal):
                    refuse(refusal, meterID: nil, gatewayID: nil, topic: item.topic, envelope: item.payload, receivedMillis: receivedMillis, into: &pending)
                }
            }
            return pending.records.count
        }
    }

    /// Turns holes older than the grace period into missing-data events.
    public func expireHeld(nowMillis: Int64) {
        state.withLock { pending in
            for outcome in pending.ledger.expireHeld(nowMillis: nowMillis) {
                handle(outcome, receivedMillis: nowMillis, into: &pending)
            }
            metrics.held.store(pending.ledger.heldCount, ordering: .relaxed)
        }
    }

    /// Takes everything for the next block, then applies `registryEntries` so that records
    /// admitted from now on see them; those entries become the first events of the block after.
    /// Returns the contents, which entries the registry refused (with why), and the registry
    /// as of the block (its own registry events applied, not the new entries): what a verifier
    /// holds after the block's events, and what the block's settlements are computed with.
    public func takeBlock(
        maximumRecords: Int, applying registryEntries: [PendingRegistryEntry]
    ) -> (BlockContents, rejected: [(id: Int64, reason: String)], registry: Registry) {
        state.withLock { pending in
            let registry = pending.ledger.registry
            let count = min(maximumRecords, pending.records.count)
            let taken = pending.records.prefix(count)
            // The ledger may be ahead (records left for the next block): the block commits the
            // heads reached by exactly its own records.
            var heads: [String: MeterHead] = [:]
            for item in taken { heads[item.record.record.meterID] = item.head }
            let contents = BlockContents(
                records: taken.map(\.record), events: pending.events, registryIDs: pending.registryIDs,
                heads: heads, refusals: pending.refusals, reconfirm: pending.reconfirm)
            pending.records.removeFirst(count)
            pending.events = []
            pending.registryIDs = []
            pending.refusals = []
            pending.reconfirm = [:]
            var rejected: [(Int64, String)] = []
            for item in registryEntries where item.id > pending.lastRegistryID {
                pending.lastRegistryID = item.id
                do {
                    try pending.ledger.apply(item.entry)
                    pending.events.append(.registry(item.entry))
                    pending.registryIDs.append(item.id)
                    logger.info("registry change applied", metadata: ["registry.change": "\(item.entry.change.summary)", "registry.author": "\(item.entry.author)"])
                } catch {
                    rejected.append((item.id, "\(error)"))
                    logger.warning("registry change refused", metadata: ["registry.change": "\(item.entry.change.summary)", "reason": "\(error)"])
                }
            }
            return (contents, rejected, registry)
        }
    }

    private func handle(_ outcome: IngestLedger.Outcome, receivedMillis: Int64, into pending: inout Pending) {
        switch outcome {
        case .accepted(let record, let head):
            pending.records.append((record, head))
            metrics.accepted.add(1, ordering: .relaxed)
        case .event(let event):
            pending.events.append(event)
            logger.warning("ledger event", metadata: ["event": "\(event.summary)"])
            metrics.events.add(1, ordering: .relaxed)
        case .duplicate(let meterID, let gatewayID):
            pending.reconfirm[gatewayID, default: []].insert(meterID)
            metrics.duplicates.add(1, ordering: .relaxed)
        case .held:
            metrics.held.store(pending.ledger.heldCount, ordering: .relaxed)
        case .refused(let refusal, let meterID, let gatewayID, let envelope):
            if case .sequenceRegression = refusal {
                // Typically a resend of a record committed before a restart: confirm again.
                pending.reconfirm[gatewayID, default: []].insert(meterID)
            }
            refuse(refusal, meterID: meterID, gatewayID: gatewayID, topic: nil, envelope: envelope, receivedMillis: receivedMillis, into: &pending)
        }
    }

    private func refuse(
        _ refusal: Refusal, meterID: String?, gatewayID: String?, topic: String?, envelope: [UInt8], receivedMillis: Int64, into pending: inout Pending
    ) {
        metrics.refused(refusal.code)
        var metadata: Logger.Metadata = ["reason": "\(refusal.code)", "detail": "\(refusal.description)"]
        if let meterID { metadata["meter.id"] = "\(meterID)" }
        if let gatewayID { metadata["gateway.id"] = "\(gatewayID)" }
        if let topic { metadata["mqtt.topic"] = "\(topic)" }
        logger.warning("record refused", metadata: metadata)
        if pending.refusals.count < SQLiteLedgerStore.defaultRefusalLimit {
            pending.refusals.append(RefusedRecord(
                receivedMillis: receivedMillis, reason: refusal.code, detail: refusal.description, meterID: meterID, gatewayID: gatewayID,
                envelope: Array(envelope.prefix(RecordEnvelope.maximumSize))))
        }
    }
}
