import CSQLite

/// An SQLite failure: the result codes, SQLite's own message, and what was being done.
///
/// ```swift
/// do { _ = try SQLiteDatabase(path: "/etc/hostname") }
/// catch { print(error) }   // SQLITE_NOTADB (26): file is not a database [/etc/hostname] (while: PRAGMA schema_version)
/// ```
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_NOTADB`, ...); see ``Code``.
    public var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_IOERR_FSYNC`, ...).
    public var extendedCode: Int32
    /// SQLite's message (`sqlite3_errmsg`, or `sqlite3_errstr` when the connection has none).
    public var message: String
    /// The SQL that failed, cut to ``sqlPrefixLength`` characters; nil for open and bind errors.
    public var sql: String?
    /// The database file concerned, when known.
    public var path: String?

    /// Longest SQL prefix kept in an error.
    public static let sqlPrefixLength = 200

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil, path: String? = nil) {
        let extended = extendedCode ?? code
        self.code = code & 0xFF
        self.extendedCode = extended
        self.message = message
        self.sql = sql.map { $0.count > Self.sqlPrefixLength ? String($0.prefix(Self.sqlPrefixLength)) + "…" : $0 }
        self.path = path
    }

    /// Primary result codes worth testing for (values of `sqlite3.h`, stable across versions).
    public enum Code {
        public static let error: Int32 = 1
        public static let busy: Int32 = 5
        public static let locked: Int32 = 6
        public static let readOnly: Int32 = 8
        public static let ioError: Int32 = 10
        public static let corrupt: Int32 = 11
        public static let full: Int32 = 13
        public static let cantOpen: Int32 = 14
        public static let constraint: Int32 = 19
        public static let misuse: Int32 = 21
        public static let range: Int32 = 25
        public static let notADatabase: Int32 = 26
    }

    /// The symbolic name of the primary code, e.g. `SQLITE_NOTADB`.
    public var codeName: String {
        let names: [Int32: String] = [
            0: "SQLITE_OK", 1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT",
            5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT",
            10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN",
            15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT",
            20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT",
            25: "SQLITE_RANGE", 26: "SQLITE_NOTADB", 27: "SQLITE_NOTICE", 28: "SQLITE_WARNING",
        ]
        return names[code] ?? "SQLITE_\(code)"
    }

    public var description: String {
        var text = "\(codeName) (\(extendedCode == code ? "\(code)" : "\(code), extended \(extendedCode)")): \(message)"
        if let path { text += " [\(path)]" }
        if let sql { text += " (while: \(sql))" }
        return text
    }

    /// The generic English text SQLite has for a result code.
    static func text(for code: Int32) -> String { String(cString: sqlite3_errstr(code)) }

    /// A misuse of this wrapper (closed database, nested transaction, ...), reported like SQLite's own.
    static func misuse(_ message: String, sql: String? = nil, path: String? = nil) -> SQLiteError {
        SQLiteError(code: Code.misuse, message: message, sql: sql, path: path)
    }
}
