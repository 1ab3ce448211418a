public import LedgerCore

/// Everything one block commit writes, atomically: the block, the chain heads of the meters it
/// advanced, which pending registry entries and contracts it recorded, where its settlements
/// are, and the refusals seen since the last commit (kept for audit).
public struct BlockCommit: Sendable {
    public var block: Block
    /// Meter id and sequence of each record, in block order (the index behind range queries).
    public var recordKeys: [(meterID: String, sequence: UInt64, captureMillis: Int64)]
    public var heads: [String: MeterHead]
    /// Ids of pending registry entries this block records, in the order of its registry events.
    public var registryEntryIDs: [Int64]
    /// Ids of pending contracts this block deploys.
    public var contractIDs: [Int64]
    /// The interval start of each settlement event, by event index (the index behind invoices).
    public var settlementIntervals: [(event: Int, intervalStartMillis: Int64)]
    public var refusals: [RefusedRecord]

    public init(block: Block, recordKeys: [(meterID: String, sequence: UInt64, captureMillis: Int64)], heads: [String: MeterHead],
                registryEntryIDs: [Int64] = [], contractIDs: [Int64] = [], settlementIntervals: [(event: Int, intervalStartMillis: Int64)] = [],
                refusals: [RefusedRecord] = []) {
        self.block = block
        self.recordKeys = recordKeys
        self.heads = heads
        self.registryEntryIDs = registryEntryIDs
        self.contractIDs = contractIDs
        self.settlementIntervals = settlementIntervals
        self.refusals = refusals
    }
}

/// A refused record, kept (bounded) so an auditor can see what was turned away and why.
public struct RefusedRecord: Sendable, Hashable {
    public var receivedMillis: Int64
    public var reason: String
    public var detail: String
    public var meterID: String?
    public var gatewayID: String?
    public var envelope: [UInt8]

    public init(receivedMillis: Int64, reason: String, detail: String, meterID: String?, gatewayID: String?, envelope: [UInt8]) {
        self.receivedMillis = receivedMillis
        self.reason = reason
        self.detail = detail
        self.meterID = meterID
        self.gatewayID = gatewayID
        self.envelope = envelope
    }
}

/// A registry entry waiting for the next block (written by `gridledger registry` or the API).
public struct PendingRegistryEntry: Sendable, Hashable {
    public var id: Int64
    public var entry: RegistryEntry
}

/// A contract document waiting for the next block (written by `gridledger contract deploy`).
public struct PendingContract: Sendable, Hashable {
    public var id: Int64
    public var document: [UInt8]
    public var submittedMillis: Int64

    public init(id: Int64, document: [UInt8], submittedMillis: Int64) {
        self.id = id
        self.document = document
        self.submittedMillis = submittedMillis
    }
}

/// A submitted contract and what became of it.
public struct ContractSubmission: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case pending
        /// Recorded in the block at this height.
        case deployed(height: UInt64)
        case rejected(reason: String)
    }

    public var id: Int64
    public var document: [UInt8]
    public var submittedMillis: Int64
    public var state: State
}

/// Where a record is in the chain.
public struct RecordLocation: Sendable, Hashable, Codable {
    public var meterID: String
    public var sequence: UInt64
    public var captureMillis: Int64
    public var height: UInt64
    /// Index of the record in its block.
    public var position: Int
}

/// A stored record with its envelope (as the gateway sent it).
public struct StoredRecord: Sendable, Hashable {
    public var location: RecordLocation
    public var envelope: [UInt8]
}

public struct StoreStatistics: Sendable, Hashable, Codable {
    public var blocks: Int
    public var records: Int
    public var events: Int
    /// Size of the database file(s) in bytes (main file plus WAL).
    public var fileBytes: Int
}

/// Storage of the chain behind a small protocol, so that a PostgreSQL store can follow the
/// SQLite one. Implementations must make ``append(_:)`` atomic: after a crash the chain ends at
/// the last whole block.
public protocol LedgerStorage: Sendable {
    /// The newest block's header, nil for an empty chain.
    func latestHeader() throws -> BlockHeader?
    func append(_ commit: BlockCommit) throws
    func block(height: UInt64) throws -> Block?
    func height(ofBlockHash hash: [UInt8]) throws -> UInt64?
    /// Headers and signatures from `height` upwards.
    func headers(from height: UInt64, limit: Int) throws -> [(header: BlockHeader, signature: [UInt8])]
    func heads() throws -> [String: MeterHead]
    /// Registry entries already in blocks, in chain order.
    func recordedRegistryEntries() throws -> [RegistryEntry]
    func pendingRegistryEntries() throws -> [PendingRegistryEntry]
    @discardableResult func enqueueRegistryEntry(_ entry: RegistryEntry) throws -> Int64
    /// Drops a pending entry the registry refused, keeping why.
    func rejectPendingRegistryEntry(id: Int64, reason: String) throws
    /// Queues a contract document for the next block; returns its submission id.
    @discardableResult func enqueueContract(_ document: [UInt8], submittedMillis: Int64) throws -> Int64
    func pendingContracts() throws -> [PendingContract]
    /// Drops a pending contract the aggregator refused, keeping why.
    func rejectPendingContract(id: Int64, reason: String) throws
    /// Every submission (pending, deployed, rejected), oldest first.
    func contractSubmissions() throws -> [ContractSubmission]
    /// The documents of the deployed contracts, in chain order.
    func deployedContractDocuments() throws -> [[UInt8]]
    /// The payloads of the settlement events for intervals starting in `fromMillis..<toMillis`, in
    /// chain order (all revisions).
    func settlementPayloads(fromMillis: Int64, toMillis: Int64) throws -> [[UInt8]]
    /// A meter's records with capture time in `fromMillis..<toMillis`, oldest first.
    func records(meterID: String, fromMillis: Int64, toMillis: Int64, limit: Int) throws -> [StoredRecord]
    func location(meterID: String, sequence: UInt64) throws -> RecordLocation?
    func refusals(limit: Int) throws -> [RefusedRecord]
    /// Keeps refusals seen while no block was minted.
    func recordRefusals(_ refusals: [RefusedRecord]) throws
    func statistics() throws -> StoreStatistics
}
