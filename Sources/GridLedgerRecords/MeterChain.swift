/// Per-meter continuity of verified records: sequence +1 and the previous-hash link.
///
/// Pure state, kept by whoever accepts records (the aggregator; tests; the offline verifier).
/// It classifies a record before it is accepted, and remembers it only when told to.
public struct MeterChain: Sendable, Hashable {
    /// The last accepted record: its sequence, hash and bytes.
    public private(set) var lastSequence: UInt64 = 0
    public private(set) var lastHash: [UInt8] = ReadingRecord.zeroHash
    private var recent: [UInt64: [UInt8]] = [:]
    /// Remembered sequences in acceptance order (from `oldest` on), so forgetting is O(1).
    private var order: [UInt64] = []
    private var oldest = 0
    /// How many recent record hashes are kept to tell duplicates from equivocations.
    public let memory: Int

    public init(memory: Int = 1024) { self.memory = memory }

    /// A chain restored from a stored head (after a restart): continues after `lastSequence`
    /// whose record hashed to `lastHash`. Older records are not remembered, so a resend of one
    /// classifies as `.replay`, not `.duplicate`.
    public init(lastSequence: UInt64, lastHash: [UInt8], memory: Int = 1024) {
        self.memory = memory
        self.lastSequence = lastSequence
        self.lastHash = lastHash
    }

    public enum Verdict: Sendable, Hashable {
        /// Continues the chain: sequence is last + 1 and previous hash links to the last record.
        case next
        /// The same bytes as an already accepted record (a resend): ignore.
        case duplicate
        /// An already used sequence with different bytes: the gateway signed two histories.
        case equivocation
        /// An old sequence whose bytes are not remembered any more, or a sequence going back.
        case replay
        /// Sequence jumps ahead: records `lastSequence + 1 ..< sequence` are missing.
        case gap(missing: ClosedRange<UInt64>)
        /// Sequence is last + 1 but the previous hash does not match the last record.
        case brokenLink
    }

    /// The hash of an accepted record still remembered (the last `memory` ones).
    public func rememberedHash(of sequence: UInt64) -> [UInt8]? { recent[sequence] }

    /// Classifies a verified record (its bytes as received).
    public func classify(_ record: ReadingRecord, bytes: [UInt8]) -> Verdict {
        if record.sequence <= lastSequence {
            if let known = recent[record.sequence] { return known == ReadingRecord.hash(of: bytes) ? .duplicate : .equivocation }
            return .replay
        }
        if record.sequence > lastSequence + 1 { return .gap(missing: (lastSequence + 1)...(record.sequence - 1)) }
        return record.previousHash == lastHash ? .next : .brokenLink
    }

    /// Records `record` as the chain's new head. Call after `classify` returned `.next` (or
    /// after a recorded gap, when the receiver decides to continue from there).
    public mutating func accept(_ record: ReadingRecord, bytes: [UInt8]) {
        accept(record, hash: ReadingRecord.hash(of: bytes))
    }

    /// ``accept(_:bytes:)`` for a caller that already hashed the record's bytes.
    public mutating func accept(_ record: ReadingRecord, hash: [UInt8]) {
        lastSequence = record.sequence
        lastHash = hash
        recent[record.sequence] = hash
        order.append(record.sequence)
        while recent.count > memory, oldest < order.count {
            recent[order[oldest]] = nil
            oldest += 1
        }
        if oldest > 1024, oldest * 2 > order.count {
            order.removeFirst(oldest)
            oldest = 0
        }
    }
}
