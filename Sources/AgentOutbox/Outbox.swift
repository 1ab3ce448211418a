import SQLiteStore
import Synchronization

/// The gateway's durable outbox and chain state, in one SQLite file (WAL, synchronous=FULL).
///
/// Signed records are appended (committed) before they are published, together with their
/// meters' new chain heads and the batch sequence, in one transaction; they leave the outbox
/// when the aggregator confirms them. After a crash or power cut the agent reopens the file and
/// continues every chain from ``chainHeads()``: no gap, no reused sequence. Above ``bound``
/// records the oldest half is thinned (docs/OUTBOX.md).
///
/// Thread-safe: every call is synchronous and serialized by a mutex around the one connection.
///
/// ```swift
/// let outbox = try Outbox(path: "/var/lib/gridledger/outbox.db")
/// let heads = try outbox.chainHeads()               // continue the chains from here
/// let outcome = try outbox.append(entries, batchSequence: batch)
/// if outcome.thinned > 0 { logger.warning("outbox full: thinned \(outcome.thinned) records") }
/// for record in try outbox.due(limit: 100, republishBeforeMillis: now - 30_000) { ... publish ... }
/// try outbox.markPublished(ids, atMillis: now)
/// try outbox.confirm(meterID: "m1", upTo: 41)       // on the aggregator's confirmation
/// ```
public final class Outbox: Sendable {
    /// Largest payload (signed envelope) accepted, in bytes.
    public static let maximumPayloadBytes = 4096
    /// Longest meter id accepted, in UTF-8 bytes.
    public static let maximumMeterIDBytes = 256

    public let path: String
    /// Most records kept; appends beyond it thin the oldest half.
    public let bound: Int
    private let store: Mutex<OutboxStore>

    /// Opens or creates the outbox at `path` (a new file gets mode 0600).
    /// - Parameter bound: most records kept, at least 2.
    public init(path: String, bound: Int = 100_000) throws(OutboxError) {
        guard bound >= 2 else { throw .invalidBound(bound) }
        let opened = try OutboxStore(path: path, bound: bound)
        self.path = path
        self.bound = bound
        store = Mutex(opened)
    }

    private func locked<T: Sendable>(_ body: (inout OutboxStore) throws(OutboxError) -> T) throws(OutboxError) -> T {
        try store.withLock { (store: inout OutboxStore) throws(OutboxError) -> T in try body(&store) }
    }

    /// Every meter's last stored record (sequence and hash); meters never seen are absent.
    public func chainHeads() throws(OutboxError) -> [String: ChainHead] {
        try locked { store throws(OutboxError) in try store.chainHeads() }
    }

    /// The batch sequence of the last append; 0 when none.
    public func lastBatchSequence() throws(OutboxError) -> UInt64 {
        try locked { store throws(OutboxError) in try store.lastBatchSequence() }
    }

    /// Stored meter identities by binding key (e.g. "bus1:3" -> "gw:bus1:3:12345678").
    public func meterBindings() throws(OutboxError) -> [String: String] {
        try locked { store throws(OutboxError) in try store.meterBindings() }
    }

    /// Stores (or replaces) the meter id bound to `key`.
    public func setMeterBinding(_ key: String, meterID: String) throws(OutboxError) {
        try locked { store throws(OutboxError) in try store.setMeterBinding(key, meterID: meterID) }
    }

    /// Atomically checks that every entry continues its meter's chain (sequence == head + 1, a new
    /// meter starts at 1, several entries of one meter in increasing order), stores them, moves
    /// each meter's head to its last entry, stores `batchSequence` (which must exceed
    /// ``lastBatchSequence()``), stores `bindings` (as ``setMeterBinding(_:meterID:)`` would),
    /// then thins down to ``bound``. One commit (one fsync). On any error nothing is written.
    @discardableResult
    public func append(_ entries: [OutboxEntry], batchSequence: UInt64, bindings: [String: String] = [:]) throws(OutboxError) -> AppendOutcome {
        try locked { store throws(OutboxError) in try store.append(entries, batchSequence: batchSequence, bindings: bindings) }
    }

    /// Up to `limit` records in insertion order (id ascending, which is per-meter sequence order)
    /// never published, or last published before `republishBeforeMillis`.
    public func due(limit: Int, republishBeforeMillis: Int64) throws(OutboxError) -> [OutboxRecord] {
        try locked { store throws(OutboxError) in try store.due(limit: limit, republishBeforeMillis: republishBeforeMillis) }
    }

    /// Records that `ids` were handed to the broker at `atMillis`. Unknown ids (confirmed or
    /// thinned meanwhile) are ignored.
    public func markPublished(_ ids: [Int64], atMillis: Int64) throws(OutboxError) {
        try locked { store throws(OutboxError) in try store.markPublished(ids, atMillis: atMillis) }
    }

    /// Makes every record due again (after a reconnect: the broker session may have lost them).
    public func resetPublished() throws(OutboxError) {
        try locked { store throws(OutboxError) in try store.resetPublished() }
    }

    /// Removes every record of `meterID` with sequence ≤ `upTo` and returns how many. Unknown
    /// meters and ranges already removed are harmless (0). Chain heads are never touched.
    @discardableResult
    public func confirm(meterID: String, upTo: UInt64) throws(OutboxError) -> Int {
        try locked { store throws(OutboxError) in try store.confirm(meterID: meterID, upTo: upTo) }
    }

    /// Records waiting for confirmation.
    public func depth() throws(OutboxError) -> Int {
        try locked { store throws(OutboxError) in try store.depth() }
    }

    public func statistics() throws(OutboxError) -> OutboxStatistics {
        try locked { store throws(OutboxError) in try store.statistics() }
    }

    /// The journal mode, synchronous level and schema version in force (read back from SQLite).
    public func settings() throws(OutboxError) -> OutboxSettings {
        try locked { store throws(OutboxError) in try store.settings() }
    }
}
