public import SQLiteStore

/// Why the outbox refused or failed an operation. Nothing was written when it is thrown.
public enum OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// SQLite failed (disk full, I/O error, not a database, ...).
    case storage(SQLiteError)
    /// The bound must be at least 2.
    case invalidBound(Int)
    /// An entry does not continue its meter's chain: `expected` is head + 1 (1 for a new meter).
    case sequenceMismatch(meter: String, expected: UInt64, got: UInt64)
    /// Batch sequence numbers must increase from one append to the next.
    case batchSequenceNotIncreasing(last: UInt64, got: UInt64)
    /// A sequence number above `Int64.max` (SQLite stores signed 64-bit integers).
    case sequenceOutOfRange(meter: String, sequence: UInt64)
    /// An entry or argument that cannot be stored: the reason says which field.
    case invalidEntry(meter: String, sequence: UInt64, reason: String)
    case invalidArgument(String)
    /// The file is an SQLite database, but not an outbox.
    case notAnOutbox(path: String, reason: String)
    /// The file was written by a newer version of the agent.
    case unsupportedSchemaVersion(found: Int, supported: Int)

    public var description: String {
        switch self {
        case .storage(let error): "outbox storage: \(error)"
        case .invalidBound(let bound): "outbox bound \(bound) is invalid: it must be at least 2"
        case .sequenceMismatch(let meter, let expected, let got):
            "meter \(meter): record sequence \(got) does not continue the chain (expected \(expected))"
        case .batchSequenceNotIncreasing(let last, let got):
            "batch sequence \(got) does not increase (last stored: \(last))"
        case .sequenceOutOfRange(let meter, let sequence):
            "meter \(meter): sequence \(sequence) is above \(Int64.max)"
        case .invalidEntry(let meter, let sequence, let reason):
            "meter \(meter.isEmpty ? "(empty id)" : meter) sequence \(sequence): \(reason)"
        case .invalidArgument(let reason): "outbox: \(reason)"
        case .notAnOutbox(let path, let reason): "\(path) is not a GridLedger outbox: \(reason)"
        case .unsupportedSchemaVersion(let found, let supported):
            "outbox schema version \(found) is newer than this agent supports (\(supported)): upgrade the agent"
        }
    }
}
