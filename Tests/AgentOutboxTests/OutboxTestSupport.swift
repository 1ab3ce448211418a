import AgentOutbox
import Foundation
import GridLedgerTestSupport

/// A deterministic 32-byte "hash" for a meter's record.
func testHash(_ meter: String, _ sequence: UInt64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 32)
    for (index, byte) in meter.utf8.enumerated() { bytes[index % 16] ^= byte }
    withUnsafeBytes(of: sequence.bigEndian) { for (index, byte) in $0.enumerated() { bytes[24 + index] = byte } }
    return bytes
}

func testEntry(_ meter: String, _ sequence: UInt64, capture: Int64? = nil) -> OutboxEntry {
    OutboxEntry(
        meterID: meter, sequence: sequence, captureMillis: capture ?? Int64(sequence) * 1000,
        recordHash: testHash(meter, sequence), payload: Array("envelope \(meter)#\(sequence)".utf8))
}

/// Everything an outbox holds, to compare before and after.
struct OutboxSnapshot: Equatable {
    var heads: [String: ChainHead]
    var batch: UInt64
    var bindings: [String: String]
    var records: [OutboxRecord]
    var statistics: OutboxStatistics

    init(_ outbox: Outbox) throws {
        heads = try outbox.chainHeads()
        batch = try outbox.lastBatchSequence()
        bindings = try outbox.meterBindings()
        records = try outbox.due(limit: .max, republishBeforeMillis: .max)
        statistics = try outbox.statistics()
    }
}

extension Outbox {
    /// Every stored (meter, sequence), in id order.
    func storedSequences() throws -> [String: [UInt64]] {
        var sequences: [String: [UInt64]] = [:]
        for record in try due(limit: .max, republishBeforeMillis: .max) { sequences[record.meterID, default: []].append(record.sequence) }
        return sequences
    }
}
