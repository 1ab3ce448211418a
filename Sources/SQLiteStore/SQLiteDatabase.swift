import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SQLite connection: statements, transactions and the pragmas a durable store needs.
///
/// Not thread-safe and not `Sendable`: one owner at a time (wrap it in a `Mutex`). The connection
/// is opened with `SQLITE_OPEN_NOMUTEX` for that reason.
///
/// Statements from ``prepare(_:)`` belong to their caller and are finalized when released;
/// statements from ``cachedStatement(_:)`` belong to the database and are finalized by ``close()``.
/// Either may outlive the database: the handle is closed with `sqlite3_close_v2`, which waits for
/// the last statement, and a statement used after ``close()`` throws `SQLITE_MISUSE`.
///
/// ```swift
/// let db = try SQLiteDatabase(path: "/var/lib/app/state.db")
/// try db.setJournalMode(.wal)
/// try db.setSynchronous(.full)
/// try db.transaction {
///     let insert = try db.cachedStatement("INSERT INTO log(text) VALUES (?1)")
///     try insert.bind("hello", at: 1)
///     try insert.step()
/// }
/// ```
public final class SQLiteDatabase {
    /// `PRAGMA journal_mode` values.
    public enum JournalMode: String, Sendable, Hashable, CaseIterable {
        case delete, truncate, persist, memory, wal, off
    }

    /// `PRAGMA synchronous` levels.
    public enum Synchronous: Int, Sendable, Hashable, CaseIterable {
        case off = 0, normal = 1, full = 2, extra = 3
    }

    /// The path the database was opened with.
    public let path: String
    public let isReadOnly: Bool
    let connection: SQLiteConnection
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (and, unless `readOnly`, creates) the database at `path`.
    ///
    /// A file created here gets `permissions` (before the umask) and its directory is fsynced, so
    /// a power cut cannot lose the new file's directory entry. The header is read at once, so a
    /// file that is not a database fails here with `SQLITE_NOTADB` ("file is not a database")
    /// rather than at the first query.
    /// - Parameter busyTimeoutMillis: how long a statement waits for another connection's lock.
    public init(path: String, readOnly: Bool = false, permissions: Int = 0o600, busyTimeoutMillis: Int = 5000) throws(SQLiteError) {
        self.path = path
        self.isReadOnly = readOnly
        if !readOnly, Self.isPlainFilePath(path) { try Self.createFile(path, permissions: permissions) }
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let error: SQLiteError
            if let handle {
                error = SQLiteError(code: rc, extendedCode: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), path: path)
                sqlite3_close_v2(handle)
            } else {
                error = SQLiteError(code: rc, message: SQLiteError.text(for: rc), path: path)
            }
            throw error
        }
        connection = SQLiteConnection(handle: handle, path: path)
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(clamping: busyTimeoutMillis))
        // Reading the schema cookie reads the header: a foreign file fails now, clearly.
        _ = try queryInt64("PRAGMA schema_version")
    }

    deinit { close() }

    /// Finalizes the cached statements and closes the connection. Idempotent. Statements still
    /// held by callers keep SQLite's handle alive until they are released, but throw when used.
    public func close() {
        cache.removeAll()
        connection.close()
    }

    public var isOpen: Bool { connection.handle != nil }

    // MARK: Statements

    /// Runs one or more `;`-separated statements, discarding any rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        let handle = try connection.open(for: sql)
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? SQLiteError.text(for: rc)
            sqlite3_free(message)
            throw SQLiteError(code: rc, extendedCode: sqlite3_extended_errcode(handle), message: text, sql: sql, path: path)
        }
    }

    /// A new prepared statement for exactly one SQL statement, owned by the caller.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(connection: connection, sql: sql, persistent: false)
    }

    /// A prepared statement kept by the database and reused for the same `sql`, returned reset
    /// with its bindings cleared. Use it for the SQL a store runs repeatedly; do not hold it
    /// across another call for the same SQL (both would share one statement).
    public func cachedStatement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = cache[sql] {
            statement.reset()
            statement.clearBindings()
            return statement
        }
        let statement = try SQLiteStatement(connection: connection, sql: sql, persistent: true)
        cache[sql] = statement
        return statement
    }

    /// Prepares `sql`, binds `bindings` from index 1, and returns every row.
    @discardableResult
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        try prepare(sql).query(bindings)
    }

    /// The first column of the first row as an integer; nil when there is no row or it is NULL.
    public func queryInt64(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> Int64? {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        guard try statement.step(), !statement.isNull(at: 0) else { return nil }
        return statement.int64(at: 0)
    }

    /// The first column of the first row as text; nil when there is no row or it is NULL.
    public func queryText(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> String? {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        guard try statement.step(), !statement.isNull(at: 0) else { return nil }
        return statement.text(at: 0)
    }

    // MARK: Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so the
    /// commit cannot fail on a lock upgrade). Commits when `body` returns; rolls back when `body`
    /// or the commit throws, and rethrows that original error. Transactions do not nest.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let handle = try connection.open(for: "BEGIN IMMEDIATE")
        guard sqlite3_get_autocommit(handle) != 0 else {
            throw SQLiteError.misuse("transaction() called inside a transaction", sql: "BEGIN IMMEDIATE", path: path)
        }
        try execute("BEGIN IMMEDIATE")
        let result: T
        do {
            result = try body()
            try execute("COMMIT")
        } catch {
            rollbackIfActive()
            throw error
        }
        return result
    }

    /// True between BEGIN and COMMIT/ROLLBACK.
    public var isInTransaction: Bool {
        guard let handle = connection.handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }

    private func rollbackIfActive() {
        // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, ...).
        guard let handle = connection.handle, sqlite3_get_autocommit(handle) == 0 else { return }
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }

    // MARK: Connection state

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 {
        guard let handle = connection.handle else { return 0 }
        return sqlite3_last_insert_rowid(handle)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE (not counting triggers).
    public var changes: Int {
        guard let handle = connection.handle else { return 0 }
        return Int(sqlite3_changes64(handle))
    }

    // MARK: Pragmas

    /// Sets the journal mode and checks SQLite actually switched (WAL is refused, for example,
    /// on an in-memory database or a file system without shared memory).
    public func setJournalMode(_ mode: JournalMode) throws(SQLiteError) {
        let sql = "PRAGMA journal_mode = \(mode.rawValue)"
        let result = try prepare(sql).query().first?.first?.text?.lowercased()
        guard result == mode.rawValue else {
            throw SQLiteError(code: SQLiteError.Code.error, message: "journal mode stayed \(result ?? "unknown") instead of \(mode.rawValue)", sql: sql, path: path)
        }
    }

    public func journalMode() throws(SQLiteError) -> JournalMode? {
        try queryText("PRAGMA journal_mode").flatMap { JournalMode(rawValue: $0.lowercased()) }
    }

    /// Sets `PRAGMA synchronous` for this connection (it is not stored in the file).
    public func setSynchronous(_ level: Synchronous) throws(SQLiteError) {
        try execute("PRAGMA synchronous = \(level.rawValue)")
    }

    public func synchronous() throws(SQLiteError) -> Synchronous? {
        try queryInt64("PRAGMA synchronous").flatMap { Synchronous(rawValue: Int($0)) }
    }

    /// `PRAGMA user_version`: the schema version, for migrations. Transactional.
    public func userVersion() throws(SQLiteError) -> Int32 {
        Int32(truncatingIfNeeded: try queryInt64("PRAGMA user_version") ?? 0)
    }

    public func setUserVersion(_ version: Int32) throws(SQLiteError) {
        try execute("PRAGMA user_version = \(version)")
    }

    /// `PRAGMA application_id`: tells this application's files from other SQLite files.
    public func applicationID() throws(SQLiteError) -> Int32 {
        Int32(truncatingIfNeeded: try queryInt64("PRAGMA application_id") ?? 0)
    }

    public func setApplicationID(_ id: Int32) throws(SQLiteError) {
        try execute("PRAGMA application_id = \(id)")
    }

    /// `PRAGMA data_version`: changes when another connection commits (never for this one's own).
    public func dataVersion() throws(SQLiteError) -> Int64 {
        try queryInt64("PRAGMA data_version") ?? 0
    }

    // MARK: Files

    private static func isPlainFilePath(_ path: String) -> Bool {
        !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:")
    }

    /// Creates an empty file with `permissions` unless it exists, then fsyncs its directory.
    private static func createFile(_ path: String, permissions: Int) throws(SQLiteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(truncatingIfNeeded: permissions))
        if fd < 0 {
            let code = errno
            if code == EEXIST { return }
            throw SQLiteError(code: SQLiteError.Code.cantOpen, message: "cannot create the database file: \(String(cString: strerror(code)))", path: path)
        }
        closeDescriptor(fd)
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return }
        _ = fsync(dirFD)
        closeDescriptor(dirFD)
    }
}

/// `close(2)`, out of reach of ``SQLiteDatabase/close()`` shadowing it inside the class.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
