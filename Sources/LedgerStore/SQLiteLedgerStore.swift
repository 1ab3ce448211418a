import Foundation
public import LedgerCore
import SQLiteStore
import Synchronization

/// Why the ledger store cannot do what was asked.
public struct LedgerStoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The chain in one SQLite file (WAL, `synchronous=FULL`): blocks with deflated bodies, a
/// per-record index (meter, sequence → block, position), meter heads, the registry log and a
/// bounded log of refused records. Layout and reasoning: docs/AGGREGATOR.md, "Storage".
///
/// One writer connection and one reader connection, each behind its own lock, so the read API
/// never waits for a block commit (WAL readers see the last committed block).
public final class SQLiteLedgerStore: LedgerStorage {
    static let schemaVersion: Int32 = 2
    /// "GLDG" in the SQLite header's application id.
    static let applicationID: Int32 = 0x474C_4447
    public static let defaultRefusalLimit = 10_000

    public let path: String
    let writer: Mutex<SQLiteDatabase>
    private let reader: Mutex<SQLiteDatabase>
    private let bodyCache: Mutex<[UInt64: Block]>
    private let compressionLevel: Int32
    private let refusalLimit: Int

    /// How a store is opened.
    public enum Access: Sendable, Hashable {
        /// The aggregator: creates the store if needed; refuses a store made for another key,
        /// whose blocks could not be verified with this one.
        case aggregator(publicKey: [UInt8])
        /// The operator tool's registry commands: an existing store, read-write.
        case existing
        /// Verifiers and exports: an existing store, read-only.
        case readOnly
    }

    public init(path: String, access: Access, compressionLevel: Int32 = 6, refusalLimit: Int = defaultRefusalLimit) throws {
        self.path = path
        self.compressionLevel = compressionLevel
        self.refusalLimit = refusalLimit
        let creates = if case .aggregator = access { true } else { false }
        if !creates, !FileManager.default.fileExists(atPath: path) {
            throw LedgerStoreError("\(path) does not exist (the aggregator creates it on its first start, or with `gridledger-aggregator init`)")
        }
        let db = try SQLiteDatabase(path: path, readOnly: access == .readOnly)
        switch access {
        case .aggregator(let publicKey):
            try db.setJournalMode(.wal)
            try db.setSynchronous(.full)
            try Self.migrate(db, aggregatorKey: publicKey)
        case .existing, .readOnly:
            guard try db.applicationID() == Self.applicationID else { throw LedgerStoreError("\(path) is not a GridLedger aggregator database") }
            let version = try db.userVersion()
            guard version == Self.schemaVersion else {
                let hint = version < Self.schemaVersion ? " (start the aggregator once: it upgrades the file)" : ""
                throw LedgerStoreError("\(path) has schema version \(version); this tool knows \(Self.schemaVersion)\(hint)")
            }
            if access == .existing { try db.setSynchronous(.full) }
        }
        writer = Mutex(db)
        reader = Mutex(try SQLiteDatabase(path: path, readOnly: true))
        bodyCache = Mutex([:])
    }

    /// The aggregator public key the store was created for.
    public func aggregatorKey() throws -> [UInt8] {
        try reader.withLock { db in
            guard let key = try db.query("SELECT value FROM meta WHERE key = 'aggregator_key'").first?.first?.blob else {
                throw LedgerStoreError("\(path) has no aggregator key")
            }
            return key
        }
    }

    private static func migrate(_ db: SQLiteDatabase, aggregatorKey: [UInt8]) throws {
        let version = try db.userVersion()
        if version == 0 {
            try db.transaction {
                try db.execute("""
                    CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE blocks(
                        height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL,
                        signature BLOB NOT NULL, body BLOB NOT NULL, body_encoding INTEGER NOT NULL,
                        record_count INTEGER NOT NULL, event_count INTEGER NOT NULL);
                    CREATE TABLE meters(ref INTEGER PRIMARY KEY, meter_id TEXT NOT NULL UNIQUE, head BLOB);
                    CREATE TABLE records(
                        meter_ref INTEGER NOT NULL, sequence INTEGER NOT NULL, capture_ms INTEGER NOT NULL,
                        height INTEGER NOT NULL, position INTEGER NOT NULL,
                        PRIMARY KEY(meter_ref, sequence)) WITHOUT ROWID;
                    CREATE TABLE registry(id INTEGER PRIMARY KEY, entry BLOB NOT NULL, height INTEGER, rejected TEXT);
                    CREATE TABLE refused(
                        id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
                        meter_id TEXT, gateway_id TEXT, envelope BLOB NOT NULL);
                    """)
                try db.execute(contractTables)
                let insert = try db.prepare("INSERT INTO meta(key, value) VALUES ('aggregator_key', ?1)")
                try insert.bind(aggregatorKey, at: 1)
                try insert.step()
                try db.setApplicationID(applicationID)
                try db.setUserVersion(schemaVersion)
            }
            return
        }
        guard try db.applicationID() == applicationID else { throw LedgerStoreError("\(db.path) is not a GridLedger aggregator database") }
        guard version <= schemaVersion else {
            throw LedgerStoreError("\(db.path) has schema version \(version); this aggregator knows \(schemaVersion)")
        }
        let stored = try db.query("SELECT value FROM meta WHERE key = 'aggregator_key'").first?.first?.blob
        guard stored == aggregatorKey else {
            throw LedgerStoreError("\(db.path) was created for aggregator key \(KeyID.fingerprint(stored ?? [])), not \(KeyID.fingerprint(aggregatorKey)): its blocks were signed with another key")
        }
        if version == 1 {
            // Version 2 adds contract submissions and the settlement index; a version 1 chain has neither.
            try db.transaction {
                try db.execute(contractTables)
                try db.setUserVersion(schemaVersion)
            }
        }
    }

    /// Schema version 2: submitted contracts (pending until a block records them) and where each
    /// settlement event is, by interval.
    private static let contractTables = """
        CREATE TABLE contracts(
            id INTEGER PRIMARY KEY, document BLOB NOT NULL, submitted_ms INTEGER NOT NULL, height INTEGER, rejected TEXT);
        CREATE TABLE settlements(
            interval_ms INTEGER NOT NULL, height INTEGER NOT NULL, event INTEGER NOT NULL,
            PRIMARY KEY(interval_ms, height, event)) WITHOUT ROWID;
        """

    // MARK: Writing

    public func append(_ commit: BlockCommit) throws {
        let block = commit.block
        let body = block.encodedBody()
        let stored = compressionLevel == 0 ? body : try Deflate.compress(body, level: compressionLevel)
        try writer.withLock { db in
            try db.transaction {
                let insertBlock = try db.cachedStatement("""
                    INSERT INTO blocks(height, hash, header, signature, body, body_encoding, record_count, event_count)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                    """)
                try insertBlock.bind([
                    .integer(Int64(block.header.height)), .blob(block.header.hash), .blob(block.header.encoded()), .blob(block.signature),
                    .blob(stored), .integer(compressionLevel == 0 ? 0 : 1), .integer(Int64(block.records.count)), .integer(Int64(block.events.count)),
                ])
                _ = try insertBlock.step()
                insertBlock.reset()

                var refs: [String: Int64] = [:]
                func meterRef(_ meterID: String) throws -> Int64 {
                    if let ref = refs[meterID] { return ref }
                    let select = try db.cachedStatement("SELECT ref FROM meters WHERE meter_id = ?1")
                    defer { select.reset() }
                    try select.bind(meterID, at: 1)
                    let ref: Int64
                    if try select.step() {
                        ref = select.int64(at: 0)
                    } else {
                        let insert = try db.cachedStatement("INSERT INTO meters(meter_id) VALUES (?1)")
                        defer { insert.reset() }
                        try insert.bind(meterID, at: 1)
                        _ = try insert.step()
                        ref = db.lastInsertRowID
                    }
                    refs[meterID] = ref
                    return ref
                }

                let insertRecord = try db.cachedStatement(
                    "INSERT INTO records(meter_ref, sequence, capture_ms, height, position) VALUES (?1, ?2, ?3, ?4, ?5)")
                for (position, key) in commit.recordKeys.enumerated() {
                    try insertRecord.bind(try meterRef(key.meterID), at: 1)
                    try insertRecord.bind(Int64(bitPattern: key.sequence), at: 2)
                    try insertRecord.bind(key.captureMillis, at: 3)
                    try insertRecord.bind(Int64(block.header.height), at: 4)
                    try insertRecord.bind(position, at: 5)
                    _ = try insertRecord.step()
                    insertRecord.reset()
                }

                let updateHead = try db.cachedStatement("UPDATE meters SET head = ?2 WHERE ref = ?1")
                for (meterID, head) in commit.heads {
                    try updateHead.bind(try meterRef(meterID), at: 1)
                    try updateHead.bind(head.encoded(), at: 2)
                    _ = try updateHead.step()
                    updateHead.reset()
                }

                let markRegistry = try db.cachedStatement("UPDATE registry SET height = ?2 WHERE id = ?1 AND height IS NULL AND rejected IS NULL")
                for id in commit.registryEntryIDs {
                    try markRegistry.bind(id, at: 1)
                    try markRegistry.bind(Int64(block.header.height), at: 2)
                    _ = try markRegistry.step()
                    markRegistry.reset()
                    guard db.changes == 1 else { throw LedgerStoreError("registry entry \(id) is not pending") }
                }

                try Self.recordContracts(commit, into: db)
                try Self.insertRefusals(commit.refusals, limit: refusalLimit, into: db)
            }
        }
    }

    public func recordRefusals(_ refusals: [RefusedRecord]) throws {
        try writer.withLock { db in try db.transaction { try Self.insertRefusals(refusals, limit: refusalLimit, into: db) } }
    }

    private static func insertRefusals(_ refusals: [RefusedRecord], limit: Int, into db: SQLiteDatabase) throws {
        guard !refusals.isEmpty else { return }
        let insert = try db.cachedStatement(
            "INSERT INTO refused(received_ms, reason, detail, meter_id, gateway_id, envelope) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        for refusal in refusals.suffix(limit) {
            try insert.bind([
                .integer(refusal.receivedMillis), .text(refusal.reason), .text(refusal.detail),
                refusal.meterID.map { .text($0) } ?? .null, refusal.gatewayID.map { .text($0) } ?? .null, .blob(refusal.envelope),
            ])
            _ = try insert.step()
            insert.reset()
        }
        try db.execute("DELETE FROM refused WHERE id <= (SELECT max(id) FROM refused) - \(limit)")
    }

    @discardableResult
    public func enqueueRegistryEntry(_ entry: RegistryEntry) throws -> Int64 {
        let bytes = try LedgerEvent.registry(entry).encoded()
        return try writer.withLock { db in
            let insert = try db.prepare("INSERT INTO registry(entry) VALUES (?1)")
            try insert.bind(bytes, at: 1)
            _ = try insert.step()
            return db.lastInsertRowID
        }
    }

    public func rejectPendingRegistryEntry(id: Int64, reason: String) throws {
        try writer.withLock { db in
            let update = try db.prepare("UPDATE registry SET rejected = ?2 WHERE id = ?1 AND height IS NULL")
            try update.bind([.integer(id), .text(reason)])
            _ = try update.step()
        }
    }

    // MARK: Reading

    public func latestHeader() throws -> BlockHeader? {
        try read { db in
            guard let bytes = try db.query("SELECT header FROM blocks ORDER BY height DESC LIMIT 1").first?.first?.blob else { return nil }
            return try BlockHeader(decoding: bytes)
        }
    }

    public func block(height: UInt64) throws -> Block? {
        if let cached = bodyCache.withLock({ $0[height] }) { return cached }
        let block: Block? = try read { db in
            let rows = try db.query("SELECT header, signature, body, body_encoding FROM blocks WHERE height = ?1", [.integer(Int64(bitPattern: height))])
            guard let row = rows.first, let header = row[0].blob, let signature = row[1].blob, let stored = row[2].blob else { return nil }
            let body = row[3].integer == 1 ? try Deflate.decompress(stored, maximumSize: 1 << 30) : stored
            let (records, events) = try Block.decodeBody(body)
            return Block(header: try BlockHeader(decoding: header), signature: signature, records: records, events: events)
        }
        if let block {
            bodyCache.withLock { cache in
                if cache.count >= 8 { cache.removeAll() }
                cache[height] = block
            }
        }
        return block
    }

    public func height(ofBlockHash hash: [UInt8]) throws -> UInt64? {
        try read { db in
            try db.queryInt64("SELECT height FROM blocks WHERE hash = ?1", [.blob(hash)]).map { UInt64($0) }
        }
    }

    public func headers(from height: UInt64, limit: Int) throws -> [(header: BlockHeader, signature: [UInt8])] {
        try read { db in
            let rows = try db.query("SELECT header, signature FROM blocks WHERE height >= ?1 ORDER BY height LIMIT ?2",
                                    [.integer(Int64(bitPattern: height)), .integer(Int64(limit))])
            return try rows.map { row in (try BlockHeader(decoding: row[0].blob ?? []), row[1].blob ?? []) }
        }
    }

    public func heads() throws -> [String: MeterHead] {
        try read { db in
            var heads: [String: MeterHead] = [:]
            for row in try db.query("SELECT meter_id, head FROM meters WHERE head IS NOT NULL") {
                heads[row[0].text ?? ""] = try MeterHead(decoding: row[1].blob ?? [])
            }
            return heads
        }
    }

    public func recordedRegistryEntries() throws -> [RegistryEntry] {
        try read { db in
            try db.query("SELECT entry FROM registry WHERE height IS NOT NULL ORDER BY height, id").map { row in
                guard case .registry(let entry) = try LedgerEvent(decoding: row[0].blob ?? []) else { throw LedgerStoreError("registry row is not a registry entry") }
                return entry
            }
        }
    }

    public func pendingRegistryEntries() throws -> [PendingRegistryEntry] {
        try read { db in
            try db.query("SELECT id, entry FROM registry WHERE height IS NULL AND rejected IS NULL ORDER BY id").map { row in
                guard case .registry(let entry) = try LedgerEvent(decoding: row[1].blob ?? []) else { throw LedgerStoreError("registry row is not a registry entry") }
                return PendingRegistryEntry(id: row[0].integer ?? 0, entry: entry)
            }
        }
    }

    /// Registry entries the aggregator refused, with the reason.
    public func rejectedRegistryEntries() throws -> [(entry: RegistryEntry, reason: String)] {
        try read { db in
            try db.query("SELECT entry, rejected FROM registry WHERE rejected IS NOT NULL ORDER BY id").compactMap { row in
                guard case .registry(let entry) = try LedgerEvent(decoding: row[0].blob ?? []) else { return nil }
                return (entry, row[1].text ?? "")
            }
        }
    }

    public func records(meterID: String, fromMillis: Int64, toMillis: Int64, limit: Int) throws -> [StoredRecord] {
        let locations: [RecordLocation] = try read { db in
            try db.query("""
                SELECT r.sequence, r.capture_ms, r.height, r.position FROM records r JOIN meters m ON m.ref = r.meter_ref
                WHERE m.meter_id = ?1 AND r.capture_ms >= ?2 AND r.capture_ms < ?3 ORDER BY r.sequence LIMIT ?4
                """, [.text(meterID), .integer(fromMillis), .integer(toMillis), .integer(Int64(limit))]).map { row in
                RecordLocation(meterID: meterID, sequence: UInt64(bitPattern: row[0].integer ?? 0), captureMillis: row[1].integer ?? 0,
                               height: UInt64(row[2].integer ?? 0), position: Int(row[3].integer ?? 0))
            }
        }
        return try locations.map { location in
            guard let block = try block(height: location.height), block.records.indices.contains(location.position) else {
                throw LedgerStoreError("record \(location.meterID)#\(location.sequence) points at a missing block \(location.height)")
            }
            return StoredRecord(location: location, envelope: block.records[location.position])
        }
    }

    public func location(meterID: String, sequence: UInt64) throws -> RecordLocation? {
        try read { db in
            try db.query("""
                SELECT r.capture_ms, r.height, r.position FROM records r JOIN meters m ON m.ref = r.meter_ref
                WHERE m.meter_id = ?1 AND r.sequence = ?2
                """, [.text(meterID), .integer(Int64(bitPattern: sequence))]).first.map { row in
                RecordLocation(meterID: meterID, sequence: sequence, captureMillis: row[0].integer ?? 0,
                               height: UInt64(row[1].integer ?? 0), position: Int(row[2].integer ?? 0))
            }
        }
    }

    public func refusals(limit: Int) throws -> [RefusedRecord] {
        try read { db in
            try db.query("SELECT received_ms, reason, detail, meter_id, gateway_id, envelope FROM refused ORDER BY id DESC LIMIT ?1",
                         [.integer(Int64(limit))]).map { row in
                RefusedRecord(receivedMillis: row[0].integer ?? 0, reason: row[1].text ?? "", detail: row[2].text ?? "",
                              meterID: row[3].text, gatewayID: row[4].text, envelope: row[5].blob ?? [])
            }
        }
    }

    public func statistics() throws -> StoreStatistics {
        let counts = try read { db in
            try db.query("SELECT count(*), coalesce(sum(record_count), 0), coalesce(sum(event_count), 0) FROM blocks").first ?? []
        }
        var bytes = 0
        for suffix in ["", "-wal"] {
            if let size = (try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? NSNumber { bytes += size.intValue }
        }
        return StoreStatistics(blocks: Int(counts[0].integer ?? 0), records: Int(counts[1].integer ?? 0), events: Int(counts[2].integer ?? 0), fileBytes: bytes)
    }

    /// Every block from `height` on, in order, for the verifier and export; stops when `body` returns false.
    public func forEachBlock(from height: UInt64 = 0, _ body: (Block) throws -> Bool) throws {
        var next = height
        while let block = try block(height: next) {
            guard try body(block) else { return }
            next += 1
        }
    }

    func read<T: Sendable>(_ body: (inout SQLiteDatabase) throws -> T) throws -> T {
        try reader.withLock { (db: inout SQLiteDatabase) throws -> T in try body(&db) }
    }
}
