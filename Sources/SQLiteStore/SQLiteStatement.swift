import CSQLite

/// `SQLITE_TRANSIENT`, which Swift does not import: SQLite copies the bound bytes at once.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
/// A pointer that stays valid for binding "" (a NULL pointer would bind NULL).
private let emptyText: StaticString = ""

/// One prepared statement. Parameters are bound by 1-based index (`?1`, `?2`, ...), columns are
/// read by 0-based index, as in SQLite's C API. Finalized when released.
///
/// ```swift
/// let select = try db.prepare("SELECT id, payload FROM records WHERE meter_id = ?1 ORDER BY id")
/// try select.bind("m1", at: 1)
/// while try select.step() {
///     print(select.int64(at: 0), select.blob(at: 1).count)
/// }
/// ```
public final class SQLiteStatement {
    let connection: SQLiteConnection
    let handle: OpaquePointer
    /// The statement's SQL, as given.
    public let sql: String

    init(connection: SQLiteConnection, sql: String, persistent: Bool) throws(SQLiteError) {
        let db = try connection.open(for: sql)
        var statement: OpaquePointer?
        var trailing = false
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, text, -1, flags, &statement, &tail)
            // Whatever follows must be whitespace or comments: preparing it yields no statement.
            if rc == SQLITE_OK, let tail, tail.pointee != 0 {
                var next: OpaquePointer?
                if sqlite3_prepare_v2(db, tail, -1, &next, nil) != SQLITE_OK || next != nil { trailing = true }
                sqlite3_finalize(next)
            }
            return rc
        }
        guard rc == SQLITE_OK else { throw connection.error(rc, sql: sql) }
        guard let statement else { throw SQLiteError.misuse("no SQL statement to prepare", sql: sql, path: connection.path) }
        guard !trailing else {
            sqlite3_finalize(statement)
            throw SQLiteError.misuse("prepare() takes one statement; use execute() for several", sql: sql, path: connection.path)
        }
        self.connection = connection
        self.handle = statement
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw connection.error(rc, sql: sql) }
    }

    private func ensureOpen() throws(SQLiteError) { _ = try connection.open(for: sql) }

    // MARK: Binding (1-based)

    public func bind(_ value: Int64, at index: Int) throws(SQLiteError) {
        try ensureOpen()
        try check(sqlite3_bind_int64(handle, Int32(clamping: index), value))
    }

    public func bind(_ value: Int, at index: Int) throws(SQLiteError) {
        try bind(Int64(value), at: index)
    }

    public func bind(_ value: Double, at index: Int) throws(SQLiteError) {
        try ensureOpen()
        try check(sqlite3_bind_double(handle, Int32(clamping: index), value))
    }

    /// Binds a blob; an empty array binds a zero-length blob, not NULL.
    public func bind(_ value: [UInt8], at index: Int) throws(SQLiteError) {
        try ensureOpen()
        let position = Int32(clamping: index)
        if value.isEmpty {
            try check(sqlite3_bind_zeroblob(handle, position, 0))
            return
        }
        let rc = value.withUnsafeBytes { bytes in
            sqlite3_bind_blob64(handle, position, bytes.baseAddress, sqlite3_uint64(bytes.count), transient)
        }
        try check(rc)
    }

    /// Binds text (UTF-8, explicit length: embedded NULs survive); "" binds empty text, not NULL.
    public func bind(_ value: String, at index: Int) throws(SQLiteError) {
        try ensureOpen()
        let position = Int32(clamping: index)
        var text = value
        let rc = text.withUTF8 { bytes in
            // A non-nil pointer even for "": a NULL pointer would bind NULL.
            let start = UnsafeRawPointer(bytes.baseAddress ?? emptyText.utf8Start).assumingMemoryBound(to: CChar.self)
            return sqlite3_bind_text64(handle, position, start, sqlite3_uint64(bytes.count), transient, UInt8(SQLITE_UTF8))
        }
        try check(rc)
    }

    public func bindNull(at index: Int) throws(SQLiteError) {
        try ensureOpen()
        try check(sqlite3_bind_null(handle, Int32(clamping: index)))
    }

    /// Binds any value; `bind(nil, at: 3)` binds NULL.
    public func bind(_ value: SQLiteValue, at index: Int) throws(SQLiteError) {
        switch value {
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        case .null: try bindNull(at: index)
        }
    }

    /// Binds `values` to parameters 1, 2, ...
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() { try bind(value, at: offset + 1) }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    // MARK: Stepping

    /// Runs the statement to its next row: true when a row is ready, false when done. On an
    /// error the statement is reset (releasing its locks) before the error is thrown.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        try ensureOpen()
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.error(rc, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Makes the statement ready to run again (bindings are kept).
    public func reset() {
        sqlite3_reset(handle)
    }

    /// Resets, binds `bindings` from index 1 (others NULL), collects every row, resets again.
    @discardableResult
    public func query(_ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        reset()
        clearBindings()
        try bind(bindings)
        var rows: [[SQLiteValue]] = []
        while try step() {
            rows.append((0..<columnCount).map { value(at: $0) })
        }
        reset()
        return rows
    }

    // MARK: Columns (0-based)

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(at column: Int) -> String {
        sqlite3_column_name(handle, Int32(clamping: column)).map { String(cString: $0) } ?? ""
    }

    public func isNull(at column: Int) -> Bool {
        sqlite3_column_type(handle, Int32(clamping: column)) == SQLITE_NULL
    }

    public func int64(at column: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(clamping: column))
    }

    public func int(at column: Int) -> Int {
        Int(truncatingIfNeeded: int64(at: column))
    }

    public func double(at column: Int) -> Double {
        sqlite3_column_double(handle, Int32(clamping: column))
    }

    /// The column as bytes; a zero-length blob (and NULL) reads as [].
    public func blob(at column: Int) -> [UInt8] {
        let position = Int32(clamping: column)
        let pointer = sqlite3_column_blob(handle, position)  // before _bytes, as SQLite asks
        let count = Int(sqlite3_column_bytes(handle, position))
        guard let pointer, count > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The column as UTF-8 text; NULL reads as "".
    public func text(at column: Int) -> String {
        let position = Int32(clamping: column)
        let pointer = sqlite3_column_text(handle, position)
        let count = Int(sqlite3_column_bytes(handle, position))
        guard let pointer, count > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The column with its storage class.
    public func value(at column: Int) -> SQLiteValue {
        switch sqlite3_column_type(handle, Int32(clamping: column)) {
        case SQLITE_INTEGER: .integer(int64(at: column))
        case SQLITE_FLOAT: .real(double(at: column))
        case SQLITE_TEXT: .text(text(at: column))
        case SQLITE_BLOB: .blob(blob(at: column))
        default: .null
        }
    }
}
