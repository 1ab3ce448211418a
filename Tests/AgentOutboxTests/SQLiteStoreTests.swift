import Foundation
import GridLedgerTestSupport
import SQLiteStore
import Testing

@Suite("SQLite wrapper")
struct SQLiteStoreTests {
    private struct Abort: Error, Equatable {}

    private func database(_ directory: TemporaryDirectory) throws -> SQLiteDatabase {
        let db = try SQLiteDatabase(path: directory.path("store.db"))
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value)")
        return db
    }

    @Test("blobs round-trip exactly: empty (not NULL), zero bytes, all byte values")
    func blobRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let db = try database(directory)
        let blobs: [[UInt8]] = [[], [0], [0, 0, 0], Array(0...255), [UInt8](repeating: 0xA5, count: 4096)]
        let insert = try db.prepare("INSERT INTO t (value) VALUES (?1)")
        for blob in blobs {
            insert.reset()
            try insert.bind(blob, at: 1)
            #expect(try insert.step() == false)
        }
        let select = try db.prepare("SELECT value, typeof(value), length(value) FROM t ORDER BY id")
        var read: [[UInt8]] = []
        while try select.step() {
            #expect(!select.isNull(at: 0))
            #expect(select.text(at: 1) == "blob")
            read.append(select.blob(at: 0))
            #expect(select.int(at: 2) == read.last!.count)
        }
        #expect(read == blobs)
    }

    @Test("text, integers, reals and NULL round-trip; empty text is not NULL")
    func valuesRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let db = try database(directory)
        let values: [SQLiteValue] = [
            .text(""), .text("Zähler ⚡️"), .text("a\u{0}b"), .integer(Int64.min), .integer(Int64.max), .integer(0),
            .real(-1.5), nil, .blob([]),
        ]
        for value in values { try db.query("INSERT INTO t (value) VALUES (?1)", [value]) }
        let rows = try db.query("SELECT value FROM t ORDER BY id")
        #expect(rows.map { $0[0] } == values)
        #expect(try db.queryInt64("SELECT count(*) FROM t WHERE value IS NULL") == 1)
        #expect(db.lastInsertRowID == Int64(values.count))
        try db.execute("UPDATE t SET value = 1 WHERE id <= 3")
        #expect(db.changes == 3)
    }

    @Test("a thrown error rolls the transaction back and is rethrown unchanged")
    func transactionRollsBack() throws {
        let directory = try TemporaryDirectory()
        let db = try database(directory)
        try db.transaction { try db.query("INSERT INTO t (value) VALUES (1)") }
        #expect(throws: Abort()) {
            try db.transaction {
                try db.query("INSERT INTO t (value) VALUES (2)")
                throw Abort()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try db.queryInt64("SELECT count(*) FROM t") == 1)
        // A failing statement inside rolls back too, and the SQLite error comes out.
        let error = #expect(throws: SQLiteError.self) {
            try db.transaction {
                try db.query("INSERT INTO t (value) VALUES (3)")
                try db.query("INSERT INTO t (id, value) VALUES (1, 'dup')")
            }
        }
        #expect(error?.code == SQLiteError.Code.constraint)
        #expect(try db.queryInt64("SELECT count(*) FROM t") == 1)
        // Transactions do not nest.
        #expect(throws: SQLiteError.self) { try db.transaction { try db.transaction {} } }
        #expect(!db.isInTransaction)
    }

    @Test("a file that is not a database fails at open with SQLITE_NOTADB")
    func notADatabase() throws {
        let directory = try TemporaryDirectory()
        for contents in ["hello", String(repeating: "not a database, just text\n", count: 200)] {
            let path = try directory.write("notes-\(contents.count).txt", contents)
            let error = #expect(throws: SQLiteError.self) { try SQLiteDatabase(path: path) }
            #expect(error?.code == SQLiteError.Code.notADatabase)
            #expect(error?.message == "file is not a database")
            #expect(error?.description.contains("SQLITE_NOTADB") == true)
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test("errors carry the code, the message and the SQL")
    func errorsDescribeTheFailure() throws {
        let directory = try TemporaryDirectory()
        let db = try database(directory)
        let syntax = #expect(throws: SQLiteError.self) { try db.prepare("SELEC 1") }
        #expect(syntax?.code == SQLiteError.Code.error)
        #expect(syntax?.message.contains("syntax error") == true)
        #expect(syntax?.sql == "SELEC 1")
        let range = #expect(throws: SQLiteError.self) { try db.prepare("SELECT ?1").bind(1, at: 2) }
        #expect(range?.code == SQLiteError.Code.range)
        #expect(throws: SQLiteError.self) { try db.prepare("SELECT 1; SELECT 2") }
        #expect(try db.prepare("SELECT 1; -- one statement\n ").step())
        let missing = #expect(throws: SQLiteError.self) { try SQLiteDatabase(path: directory.path("absent.db"), readOnly: true) }
        #expect(missing?.code == SQLiteError.Code.cantOpen)
    }

    @Test("pragma helpers: WAL, synchronous, user_version")
    func pragmas() throws {
        let directory = try TemporaryDirectory()
        let db = try database(directory)
        try db.setJournalMode(.wal)
        #expect(try db.journalMode() == .wal)
        for level in SQLiteDatabase.Synchronous.allCases {
            try db.setSynchronous(level)
            #expect(try db.synchronous() == level)
        }
        #expect(try db.userVersion() == 0)
        try db.setUserVersion(7)
        db.close()
        let reopened = try SQLiteDatabase(path: directory.path("store.db"))
        #expect(try reopened.userVersion() == 7)
        #expect(try reopened.journalMode() == .wal)
        let memory = try SQLiteDatabase(path: ":memory:")
        #expect(throws: SQLiteError.self) { try memory.setJournalMode(.wal) }
    }

    @Test("a statement may outlive its database: using it after close throws, releasing it is safe")
    func statementOutlivesDatabase() throws {
        let directory = try TemporaryDirectory()
        var db: SQLiteDatabase? = try database(directory)
        let statement = try db!.prepare("SELECT count(*) FROM t")
        let cached = try db!.cachedStatement("SELECT 1")
        #expect(try statement.step())
        db!.close()
        let error = #expect(throws: SQLiteError.self) { try statement.step() }
        #expect(error?.code == SQLiteError.Code.misuse)
        #expect(throws: SQLiteError.self) { try cached.step() }
        db = nil
        #expect(db == nil)
    }

    @Test("cached statements are reused, reset and cleared")
    func cachedStatements() throws {
        let directory = try TemporaryDirectory()
        let db = try database(directory)
        let first = try db.cachedStatement("SELECT ?1")
        try first.bind(5, at: 1)
        #expect(try first.step())
        let second = try db.cachedStatement("SELECT ?1")
        #expect(first === second)
        #expect(try second.step())
        #expect(second.isNull(at: 0))
    }
}
