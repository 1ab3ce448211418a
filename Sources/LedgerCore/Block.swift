public import Crypto
public import GridLedgerRecords

/// The signed part of a block (docs/FORMAT.md, "Block header"): 153 bytes.
public struct BlockHeader: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    public static let size = 1 + 8 + 32 + 8 + 32 + 32 + 4 + 4 + 32
    /// Prefix of the signature input, so a block signature is never valid for anything else.
    public static let signatureDomain: [UInt8] = Array("GridLedger block v1".utf8) + [0]

    /// 0 for the first block.
    public var height: UInt64
    /// Hash of the previous block's header; 32 zero bytes at height 0.
    public var previousHash: [UInt8]
    /// When the block was minted, ms since the epoch (UTC).
    public var timeMillis: Int64
    /// RFC 6962 root over the block's record envelopes, in block order.
    public var recordsRoot: [UInt8]
    /// RFC 6962 root over the block's encoded events, in block order.
    public var eventsRoot: [UInt8]
    public var recordCount: UInt32
    public var eventCount: UInt32
    /// SHA-256 of the aggregator's Ed25519 public key.
    public var keyID: [UInt8]

    public init(height: UInt64, previousHash: [UInt8], timeMillis: Int64, recordsRoot: [UInt8], eventsRoot: [UInt8],
                recordCount: UInt32, eventCount: UInt32, keyID: [UInt8]) {
        self.height = height
        self.previousHash = previousHash
        self.timeMillis = timeMillis
        self.recordsRoot = recordsRoot
        self.eventsRoot = eventsRoot
        self.recordCount = recordCount
        self.eventCount = eventCount
        self.keyID = keyID
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.u8(Self.formatVersion)
        writer.u64(height)
        writer.raw(previousHash)
        writer.i64(timeMillis)
        writer.raw(recordsRoot)
        writer.raw(eventsRoot)
        writer.u32(recordCount)
        writer.u32(eventCount)
        writer.raw(keyID)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(RecordError) {
        guard bytes.count == Self.size else { throw .invalidField("block header", "must be \(Self.size) bytes, got \(bytes.count)") }
        var reader = ByteReader(bytes)
        let version = try reader.u8("block version")
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        height = try reader.u64("height")
        previousHash = try reader.raw(32, "previous block hash")
        timeMillis = try reader.i64("block time")
        recordsRoot = try reader.raw(32, "records root")
        eventsRoot = try reader.raw(32, "events root")
        recordCount = try reader.u32("record count")
        eventCount = try reader.u32("event count")
        keyID = try reader.raw(32, "key id")
    }

    /// The block's hash: SHA-256 of the header bytes (the next block's `previousHash`).
    public var hash: [UInt8] { Array(SHA256.hash(data: encoded())) }

    public static func signatureInput(headerBytes: [UInt8]) -> [UInt8] { signatureDomain + headerBytes }
}

/// A minted block: header, the aggregator's signature, the record envelopes exactly as the
/// gateways signed and sent them, and the events.
public struct Block: Sendable, Hashable {
    public static let maximumRecords = 1 << 20
    public static let maximumEvents = 1 << 16

    public var header: BlockHeader
    public var signature: [UInt8]
    public var records: [[UInt8]]
    public var events: [[UInt8]]

    public init(header: BlockHeader, signature: [UInt8], records: [[UInt8]], events: [[UInt8]]) {
        self.header = header
        self.signature = signature
        self.records = records
        self.events = events
    }

    /// Signs a new block over `records` (envelope bytes) and `events` (encoded events).
    public static func mint(
        height: UInt64, previousHash: [UInt8], timeMillis: Int64, records: [[UInt8]], events: [[UInt8]],
        key: Curve25519.Signing.PrivateKey
    ) throws -> Block {
        let header = BlockHeader(
            height: height, previousHash: previousHash, timeMillis: timeMillis,
            recordsRoot: MerkleTree.root(leafHashes: records.map(MerkleTree.leafHash)),
            eventsRoot: MerkleTree.root(leafHashes: events.map(MerkleTree.leafHash)),
            recordCount: UInt32(records.count), eventCount: UInt32(events.count),
            keyID: KeyID.of(Array(key.publicKey.rawRepresentation))
        )
        let signature = Array(try key.signature(for: BlockHeader.signatureInput(headerBytes: header.encoded())))
        return Block(header: header, signature: signature, records: records, events: events)
    }

    /// The body: record envelopes and events, each with a u16 length (docs/FORMAT.md, "Block body").
    public func encodedBody() -> [UInt8] {
        var writer = ByteWriter(capacity: 8 + records.reduce(0) { $0 + 2 + $1.count } + events.reduce(0) { $0 + 2 + $1.count })
        writer.u32(UInt32(records.count))
        for record in records {
            writer.u16(UInt16(record.count))
            writer.raw(record)
        }
        writer.u32(UInt32(events.count))
        for event in events {
            writer.u16(UInt16(event.count))
            writer.raw(event)
        }
        return writer.bytes
    }

    /// Splits a body into record envelopes and events (their contents are checked by the verifier).
    public static func decodeBody(_ bytes: [UInt8]) throws(RecordError) -> (records: [[UInt8]], events: [[UInt8]]) {
        var reader = ByteReader(bytes)
        let recordCount = Int(try reader.u32("block record count"))
        guard recordCount <= maximumRecords, recordCount * 2 <= reader.remaining else {
            throw .invalidField("block record count", "\(recordCount) does not fit the body")
        }
        var records: [[UInt8]] = []
        records.reserveCapacity(recordCount)
        for index in 0..<recordCount {
            let length = Int(try reader.u16("record \(index) length"))
            guard length <= RecordEnvelope.maximumSize else { throw .tooLarge(length, maximum: RecordEnvelope.maximumSize) }
            records.append(try reader.raw(length, "record \(index)"))
        }
        let eventCount = Int(try reader.u32("block event count"))
        guard eventCount <= maximumEvents, eventCount * 2 <= reader.remaining else {
            throw .invalidField("block event count", "\(eventCount) does not fit the body")
        }
        var events: [[UInt8]] = []
        for index in 0..<eventCount {
            let length = Int(try reader.u16("event \(index) length"))
            guard length <= LedgerEvent.maximumSize else { throw .tooLarge(length, maximum: LedgerEvent.maximumSize) }
            events.append(try reader.raw(length, "event \(index)"))
        }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
        return (records, events)
    }
}
