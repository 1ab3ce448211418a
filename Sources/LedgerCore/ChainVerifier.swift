public import Crypto
public import GridLedgerRecords

/// The first thing wrong with a chain: where, and why.
public struct ChainFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var height: UInt64
    /// Index of the record in the block, when a record failed.
    public var record: Int?
    /// Index of the event in the block, when an event failed.
    public var event: Int?
    public var reason: String

    public init(height: UInt64, record: Int? = nil, event: Int? = nil, reason: String) {
        self.height = height
        self.record = record
        self.event = event
        self.reason = reason
    }

    public var description: String {
        var place = "block \(height)"
        if let record { place += ", record \(record)" }
        if let event { place += ", event \(event)" }
        return "\(place): \(reason)"
    }
}

/// Verifies a chain block by block, trusting neither the aggregator nor the broker: block
/// signatures and links, both Merkle roots, registry changes, every record's envelope against the
/// gateway key valid at its capture time, and per meter the sequence, hash chain, time and
/// counter rules. Every hole must be declared by a missing-data event in the block that bridges it.
///
/// ```swift
/// var verifier = ChainVerifier(aggregatorKey: key)
/// for block in blocks { try verifier.verify(block) }
/// ```
public struct ChainVerifier: Sendable {
    public let aggregatorKey: Curve25519.Signing.PublicKey
    public let rules: LedgerRules
    public private(set) var registry = Registry()
    public private(set) var heads: [String: MeterHead] = [:]
    private var chains: [String: MeterChain] = [:]
    private var lastHeader: BlockHeader?
    public private(set) var blockCount = 0
    public private(set) var recordCount = 0
    public private(set) var eventCount = 0
    public private(set) var missingRecords: UInt64 = 0
    /// The records of the last verified block, decoded (the settlement verifier reads their counters).
    public private(set) var lastBlockRecords: [ReadingRecord] = []
    private let verifier = RecordVerifier(cacheLimit: 65536)

    public init(aggregatorKey: Curve25519.Signing.PublicKey, rules: LedgerRules = LedgerRules()) {
        self.aggregatorKey = aggregatorKey
        self.rules = rules
    }

    public var lastBlock: BlockHeader? { lastHeader }

    public mutating func verify(_ block: Block) throws(ChainFailure) {
        let header = block.header
        let height = header.height
        func fail(_ reason: String, record: Int? = nil, event: Int? = nil) -> ChainFailure {
            ChainFailure(height: height, record: record, event: event, reason: reason)
        }
        let expectedHeight = lastHeader.map { $0.height + 1 } ?? 0
        guard height == expectedHeight else { throw fail("height \(height) where \(expectedHeight) was expected") }
        let expectedPrevious = lastHeader?.hash ?? ReadingRecord.zeroHash
        guard header.previousHash == expectedPrevious else { throw fail("previous hash does not match block \(height == 0 ? "(none)" : String(height - 1))") }
        if let lastHeader, header.timeMillis < lastHeader.timeMillis { throw fail("block time goes back") }
        guard header.keyID == KeyID.of(Array(aggregatorKey.rawRepresentation)) else { throw fail("signed with another aggregator key") }
        guard aggregatorKey.isValidSignature(block.signature, for: BlockHeader.signatureInput(headerBytes: header.encoded())) else {
            throw fail("block signature does not verify")
        }
        guard Int(header.recordCount) == block.records.count else { throw fail("header counts \(header.recordCount) records, body has \(block.records.count)") }
        guard Int(header.eventCount) == block.events.count else { throw fail("header counts \(header.eventCount) events, body has \(block.events.count)") }
        guard MerkleTree.root(leafHashes: block.records.map(MerkleTree.leafHash)) == header.recordsRoot else { throw fail("records root does not match the records") }
        guard MerkleTree.root(leafHashes: block.events.map(MerkleTree.leafHash)) == header.eventsRoot else { throw fail("events root does not match the events") }

        // Events first: registry changes apply before the block's records; holes are collected
        // and must each be bridged by a record of this block.
        var holes: [String: (first: UInt64, last: UInt64, event: Int)] = [:]
        for (index, bytes) in block.events.enumerated() {
            let event: LedgerEvent
            do { event = try LedgerEvent(decoding: bytes) } catch { throw fail("malformed event: \(error)", event: index) }
            switch event {
            case .registry(let entry):
                do { try registry.apply(entry.change) } catch { throw fail("registry change refused: \(error)", event: index) }
            case .missingData(let meterID, let first, let last, _):
                guard holes[meterID] == nil else { throw fail("two holes declared for meter \(meterID) in one block", event: index) }
                holes[meterID] = (first, last, index)
            case .equivocation, .contractDeployed, .settlement:
                // Contracts and settlements are the settlement verifier's: it re-derives them.
                break
            }
        }

        let latestAllowed = header.timeMillis + rules.futureToleranceMillis
        var decoded: [ReadingRecord] = []
        decoded.reserveCapacity(block.records.count)
        for (index, envelope) in block.records.enumerated() {
            let candidate: AuthenticatedRecord
            switch registry.authenticate(envelope, verifier: verifier) {
            case .success(let authenticated): candidate = authenticated
            case .failure(let refusal): throw fail(refusal.description, record: index)
            }
            let record = candidate.record
            var chain = chains[record.meterID] ?? MeterChain(memory: 0)
            switch chain.classify(record, bytes: candidate.verified.bytes) {
            case .next:
                break
            case .gap(let missing):
                guard let hole = holes[record.meterID], hole.first == missing.lowerBound, hole.last == missing.upperBound else {
                    throw fail("meter \(record.meterID) skips records \(missing.lowerBound)...\(missing.upperBound) without a missing-data event", record: index)
                }
                holes[record.meterID] = nil
                missingRecords += missing.upperBound - missing.lowerBound + 1
            case .duplicate, .equivocation, .replay:
                throw fail("meter \(record.meterID) sequence \(record.sequence) is not after the accepted \(chain.lastSequence)", record: index)
            case .brokenLink:
                throw fail("meter \(record.meterID) sequence \(record.sequence): previous hash does not link to the accepted record", record: index)
            }
            let hash = ReadingRecord.hash(of: candidate.verified.bytes)
            if let head = heads[record.meterID] {
                if let refusal = head.checkSuccessor(record, latestAllowedMillis: latestAllowed) { throw fail("meter \(record.meterID): \(refusal)", record: index) }
            } else if record.captureTimeMillis > latestAllowed {
                throw fail("meter \(record.meterID): capture time after the block time", record: index)
            }
            chain.accept(record, hash: hash)
            chains[record.meterID] = chain
            decoded.append(record)
            heads[record.meterID] = heads[record.meterID].map { $0.advanced(by: record, hash: hash) } ?? .first(record, hash: hash)
        }
        if let (meterID, hole) = holes.first {
            throw fail("missing-data event for \(meterID) records \(hole.first)...\(hole.last) bridges nothing", event: hole.event)
        }
        lastHeader = header
        lastBlockRecords = decoded
        blockCount += 1
        recordCount += block.records.count
        eventCount += block.events.count
    }
}
