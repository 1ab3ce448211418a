import Crypto

/// The signed part of a batch: which gateway, which batch, and the Merkle root over its records.
public struct BatchHeader: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    public static let maximumLeaves: UInt32 = 4096
    public static let maximumSize = 1 + 1 + 64 + 8 + 8 + 4 + 32
    /// Prefix of every signature input, so a GridLedger signature can never be replayed as a
    /// signature over anything else made with the same key.
    public static let signatureDomain: [UInt8] = Array("GridLedger batch v1".utf8) + [0]

    public var gatewayID: String
    /// Per gateway, +1 per batch, starting at 1.
    public var batchSequence: UInt64
    public var createdMillis: Int64
    public var leafCount: UInt32
    public var root: [UInt8]

    public init(gatewayID: String, batchSequence: UInt64, createdMillis: Int64, leafCount: UInt32, root: [UInt8]) {
        self.gatewayID = gatewayID
        self.batchSequence = batchSequence
        self.createdMillis = createdMillis
        self.leafCount = leafCount
        self.root = root
    }

    public func encoded() throws(RecordError) -> [UInt8] {
        try validate()
        var writer = ByteWriter(capacity: Self.maximumSize)
        writer.u8(Self.formatVersion)
        writer.shortString(gatewayID)
        writer.u64(batchSequence)
        writer.i64(createdMillis)
        writer.u32(leafCount)
        writer.raw(root)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge(bytes.count, maximum: Self.maximumSize) }
        var reader = ByteReader(bytes)
        let version = try reader.u8("batch version")
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        gatewayID = try reader.shortString("batch gateway id", maximum: 64, allowed: isIdentifierByte)
        batchSequence = try reader.u64("batch sequence")
        createdMillis = try reader.i64("batch time")
        leafCount = try reader.u32("leaf count")
        root = try reader.raw(32, "merkle root")
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
        try validate()
    }

    /// The bytes the Ed25519 signature covers: the domain prefix, then the header bytes.
    public static func signatureInput(headerBytes: [UInt8]) -> [UInt8] { signatureDomain + headerBytes }

    func validate() throws(RecordError) {
        try checkIdentifier("batch gateway id", gatewayID, maximum: 64)
        guard batchSequence >= 1 else { throw .invalidField("batch sequence", "starts at 1") }
        guard (1...Self.maximumLeaves).contains(leafCount) else { throw .invalidField("leaf count", "must be 1…\(Self.maximumLeaves)") }
        guard root.count == 32 else { throw .invalidField("merkle root", "must be 32 bytes") }
    }
}

/// What one MQTT message carries: a record with everything needed to prove it on its own —
/// the signed batch header, the signature, and the record's Merkle audit path.
public struct RecordEnvelope: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    public static let maximumPath = 32
    public static let maximumSize = 1 + 2 + ReadingRecord.maximumSize + 2 + BatchHeader.maximumSize + 64 + 4 + 1 + 32 * maximumPath

    public var record: [UInt8]
    public var header: [UInt8]
    public var signature: [UInt8]
    public var leafIndex: UInt32
    public var path: [[UInt8]]

    public init(record: [UInt8], header: [UInt8], signature: [UInt8], leafIndex: UInt32, path: [[UInt8]]) {
        self.record = record
        self.header = header
        self.signature = signature
        self.leafIndex = leafIndex
        self.path = path
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 8 + record.count + header.count + 64 + 32 * path.count)
        writer.u8(Self.formatVersion)
        writer.u16(UInt16(record.count))
        writer.raw(record)
        writer.u16(UInt16(header.count))
        writer.raw(header)
        writer.raw(signature)
        writer.u32(leafIndex)
        writer.u8(UInt8(path.count))
        for hash in path { writer.raw(hash) }
        return writer.bytes
    }

    /// Splits an envelope into its parts; the parts are checked by ``RecordVerifier``.
    public init(decoding bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge(bytes.count, maximum: Self.maximumSize) }
        var reader = ByteReader(bytes)
        let version = try reader.u8("envelope version")
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        let recordLength = Int(try reader.u16("record length"))
        guard recordLength <= ReadingRecord.maximumSize else { throw .tooLarge(recordLength, maximum: ReadingRecord.maximumSize) }
        record = try reader.raw(recordLength, "record")
        let headerLength = Int(try reader.u16("header length"))
        guard headerLength <= BatchHeader.maximumSize else { throw .tooLarge(headerLength, maximum: BatchHeader.maximumSize) }
        header = try reader.raw(headerLength, "batch header")
        signature = try reader.raw(64, "signature")
        leafIndex = try reader.u32("leaf index")
        let pathLength = Int(try reader.u8("path length"))
        guard pathLength <= Self.maximumPath else { throw .invalidField("path length", "\(pathLength) exceeds \(Self.maximumPath)") }
        path = []
        for index in 0..<pathLength { path.append(try reader.raw(32, "path hash \(index)")) }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
    }
}
