import SQLiteStore

/// The outbox file layout (docs/OUTBOX.md), created and upgraded through `PRAGMA user_version`.
enum OutboxSchema {
    /// `PRAGMA application_id`: "GLOB" (GridLedger OutBox), so another SQLite file is refused.
    static let applicationID: Int32 = 0x474C_4F42
    static let currentVersion: Int32 = 1

    /// Version 1. Payloads live in their own table so the scans over `records` (due, count,
    /// thinning) read small rows only; a trigger deletes a record's payload with the record.
    static let version1 = """
        CREATE TABLE records (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            meter_id     TEXT    NOT NULL CHECK (length(meter_id) > 0),
            sequence     INTEGER NOT NULL CHECK (sequence >= 1),
            capture_ms   INTEGER NOT NULL,
            published_ms INTEGER,
            UNIQUE (meter_id, sequence)
        );
        CREATE TABLE payloads (
            id      INTEGER PRIMARY KEY,
            payload BLOB    NOT NULL
        );
        CREATE TRIGGER records_delete_payload AFTER DELETE ON records BEGIN
            DELETE FROM payloads WHERE id = OLD.id;
        END;
        CREATE TABLE chain (
            meter_id TEXT    PRIMARY KEY,
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            hash     BLOB    NOT NULL CHECK (length(hash) = 32)
        );
        CREATE TABLE bindings (
            key      TEXT PRIMARY KEY,
            meter_id TEXT NOT NULL
        );
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value
        );
        INSERT INTO meta (key, value) VALUES ('last_batch_sequence', 0), ('thinned_total', 0);
        """

    /// True when the schema must be created (empty file), false when it is there already.
    /// Throws for a foreign SQLite file or a newer schema, before anything is written.
    static func needsCreation(_ db: SQLiteDatabase, path: String) throws -> Bool {
        let version = try db.userVersion()
        switch version {
        case 0:
            let objects = try db.queryInt64("SELECT count(*) FROM sqlite_schema") ?? 0
            guard objects == 0 else {
                throw OutboxError.notAnOutbox(path: path, reason: "it holds \(objects) schema objects but no outbox schema version")
            }
            return true
        case 1...currentVersion:
            let id = try db.applicationID()
            guard id == applicationID else {
                throw OutboxError.notAnOutbox(path: path, reason: "application id \(id) (expected \(applicationID))")
            }
            return false
        default:
            throw OutboxError.unsupportedSchemaVersion(found: Int(version), supported: Int(currentVersion))
        }
    }

    /// Checks the file without writing, switches it to WAL with synchronous=FULL, then creates the
    /// schema in one transaction (checked again inside it, in case another process raced us).
    static func prepare(_ db: SQLiteDatabase, path: String) throws(OutboxError) {
        do {
            _ = try needsCreation(db, path: path)
            try db.setJournalMode(.wal)
            try db.setSynchronous(.full)
            // Truncate a WAL that a large transaction (a thinning pass) grew, after checkpoints.
            try db.execute("PRAGMA journal_size_limit = \(journalSizeLimit)")
            try db.transaction { () throws -> Void in
                guard try needsCreation(db, path: path) else { return }
                try db.execute(version1)
                try db.setApplicationID(applicationID)
                try db.setUserVersion(currentVersion)
            }
        } catch {
            throw OutboxError(error)
        }
    }

    static let journalSizeLimit = 8 << 20
}

extension OutboxError {
    /// Any error from a transaction body: ours pass through, SQLite's are wrapped.
    init(_ error: any Error) {
        switch error {
        case let error as OutboxError: self = error
        case let error as SQLiteError: self = .storage(error)
        default: self = .storage(SQLiteError(code: SQLiteError.Code.error, message: String(describing: error)))
        }
    }
}
