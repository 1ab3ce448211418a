import AgentOutbox
import Foundation
import GridLedgerTestSupport
import Testing

@Suite("Outbox bound and thinning")
struct OutboxThinningTests {
    @Test("one record over the bound: the second of the oldest half goes")
    func exactThinning() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"), bound: 4)
        let outcome = try outbox.append((1...4).map { testEntry("m", $0) }, batchSequence: 1)
        #expect(outcome == AppendOutcome(thinned: 0, depth: 4))
        // Depth 5 > 4: the oldest half is records 1...3 (ceil(5 / 2)); every second one goes: 2.
        #expect(try outbox.append([testEntry("m", 5)], batchSequence: 2) == AppendOutcome(thinned: 1, depth: 4))
        #expect(try outbox.storedSequences() == ["m": [1, 3, 4, 5]])
        // Depth 5 again: oldest half 1, 3, 4: 3 goes.
        #expect(try outbox.append([testEntry("m", 6)], batchSequence: 3).thinned == 1)
        #expect(try outbox.storedSequences() == ["m": [1, 4, 5, 6]])
        #expect(try outbox.statistics().thinnedTotal == 2)
        #expect(try outbox.chainHeads()["m"]?.sequence == 6)
    }

    @Test("per meter within the window: the first of each meter is kept, and its newest record always")
    func perMeterThinning() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"), bound: 6)
        // ids: a1 b1 a2 b2 a3 b3 c1 → depth 7, window = 4 oldest (a1 b1 a2 b2): a2 and b2 go.
        let outcome = try outbox.append(
            [testEntry("a", 1), testEntry("b", 1), testEntry("a", 2), testEntry("b", 2), testEntry("a", 3), testEntry("b", 3), testEntry("c", 1)],
            batchSequence: 1)
        #expect(outcome == AppendOutcome(thinned: 2, depth: 5))
        #expect(try outbox.storedSequences() == ["a": [1, 3], "b": [1, 3], "c": [1]])
    }

    @Test("when every record is some meter's newest, the oldest go")
    func fallbackTerminates() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"), bound: 2)
        let outcome = try outbox.append([testEntry("a", 1), testEntry("b", 1), testEntry("c", 1)], batchSequence: 1)
        #expect(outcome == AppendOutcome(thinned: 1, depth: 2))
        #expect(try outbox.storedSequences() == ["b": [1], "c": [1]])
        // A batch far over the bound at once also ends at the bound.
        let big = try outbox.append((1...40).map { testEntry("d", $0) } + [testEntry("a", 2)], batchSequence: 2)
        #expect(big.depth <= 2)
        #expect(try outbox.depth() == big.depth)
        #expect(try outbox.statistics().thinnedTotal == 1 + big.thinned)
    }

    @Test("a long outage: depth stays ≤ bound, newest records kept, sequences increasing, count persisted")
    func longOutage() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("outbox.db")
        let meters = ["m1", "m2", "m3"]
        var appended = 0
        var thinned = 0
        do {
            let outbox = try Outbox(path: path, bound: 50)
            for batch in 1...40 {
                // m3 reports every other batch only.
                let reporting = batch % 2 == 0 ? meters : Array(meters.prefix(2))
                let entries = reporting.flatMap { meter in
                    (0..<2).map { testEntry(meter, UInt64(batch - 1) * 2 + UInt64($0) + 1) }
                }
                let batchEntries = entries.filter { $0.meterID != "m3" }
                    + entries.filter { $0.meterID == "m3" }.enumerated().map { testEntry("m3", UInt64(batch / 2 - 1) * 2 + UInt64($0.offset) + 1) }
                let outcome = try outbox.append(batchEntries, batchSequence: UInt64(batch))
                appended += batchEntries.count
                thinned += outcome.thinned
                #expect(outcome.depth <= 50)
                #expect(try outbox.depth() == outcome.depth)
                let stored = try outbox.storedSequences()
                let heads = try outbox.chainHeads()
                for (meter, sequences) in stored {
                    #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
                    #expect(sequences.last == heads[meter]?.sequence, "\(meter)'s newest record is kept")
                }
                #expect(Set(stored.keys) == Set(heads.keys))
            }
            #expect(thinned > 0)
            #expect(thinned == appended - (try outbox.depth()))
        }
        let reopened = try Outbox(path: path, bound: 50)
        #expect(try reopened.statistics().thinnedTotal == thinned)
        #expect(try reopened.chainHeads().mapValues(\.sequence) == ["m1": 80, "m2": 80, "m3": 40])
    }
}
