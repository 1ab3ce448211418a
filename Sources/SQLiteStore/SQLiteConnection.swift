import CSQLite

/// The `sqlite3*` handle, shared by a ``SQLiteDatabase`` and its statements.
///
/// Statements keep the connection (not the database) alive, so a database that caches statements
/// forms no reference cycle. The handle is closed with `sqlite3_close_v2`: when statements are
/// still alive, SQLite keeps a "zombie" connection that the last `sqlite3_finalize` frees.
final class SQLiteConnection {
    /// nil once closed; every operation checks it first.
    var handle: OpaquePointer?
    let path: String

    init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    deinit { close() }

    func close() {
        guard let handle else { return }
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// The open handle, or a misuse error naming `sql`.
    func open(for sql: String?) throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw .misuse("the database is closed", sql: sql, path: path) }
        return handle
    }

    /// The error for result code `rc`, with the connection's message when it belongs to `rc`.
    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        guard let handle else { return SQLiteError(code: rc, message: SQLiteError.text(for: rc), sql: sql, path: path) }
        let extended = sqlite3_extended_errcode(handle)
        let message = (extended & 0xFF) == (rc & 0xFF) ? String(cString: sqlite3_errmsg(handle)) : SQLiteError.text(for: rc)
        return SQLiteError(code: rc, extendedCode: (extended & 0xFF) == (rc & 0xFF) ? extended : rc, message: message, sql: sql, path: path)
    }
}
