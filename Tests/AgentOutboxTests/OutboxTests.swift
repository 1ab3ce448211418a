import AgentOutbox
import Foundation
import GridLedgerTestSupport
import SQLiteStore
import Testing

@Suite("Outbox")
struct OutboxTests {
    @Test("heads, batch sequence, bindings and records survive close and reopen")
    func reopenKeepsState() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("outbox.db")
        let before: OutboxSnapshot
        do {
            let outbox = try Outbox(path: path)
            try outbox.setMeterBinding("bus1:3", meterID: "gw:bus1:3:12345678")
            try outbox.append([testEntry("a", 1), testEntry("b", 1), testEntry("a", 2)], batchSequence: 1)
            try outbox.append([testEntry("b", 2)], batchSequence: 2)
            try outbox.markPublished([1], atMillis: 500)
            before = try OutboxSnapshot(outbox)
        }
        let outbox = try Outbox(path: path)
        let after = try OutboxSnapshot(outbox)
        #expect(after == before)
        #expect(after.heads == ["a": ChainHead(sequence: 2, hash: testHash("a", 2)), "b": ChainHead(sequence: 2, hash: testHash("b", 2))])
        #expect(after.batch == 2)
        #expect(after.bindings == ["bus1:3": "gw:bus1:3:12345678"])
        #expect(after.records.map(\.sequence) == [1, 1, 2, 2])
        #expect(after.records[1].payload == Array("envelope b#1".utf8))
        #expect(after.statistics.unpublished == 3)
        // The chains continue where they were.
        try outbox.append([testEntry("a", 3)], batchSequence: 3)
        #expect(try outbox.chainHeads()["a"]?.sequence == 3)
    }

    @Test("a copy of the file and its WAL taken while open (as after kill -9) reopens intact")
    func crashCopyRecovers() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("outbox.db")
        let outbox = try Outbox(path: path)
        try outbox.append((1...5).map { testEntry("m", $0) }, batchSequence: 9)
        let before = try OutboxSnapshot(outbox)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: directory.path("crashed.db") + suffix)
        }
        let recovered = try Outbox(path: directory.path("crashed.db"))
        #expect(try OutboxSnapshot(recovered) == before)
        #expect(try recovered.chainHeads()["m"] == ChainHead(sequence: 5, hash: testHash("m", 5)))
        _ = outbox
    }

    @Test("a wrong start, a gap, a reused number or a misordered call are refused")
    func sequenceMismatch() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        #expect(throws: OutboxError.sequenceMismatch(meter: "m", expected: 1, got: 2)) {
            try outbox.append([testEntry("m", 2)], batchSequence: 1)
        }
        #expect(throws: OutboxError.sequenceMismatch(meter: "m", expected: 1, got: 0)) {
            try outbox.append([testEntry("m", 0)], batchSequence: 1)
        }
        try outbox.append([testEntry("m", 1), testEntry("m", 2), testEntry("m", 3)], batchSequence: 1)
        #expect(throws: OutboxError.sequenceMismatch(meter: "m", expected: 4, got: 5)) {
            try outbox.append([testEntry("m", 5)], batchSequence: 2)
        }
        #expect(throws: OutboxError.sequenceMismatch(meter: "m", expected: 4, got: 3)) {
            try outbox.append([testEntry("m", 3)], batchSequence: 2)
        }
        #expect(throws: OutboxError.sequenceMismatch(meter: "m", expected: 4, got: 5)) {
            try outbox.append([testEntry("m", 5), testEntry("m", 4)], batchSequence: 2)
        }
        // Confirmed records leave the outbox, but their numbers stay used.
        #expect(try outbox.confirm(meterID: "m", upTo: 3) == 3)
        #expect(throws: OutboxError.sequenceMismatch(meter: "m", expected: 4, got: 1)) {
            try outbox.append([testEntry("m", 1)], batchSequence: 2)
        }
        try outbox.append([testEntry("m", 4)], batchSequence: 2)
        #expect(try outbox.chainHeads()["m"]?.sequence == 4)
    }

    @Test("an append whose third entry is bad leaves the file unchanged")
    func appendIsAtomic() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        try outbox.append([testEntry("a", 1), testEntry("b", 1)], batchSequence: 4)
        let before = try OutboxSnapshot(outbox)
        let bad: [[OutboxEntry]] = [
            [testEntry("a", 2), testEntry("b", 2), testEntry("a", 4)],  // gap, found inside the transaction
            [testEntry("a", 2), testEntry("c", 1), testEntry("c", 1)],  // reuse within the call
            [testEntry("a", 2), testEntry("b", 2), OutboxEntry(meterID: "a", sequence: 3, captureMillis: 0, recordHash: [1, 2], payload: [1])],
        ]
        for entries in bad {
            #expect(throws: OutboxError.self) { try outbox.append(entries, batchSequence: 5) }
            #expect(try OutboxSnapshot(outbox) == before)
        }
        // Batch 5 was not consumed: the good version of the batch goes in.
        try outbox.append([testEntry("a", 2), testEntry("b", 2), testEntry("a", 3)], batchSequence: 5)
        #expect(try outbox.storedSequences() == ["a": [1, 2, 3], "b": [1, 2]])
    }

    @Test("batch sequences must increase")
    func batchSequenceIncreases() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        #expect(try outbox.lastBatchSequence() == 0)
        #expect(throws: OutboxError.batchSequenceNotIncreasing(last: 0, got: 0)) { try outbox.append([testEntry("m", 1)], batchSequence: 0) }
        try outbox.append([testEntry("m", 1)], batchSequence: 10)
        #expect(throws: OutboxError.batchSequenceNotIncreasing(last: 10, got: 10)) { try outbox.append([testEntry("m", 2)], batchSequence: 10) }
        #expect(throws: OutboxError.batchSequenceNotIncreasing(last: 10, got: 3)) { try outbox.append([testEntry("m", 2)], batchSequence: 3) }
        try outbox.append([testEntry("m", 2)], batchSequence: 11)
        #expect(try outbox.lastBatchSequence() == 11)
    }

    @Test("invalid entries and arguments are refused with a clear reason")
    func validation() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: OutboxError.invalidBound(1)) { try Outbox(path: directory.path("small.db"), bound: 1) }
        let outbox = try Outbox(path: directory.path("outbox.db"))
        var entry = testEntry("m", 1)
        entry.meterID = ""
        let empty = #expect(throws: OutboxError.self) { try outbox.append([entry], batchSequence: 1) }
        #expect(empty?.description.contains("meter id is empty") == true)
        entry = testEntry("m", 1)
        entry.recordHash = [UInt8](repeating: 0, count: 31)
        let hash = #expect(throws: OutboxError.self) { try outbox.append([entry], batchSequence: 1) }
        #expect(hash?.description.contains("31 bytes, not 32") == true)
        entry = testEntry("m", 1)
        entry.payload = [UInt8](repeating: 0, count: Outbox.maximumPayloadBytes + 1)
        #expect(throws: OutboxError.self) { try outbox.append([entry], batchSequence: 1) }
        entry.payload = []
        #expect(throws: OutboxError.self) { try outbox.append([entry], batchSequence: 1) }
        entry.payload = [UInt8](repeating: 0, count: Outbox.maximumPayloadBytes)
        entry.sequence = UInt64(Int64.max) + 1
        #expect(throws: OutboxError.sequenceOutOfRange(meter: "m", sequence: UInt64(Int64.max) + 1)) { try outbox.append([entry], batchSequence: 1) }
        entry.sequence = 1
        #expect(throws: OutboxError.self) { try outbox.append([entry], batchSequence: .max) }
        #expect(throws: OutboxError.self) { try outbox.setMeterBinding("", meterID: "m") }
        #expect(throws: OutboxError.self) { try outbox.setMeterBinding("bus:1", meterID: "") }
        #expect(try outbox.depth() == 0)
        // A full-size payload is fine.
        try outbox.append([entry], batchSequence: 1)
        #expect(try outbox.due(limit: 1, republishBeforeMillis: 0).first?.payload.count == Outbox.maximumPayloadBytes)
    }

    @Test("due() returns records in insertion order, up to the limit")
    func dueOrderAndLimit() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        try outbox.append([testEntry("a", 1), testEntry("b", 1), testEntry("a", 2)], batchSequence: 1)
        try outbox.append([testEntry("b", 2), testEntry("c", 1), testEntry("a", 3)], batchSequence: 2)
        let all = try outbox.due(limit: 100, republishBeforeMillis: 0)
        #expect(all.map { "\($0.meterID)\($0.sequence)" } == ["a1", "b1", "a2", "b2", "c1", "a3"])
        #expect(all.map(\.id) == all.map(\.id).sorted())
        #expect(all[4].captureMillis == 1000 && all[4].payload == Array("envelope c#1".utf8))
        #expect(try outbox.due(limit: 3, republishBeforeMillis: 0) == Array(all.prefix(3)))
        #expect(try outbox.due(limit: 0, republishBeforeMillis: 0).isEmpty)
    }

    @Test("published records become due again only before the cutoff, or after resetPublished()")
    func publishedAndRepublished() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        try outbox.append((1...4).map { testEntry("m", $0) }, batchSequence: 1)
        let all = try outbox.due(limit: 10, republishBeforeMillis: 0)
        try outbox.markPublished([all[0].id, all[1].id], atMillis: 1000)
        try outbox.markPublished([all[3].id, 9999], atMillis: 2000)
        #expect(try outbox.due(limit: 10, republishBeforeMillis: 1000).map(\.sequence) == [3])
        #expect(try outbox.due(limit: 10, republishBeforeMillis: 1001).map(\.sequence) == [1, 2, 3])
        #expect(try outbox.due(limit: 10, republishBeforeMillis: 2001).map(\.sequence) == [1, 2, 3, 4])
        #expect(try outbox.due(limit: 2, republishBeforeMillis: 1001).map(\.sequence) == [1, 2])
        #expect(try outbox.statistics().unpublished == 1)
        try outbox.resetPublished()
        #expect(try outbox.due(limit: 10, republishBeforeMillis: 0).map(\.sequence) == [1, 2, 3, 4])
        #expect(try outbox.statistics().unpublished == 4)
    }

    @Test("confirm removes ≤ upTo of that meter only, counts, and is idempotent")
    func confirm() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        try outbox.append((1...5).flatMap { [testEntry("a", $0), testEntry("b", $0)] }, batchSequence: 1)
        #expect(try outbox.confirm(meterID: "a", upTo: 3) == 3)
        #expect(try outbox.storedSequences() == ["a": [4, 5], "b": [1, 2, 3, 4, 5]])
        #expect(try outbox.confirm(meterID: "a", upTo: 3) == 0)
        #expect(try outbox.confirm(meterID: "a", upTo: 2) == 0)
        #expect(try outbox.confirm(meterID: "unknown", upTo: 100) == 0)
        #expect(try outbox.confirm(meterID: "", upTo: 100) == 0)
        #expect(try outbox.confirm(meterID: "b", upTo: 0) == 0)
        #expect(try outbox.confirm(meterID: "b", upTo: .max) == 5)
        #expect(try outbox.depth() == 2)
        #expect(try outbox.statistics().pendingByMeter == ["a": 2])
        // Heads stay: the chains continue after the records are gone.
        #expect(try outbox.chainHeads().mapValues(\.sequence) == ["a": 5, "b": 5])
        #expect(try outbox.confirm(meterID: "a", upTo: 5) == 2)
        #expect(try outbox.depth() == 0)
        #expect(try outbox.statistics().oldestCaptureMillis == nil)
    }

    @Test("meter bindings are stored and replaced")
    func bindings() throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        #expect(try outbox.meterBindings().isEmpty)
        try outbox.setMeterBinding("bus1:3", meterID: "gw:bus1:3:1")
        try outbox.setMeterBinding("bus1:4", meterID: "gw:bus1:4:2")
        try outbox.setMeterBinding("bus1:3", meterID: "gw:bus1:3:9")
        #expect(try outbox.meterBindings() == ["bus1:3": "gw:bus1:3:9", "bus1:4": "gw:bus1:4:2"])
        // With an append: in its transaction, so a refused append stores no binding either.
        #expect(throws: OutboxError.self) { try outbox.append([testEntry("m", 2)], batchSequence: 1, bindings: ["bus2:1": "m"]) }
        #expect(try outbox.meterBindings()["bus2:1"] == nil)
        #expect(throws: OutboxError.self) { try outbox.append([testEntry("m", 1)], batchSequence: 1, bindings: ["": "m"]) }
        try outbox.append([testEntry("m", 1)], batchSequence: 1, bindings: ["bus2:1": "m"])
        #expect(try outbox.meterBindings()["bus2:1"] == "m")
    }

    @Test("the file is created with mode 0600, in WAL mode with synchronous=FULL")
    func fileModeAndDurabilitySettings() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("outbox.db")
        let outbox = try Outbox(path: path, bound: 500)
        try outbox.append([testEntry("m", 1)], batchSequence: 1)
        for file in [path, path + "-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        let settings = try outbox.settings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == "full")
        #expect(settings.schemaVersion == 1)
        #expect(settings.bound == 500)
        // Seen from another connection: WAL is a property of the file.
        let other = try SQLiteDatabase(path: path, readOnly: true)
        #expect(try other.journalMode() == .wal)
        #expect(try other.userVersion() == 1)
    }

    @Test("a file that is not a database gives a clear error, not a crash")
    func notADatabase() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("outbox.db", String(repeating: "meter readings\n", count: 100))
        let error = #expect(throws: OutboxError.self) { try Outbox(path: path) }
        guard case .storage(let sqlite)? = error else {
            Issue.record("expected a storage error, got \(String(describing: error))")
            return
        }
        #expect(sqlite.code == SQLiteError.Code.notADatabase)
        #expect(error?.description.contains("file is not a database") == true)
        #expect(error?.description.contains(path) == true)
    }

    @Test("another SQLite file or a newer schema is refused and left untouched")
    func foreignDatabase() throws {
        let directory = try TemporaryDirectory()
        let foreign = directory.path("foreign.db")
        do {
            let db = try SQLiteDatabase(path: foreign)
            try db.execute("CREATE TABLE notes (text TEXT)")
        }
        let error = #expect(throws: OutboxError.self) { try Outbox(path: foreign) }
        #expect(error?.description.contains("not a GridLedger outbox") == true)
        #expect(try SQLiteDatabase(path: foreign).journalMode() == .delete)

        let newer = directory.path("newer.db")
        do { _ = try Outbox(path: newer) }
        try SQLiteDatabase(path: newer).setUserVersion(2)
        #expect(throws: OutboxError.unsupportedSchemaVersion(found: 2, supported: 1)) { try Outbox(path: newer) }
    }

    @Test("concurrent callers are serialized")
    func concurrentCallers() async throws {
        let directory = try TemporaryDirectory()
        let outbox = try Outbox(path: directory.path("outbox.db"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 1...10 {
                    try outbox.append((1...3).map { testEntry("m", UInt64((batch - 1) * 3 + $0)) }, batchSequence: UInt64(batch))
                }
            }
            for _ in 0..<3 {
                group.addTask {
                    for _ in 0..<20 {
                        // Every record, published or not: always whole batches, in order.
                        let due = try outbox.due(limit: 1000, republishBeforeMillis: .max)
                        #expect(due.map(\.sequence) == (0..<UInt64(due.count)).map { $0 + 1 })
                        #expect(due.count % 3 == 0)
                        try outbox.markPublished(due.prefix(2).map(\.id), atMillis: 1)
                        _ = try outbox.statistics()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try outbox.depth() == 30)
        #expect(try outbox.chainHeads()["m"]?.sequence == 30)
    }
}
