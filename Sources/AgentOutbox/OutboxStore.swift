import SQLiteStore

/// The outbox's SQL, on one connection; ``Outbox`` serializes access to it.
struct OutboxStore {
    let db: SQLiteDatabase
    let path: String
    let bound: Int
    /// `count(*)` of `records`, valid while `PRAGMA data_version` equals `depthVersion`:
    /// our own commits adjust it, another connection's commit makes us count again.
    private var cachedDepth: Int?
    private var depthVersion: Int64 = 0

    init(path: String, bound: Int) throws(OutboxError) {
        do {
            db = try SQLiteDatabase(path: path, permissions: 0o600)
        } catch {
            throw .storage(error)
        }
        self.path = path
        self.bound = bound
        try OutboxSchema.prepare(db, path: path)
    }

    /// Runs `body` in a write transaction and maps its errors to ``OutboxError``.
    private func write<T>(_ body: () throws -> T) throws(OutboxError) -> T {
        do { return try db.transaction(body) } catch { throw OutboxError(error) }
    }

    private func read<T>(_ body: () throws(SQLiteError) -> T) throws(OutboxError) -> T {
        do { return try body() } catch { throw .storage(error) }
    }

    /// The depth as committed, and the data version it was read at.
    private func committedDepth() throws(SQLiteError) -> (depth: Int, version: Int64) {
        let version = try db.dataVersion()
        if let cachedDepth, version == depthVersion { return (cachedDepth, version) }
        return (Int(try db.queryInt64("SELECT count(*) FROM records") ?? 0), version)
    }

    private mutating func remember(depth: Int, version: Int64) {
        cachedDepth = depth
        depthVersion = version
    }

    // MARK: Meta

    private func meta(_ key: String) throws(SQLiteError) -> Int64 {
        let select = try db.cachedStatement("SELECT value FROM meta WHERE key = ?1")
        try select.bind(key, at: 1)
        defer { select.reset() }
        return try select.step() ? select.int64(at: 0) : 0
    }

    private func setMeta(_ key: String, _ value: Int64) throws(SQLiteError) {
        let upsert = try db.cachedStatement("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        try upsert.bind(key, at: 1)
        try upsert.bind(value, at: 2)
        try upsert.step()
    }

    func lastBatchSequence() throws(OutboxError) -> UInt64 {
        try read { () throws(SQLiteError) in UInt64(max(0, try meta("last_batch_sequence"))) }
    }

    // MARK: Chain heads and bindings

    func chainHeads() throws(OutboxError) -> [String: ChainHead] {
        try read { () throws(SQLiteError) in
            let select = try db.cachedStatement("SELECT meter_id, sequence, hash FROM chain")
            defer { select.reset() }
            var heads: [String: ChainHead] = [:]
            while try select.step() {
                heads[select.text(at: 0)] = ChainHead(sequence: UInt64(select.int64(at: 1)), hash: select.blob(at: 2))
            }
            return heads
        }
    }

    func meterBindings() throws(OutboxError) -> [String: String] {
        try read { () throws(SQLiteError) in
            let select = try db.cachedStatement("SELECT key, meter_id FROM bindings")
            defer { select.reset() }
            var bindings: [String: String] = [:]
            while try select.step() { bindings[select.text(at: 0)] = select.text(at: 1) }
            return bindings
        }
    }

    func setMeterBinding(_ key: String, meterID: String) throws(OutboxError) {
        try Self.validateBinding(key, meterID: meterID)
        try read { () throws(SQLiteError) in try storeBinding(key, meterID: meterID) }
    }

    private static func validateBinding(_ key: String, meterID: String) throws(OutboxError) {
        guard !key.isEmpty else { throw .invalidArgument("a meter binding key must not be empty") }
        guard !meterID.isEmpty, meterID.utf8.count <= Outbox.maximumMeterIDBytes else {
            throw .invalidArgument("binding \(key): the meter id must have 1 to \(Outbox.maximumMeterIDBytes) bytes")
        }
    }

    private func storeBinding(_ key: String, meterID: String) throws(SQLiteError) {
        let upsert = try db.cachedStatement("INSERT INTO bindings (key, meter_id) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET meter_id = excluded.meter_id")
        try upsert.bind(key, at: 1)
        try upsert.bind(meterID, at: 2)
        try upsert.step()
    }

    // MARK: Append

    private static func validate(meterID: String, sequence: UInt64) throws(OutboxError) {
        guard !meterID.isEmpty else { throw .invalidEntry(meter: meterID, sequence: sequence, reason: "the meter id is empty") }
        guard meterID.utf8.count <= Outbox.maximumMeterIDBytes else {
            throw .invalidEntry(meter: meterID, sequence: sequence, reason: "the meter id is longer than \(Outbox.maximumMeterIDBytes) bytes")
        }
    }

    private static func validate(_ entry: OutboxEntry) throws(OutboxError) {
        try validate(meterID: entry.meterID, sequence: entry.sequence)
        guard entry.sequence <= UInt64(Int64.max) else { throw .sequenceOutOfRange(meter: entry.meterID, sequence: entry.sequence) }
        guard entry.recordHash.count == 32 else {
            throw .invalidEntry(meter: entry.meterID, sequence: entry.sequence, reason: "the record hash has \(entry.recordHash.count) bytes, not 32")
        }
        guard !entry.payload.isEmpty, entry.payload.count <= Outbox.maximumPayloadBytes else {
            throw .invalidEntry(meter: entry.meterID, sequence: entry.sequence, reason: "the payload has \(entry.payload.count) bytes (1 to \(Outbox.maximumPayloadBytes) allowed)")
        }
    }

    mutating func append(_ entries: [OutboxEntry], batchSequence: UInt64, bindings: [String: String]) throws(OutboxError) -> AppendOutcome {
        for entry in entries { try Self.validate(entry) }
        for (key, meterID) in bindings { try Self.validateBinding(key, meterID: meterID) }
        guard batchSequence <= UInt64(Int64.max) else { throw .invalidArgument("batch sequence \(batchSequence) is above \(Int64.max)") }
        let (outcome, version) = try write { () throws -> (AppendOutcome, Int64) in
            let last = UInt64(max(0, try meta("last_batch_sequence")))
            guard batchSequence > last else { throw OutboxError.batchSequenceNotIncreasing(last: last, got: batchSequence) }
            let (before, version) = try committedDepth()

            let selectHead = try db.cachedStatement("SELECT sequence FROM chain WHERE meter_id = ?1")
            let insertRecord = try db.cachedStatement("INSERT INTO records (meter_id, sequence, capture_ms) VALUES (?1, ?2, ?3)")
            let insertPayload = try db.cachedStatement("INSERT INTO payloads (id, payload) VALUES (?1, ?2)")
            var heads: [String: (sequence: UInt64, hash: [UInt8])] = [:]
            for entry in entries {
                let head: UInt64
                if let known = heads[entry.meterID] {
                    head = known.sequence
                } else {
                    selectHead.reset()
                    try selectHead.bind(entry.meterID, at: 1)
                    head = try selectHead.step() ? UInt64(selectHead.int64(at: 0)) : 0
                    selectHead.reset()
                }
                guard entry.sequence == head + 1 else {
                    throw OutboxError.sequenceMismatch(meter: entry.meterID, expected: head + 1, got: entry.sequence)
                }
                insertRecord.reset()
                try insertRecord.bind(entry.meterID, at: 1)
                try insertRecord.bind(Int64(entry.sequence), at: 2)
                try insertRecord.bind(entry.captureMillis, at: 3)
                try insertRecord.step()
                insertPayload.reset()
                try insertPayload.bind(db.lastInsertRowID, at: 1)
                try insertPayload.bind(entry.payload, at: 2)
                try insertPayload.step()
                heads[entry.meterID] = (entry.sequence, entry.recordHash)
            }

            let upsertHead = try db.cachedStatement("""
                INSERT INTO chain (meter_id, sequence, hash) VALUES (?1, ?2, ?3)
                ON CONFLICT (meter_id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash
                """)
            for (meter, head) in heads {
                upsertHead.reset()
                try upsertHead.bind(meter, at: 1)
                try upsertHead.bind(Int64(head.sequence), at: 2)
                try upsertHead.bind(head.hash, at: 3)
                try upsertHead.step()
            }
            try setMeta("last_batch_sequence", Int64(batchSequence))
            for (key, meterID) in bindings { try storeBinding(key, meterID: meterID) }

            let thinning = try thin(depth: before + entries.count)
            if thinning.removed > 0 { try setMeta("thinned_total", try meta("thinned_total") + Int64(thinning.removed)) }
            return (AppendOutcome(thinned: thinning.removed, depth: thinning.depth), version)
        }
        remember(depth: outcome.depth, version: version)
        return outcome
    }

    // MARK: Thinning

    /// Brings `depth` down to ``bound`` (docs/OUTBOX.md): each pass deletes, within the oldest
    /// half of the outbox by id, every second record of each meter (by sequence, keeping the
    /// first), never a meter's newest record. A pass that deletes nothing falls back to the oldest
    /// records that are not a meter's newest, then to the oldest records, so the loop ends.
    private func thin(depth: Int) throws(SQLiteError) -> (removed: Int, depth: Int) {
        var depth = depth
        var removed = 0
        while depth > bound {
            let windowSize = (depth + 1) / 2
            let windowEnd = try db.cachedStatement("SELECT id FROM records ORDER BY id LIMIT 1 OFFSET ?1")
            try windowEnd.bind(windowSize - 1, at: 1)
            guard try windowEnd.step() else { break }
            let lastID = windowEnd.int64(at: 0)
            windowEnd.reset()

            let halve = try db.cachedStatement("""
                DELETE FROM records WHERE id IN (
                    SELECT id FROM (
                        SELECT id, meter_id, sequence,
                               row_number() OVER (PARTITION BY meter_id ORDER BY sequence) AS position
                        FROM records WHERE id <= ?1
                    ) AS w
                    WHERE w.position % 2 = 0
                      AND EXISTS (SELECT 1 FROM records AS later WHERE later.meter_id = w.meter_id AND later.sequence > w.sequence)
                )
                """)
            try halve.bind(lastID, at: 1)
            try halve.step()
            var deleted = db.changes
            if deleted == 0 {
                let oldestButNewest = try db.cachedStatement("""
                    DELETE FROM records WHERE id IN (
                        SELECT id FROM records AS r
                        WHERE EXISTS (SELECT 1 FROM records AS later WHERE later.meter_id = r.meter_id AND later.sequence > r.sequence)
                        ORDER BY id LIMIT ?1
                    )
                    """)
                try oldestButNewest.bind(depth - bound, at: 1)
                try oldestButNewest.step()
                deleted = db.changes
            }
            if deleted == 0 {
                let oldest = try db.cachedStatement("DELETE FROM records WHERE id IN (SELECT id FROM records ORDER BY id LIMIT ?1)")
                try oldest.bind(depth - bound, at: 1)
                try oldest.step()
                deleted = db.changes
            }
            guard deleted > 0 else { break }
            depth -= deleted
            removed += deleted
        }
        return (removed, depth)
    }

    // MARK: Publishing and confirmation

    func due(limit: Int, republishBeforeMillis: Int64) throws(OutboxError) -> [OutboxRecord] {
        guard limit > 0 else { return [] }
        return try read { () throws(SQLiteError) in
            // CROSS JOIN keeps `records` as the outer loop: rowid order, stops at `limit`.
            let select = try db.cachedStatement("""
                SELECT r.id, r.meter_id, r.sequence, r.capture_ms, p.payload
                FROM records AS r CROSS JOIN payloads AS p ON p.id = r.id
                WHERE r.published_ms IS NULL OR r.published_ms < ?1
                ORDER BY r.id LIMIT ?2
                """)
            try select.bind(republishBeforeMillis, at: 1)
            try select.bind(limit, at: 2)
            defer { select.reset() }
            var records: [OutboxRecord] = []
            while try select.step() {
                records.append(OutboxRecord(
                    id: select.int64(at: 0), meterID: select.text(at: 1), sequence: UInt64(select.int64(at: 2)),
                    captureMillis: select.int64(at: 3), payload: select.blob(at: 4)))
            }
            return records
        }
    }

    func markPublished(_ ids: [Int64], atMillis: Int64) throws(OutboxError) {
        guard !ids.isEmpty else { return }
        try write { () throws -> Void in
            let update = try db.cachedStatement("UPDATE records SET published_ms = ?1 WHERE id = ?2")
            for id in ids {
                update.reset()
                try update.bind(atMillis, at: 1)
                try update.bind(id, at: 2)
                try update.step()
            }
        }
    }

    func resetPublished() throws(OutboxError) {
        try read { () throws(SQLiteError) -> Void in
            try db.cachedStatement("UPDATE records SET published_ms = NULL WHERE published_ms IS NOT NULL").step()
        }
    }

    mutating func confirm(meterID: String, upTo: UInt64) throws(OutboxError) -> Int {
        guard !meterID.isEmpty, upTo > 0 else { return 0 }
        let (removed, depth, version) = try write { () throws -> (Int, Int, Int64) in
            let (before, version) = try committedDepth()
            let delete = try db.cachedStatement("DELETE FROM records WHERE meter_id = ?1 AND sequence <= ?2")
            try delete.bind(meterID, at: 1)
            try delete.bind(Int64(min(upTo, UInt64(Int64.max))), at: 2)
            try delete.step()
            let removed = db.changes
            return (removed, before - removed, version)
        }
        remember(depth: depth, version: version)
        return removed
    }

    // MARK: Observation

    mutating func depth() throws(OutboxError) -> Int {
        let (depth, version) = try read { () throws(SQLiteError) in try committedDepth() }
        remember(depth: depth, version: version)
        return depth
    }

    mutating func statistics() throws(OutboxError) -> OutboxStatistics {
        let depth = try depth()
        return try read { () throws(SQLiteError) in
            let summary = try db.prepare("SELECT count(*) FILTER (WHERE published_ms IS NULL), min(capture_ms) FROM records")
            _ = try summary.step()
            let unpublished = summary.int(at: 0)
            let oldest: Int64? = summary.isNull(at: 1) ? nil : summary.int64(at: 1)
            let perMeter = try db.prepare("SELECT meter_id, count(*) FROM records GROUP BY meter_id")
            var pending: [String: Int] = [:]
            while try perMeter.step() { pending[perMeter.text(at: 0)] = perMeter.int(at: 1) }
            return OutboxStatistics(
                depth: depth, unpublished: unpublished, oldestCaptureMillis: oldest,
                thinnedTotal: Int(try meta("thinned_total")), lastBatchSequence: UInt64(max(0, try meta("last_batch_sequence"))),
                pendingByMeter: pending)
        }
    }

    func settings() throws(OutboxError) -> OutboxSettings {
        try read { () throws(SQLiteError) in
            let synchronous = try db.synchronous()
            return OutboxSettings(
                journalMode: try db.journalMode()?.rawValue ?? "unknown",
                synchronous: synchronous.map { "\($0)" } ?? "unknown",
                schemaVersion: Int(try db.userVersion()),
                bound: bound)
        }
    }
}
