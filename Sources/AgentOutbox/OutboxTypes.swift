/// The last record of one meter's hash chain: its sequence number and its SHA-256 hash.
public struct ChainHead: Sendable, Hashable {
    public var sequence: UInt64
    /// 32 bytes.
    public var hash: [UInt8]

    public init(sequence: UInt64, hash: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
    }
}

/// A signed record to store before it is published.
public struct OutboxEntry: Sendable, Hashable {
    public var meterID: String
    /// The record's per-meter sequence number: the meter's head + 1, starting at 1.
    public var sequence: UInt64
    public var captureMillis: Int64
    /// The record's SHA-256 hash (32 bytes): becomes the meter's chain head.
    public var recordHash: [UInt8]
    /// The signed envelope bytes to publish (1 to ``Outbox/maximumPayloadBytes`` bytes).
    public var payload: [UInt8]

    public init(meterID: String, sequence: UInt64, captureMillis: Int64, recordHash: [UInt8], payload: [UInt8]) {
        self.meterID = meterID
        self.sequence = sequence
        self.captureMillis = captureMillis
        self.recordHash = recordHash
        self.payload = payload
    }
}

/// A stored record waiting for confirmation, as ``Outbox/due(limit:republishBeforeMillis:)`` returns it.
public struct OutboxRecord: Sendable, Hashable {
    /// The outbox row id: increases with every stored record, so id order is per-meter sequence order.
    public var id: Int64
    public var meterID: String
    public var sequence: UInt64
    public var captureMillis: Int64
    public var payload: [UInt8]

    public init(id: Int64, meterID: String, sequence: UInt64, captureMillis: Int64, payload: [UInt8]) {
        self.id = id
        self.meterID = meterID
        self.sequence = sequence
        self.captureMillis = captureMillis
        self.payload = payload
    }
}

/// What an append did besides storing the entries.
public struct AppendOutcome: Sendable, Hashable {
    /// Records removed by thinning during this append (0 below the bound): log it when > 0.
    public var thinned: Int
    /// Records in the outbox after the append.
    public var depth: Int

    public init(thinned: Int, depth: Int) {
        self.thinned = thinned
        self.depth = depth
    }
}

/// A snapshot for metrics and the status log line.
public struct OutboxStatistics: Sendable, Hashable {
    /// Records waiting for confirmation.
    public var depth: Int
    /// Of those, records never published since they were stored (or since ``Outbox/resetPublished()``).
    public var unpublished: Int
    /// Capture time of the oldest waiting record; nil when empty.
    public var oldestCaptureMillis: Int64?
    /// Records removed by thinning since the outbox was created (persisted).
    public var thinnedTotal: Int
    public var lastBatchSequence: UInt64
    /// Waiting records per meter (meters with none are absent).
    public var pendingByMeter: [String: Int]

    public init(depth: Int, unpublished: Int, oldestCaptureMillis: Int64?, thinnedTotal: Int, lastBatchSequence: UInt64, pendingByMeter: [String: Int]) {
        self.depth = depth
        self.unpublished = unpublished
        self.oldestCaptureMillis = oldestCaptureMillis
        self.thinnedTotal = thinnedTotal
        self.lastBatchSequence = lastBatchSequence
        self.pendingByMeter = pendingByMeter
    }
}

/// The storage settings in force on the outbox's connection, for the startup log and tests.
public struct OutboxSettings: Sendable, Hashable {
    /// `wal`.
    public var journalMode: String
    /// `full`.
    public var synchronous: String
    public var schemaVersion: Int
    public var bound: Int
}
