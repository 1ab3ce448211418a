public import GridLedgerCore

/// Why a record is not accepted into the chain. ``code`` is stable: it is the `reason` label
/// of the refusal counter and the key in logs and JSON.
public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
    case oversized(Int)
    case malformed(String)
    /// The topic names another gateway or meter than the signed record.
    case topicMismatch(String)
    case unknownGateway(String)
    case unknownMeter(String)
    /// The meter is registered to another gateway than the one that signed the record.
    case meterOfOtherGateway(registered: String)
    case keyNotYetValid
    case keyRevoked(sinceMillis: Int64)
    /// Signed with a key that is not the gateway's valid key at the capture time.
    case wrongKey
    case badSignature
    case notInBatch
    case equivocation(sequence: UInt64)
    /// An old sequence whose bytes are no longer known (or a sequence going backwards).
    case sequenceRegression(sequence: UInt64, head: UInt64)
    /// Sequence continues the chain but the previous hash does not link to the last record.
    case brokenLink
    case counterRollback(Quantity)
    case futureTimestamp(aheadMillis: Int64)
    case timeRegression(behindMillis: Int64)
    /// Arrived after its place was already recorded as missing data.
    case lateForGap
    /// Too many out-of-order records held for this meter.
    case tooManyHeld

    public var code: String {
        switch self {
        case .oversized: "oversized"
        case .malformed: "malformed"
        case .topicMismatch: "topic_mismatch"
        case .unknownGateway: "unknown_gateway"
        case .unknownMeter: "unknown_meter"
        case .meterOfOtherGateway: "meter_of_other_gateway"
        case .keyNotYetValid: "key_not_yet_valid"
        case .keyRevoked: "key_revoked"
        case .wrongKey: "wrong_key"
        case .badSignature: "bad_signature"
        case .notInBatch: "not_in_batch"
        case .equivocation: "equivocation"
        case .sequenceRegression: "sequence_regression"
        case .brokenLink: "broken_link"
        case .counterRollback: "counter_rollback"
        case .futureTimestamp: "future_timestamp"
        case .timeRegression: "time_regression"
        case .lateForGap: "late_for_gap"
        case .tooManyHeld: "too_many_held"
        }
    }

    public static let allCodes = [
        "oversized", "malformed", "topic_mismatch", "unknown_gateway", "unknown_meter", "meter_of_other_gateway",
        "key_not_yet_valid", "key_revoked", "wrong_key", "bad_signature", "not_in_batch", "equivocation",
        "sequence_regression", "broken_link", "counter_rollback", "future_timestamp", "time_regression", "late_for_gap",
        "too_many_held",
    ]

    public var description: String {
        switch self {
        case .oversized(let size): "payload of \(size) bytes exceeds the envelope maximum"
        case .malformed(let why): "malformed: \(why)"
        case .topicMismatch(let why): "topic does not match the record: \(why)"
        case .unknownGateway(let id): "gateway '\(id)' has no registered key"
        case .unknownMeter(let id): "meter '\(id)' is not registered"
        case .meterOfOtherGateway(let registered): "the meter is registered to gateway '\(registered)'"
        case .keyNotYetValid: "no key of the gateway is valid at the capture time yet"
        case .keyRevoked(let since): "the gateway key valid at the capture time is revoked since \(since) ms"
        case .wrongKey: "not signed with the gateway key valid at the capture time"
        case .badSignature: "the batch signature does not verify"
        case .notInBatch: "the record is not in its signed batch (Merkle path mismatch)"
        case .equivocation(let sequence): "a different record with sequence \(sequence) was already accepted"
        case .sequenceRegression(let sequence, let head): "sequence \(sequence) is behind the accepted head \(head)"
        case .brokenLink: "previous hash does not link to the last accepted record"
        case .counterRollback(let quantity): "energy counter \(quantity.rawValue) decreased"
        case .futureTimestamp(let ahead): "capture time is \(ahead) ms in the future"
        case .timeRegression(let behind): "capture time is \(behind) ms before the previous record's"
        case .lateForGap: "its sequence was already recorded as missing data"
        case .tooManyHeld: "too many out-of-order records held for this meter"
        }
    }
}
