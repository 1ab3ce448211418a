public import LedgerCore
import SQLiteStore

/// Contract submissions and the settlement index (schema version 2).
extension SQLiteLedgerStore {
    @discardableResult
    public func enqueueContract(_ document: [UInt8], submittedMillis: Int64) throws -> Int64 {
        guard !document.isEmpty, document.count <= LedgerEvent.maximumContractDocument else {
            throw LedgerStoreError("a contract document has 1…\(LedgerEvent.maximumContractDocument) bytes, this one \(document.count)")
        }
        return try writer.withLock { db in
            let insert = try db.prepare("INSERT INTO contracts(document, submitted_ms) VALUES (?1, ?2)")
            try insert.bind([.blob(document), .integer(submittedMillis)])
            _ = try insert.step()
            return db.lastInsertRowID
        }
    }

    public func pendingContracts() throws -> [PendingContract] {
        try read { db in
            try db.query("SELECT id, document, submitted_ms FROM contracts WHERE height IS NULL AND rejected IS NULL ORDER BY id").map { row in
                PendingContract(id: row[0].integer ?? 0, document: row[1].blob ?? [], submittedMillis: row[2].integer ?? 0)
            }
        }
    }

    public func rejectPendingContract(id: Int64, reason: String) throws {
        try writer.withLock { db in
            let update = try db.prepare("UPDATE contracts SET rejected = ?2 WHERE id = ?1 AND height IS NULL")
            try update.bind([.integer(id), .text(reason)])
            _ = try update.step()
        }
    }

    public func contractSubmissions() throws -> [ContractSubmission] {
        try read { db in
            try db.query("SELECT id, document, submitted_ms, height, rejected FROM contracts ORDER BY id").map { row in
                let state: ContractSubmission.State =
                    if let height = row[3].integer { .deployed(height: UInt64(height)) }
                    else if let reason = row[4].text { .rejected(reason: reason) }
                    else { .pending }
                return ContractSubmission(id: row[0].integer ?? 0, document: row[1].blob ?? [], submittedMillis: row[2].integer ?? 0, state: state)
            }
        }
    }

    public func deployedContractDocuments() throws -> [[UInt8]] {
        try read { db in
            try db.query("SELECT document FROM contracts WHERE height IS NOT NULL ORDER BY height, id").map { $0[0].blob ?? [] }
        }
    }

    public func settlementPayloads(fromMillis: Int64, toMillis: Int64) throws -> [[UInt8]] {
        let places: [(height: UInt64, event: Int)] = try read { db in
            try db.query("SELECT height, event FROM settlements WHERE interval_ms >= ?1 AND interval_ms < ?2 ORDER BY height, event",
                         [.integer(fromMillis), .integer(toMillis)]).map { (UInt64($0[0].integer ?? 0), Int($0[1].integer ?? 0)) }
        }
        return try places.map { place in
            guard let block = try block(height: place.height), block.events.indices.contains(place.event),
                  case .settlement(let payload) = try LedgerEvent(decoding: block.events[place.event])
            else { throw LedgerStoreError("settlement index points at block \(place.height) event \(place.event), which is not a settlement") }
            return payload
        }
    }

    /// Marks the commit's contracts deployed and indexes its settlements (inside the commit's
    /// transaction).
    static func recordContracts(_ commit: BlockCommit, into db: SQLiteDatabase) throws {
        let height = Int64(commit.block.header.height)
        if !commit.contractIDs.isEmpty {
            let mark = try db.cachedStatement("UPDATE contracts SET height = ?2 WHERE id = ?1 AND height IS NULL AND rejected IS NULL")
            for id in commit.contractIDs {
                try mark.bind([.integer(id), .integer(height)])
                _ = try mark.step()
                mark.reset()
                guard db.changes == 1 else { throw LedgerStoreError("contract submission \(id) is not pending") }
            }
        }
        if !commit.settlementIntervals.isEmpty {
            let index = try db.cachedStatement("INSERT INTO settlements(interval_ms, height, event) VALUES (?1, ?2, ?3)")
            for item in commit.settlementIntervals {
                try index.bind([.integer(item.intervalStartMillis), .integer(height), .integer(Int64(item.event))])
                _ = try index.step()
                index.reset()
            }
        }
    }
}
