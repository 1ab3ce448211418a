import Crypto
public import GridLedgerCore

/// One signed-to-be reading of one meter: the unit of evidence in GridLedger.
///
/// Its bytes (``encoded()``) are what a gateway hashes into a batch and what every receiver keeps
/// and verifies: receivers never re-serialise a record before verifying it. The layout is in
/// docs/FORMAT.md.
public struct ReadingRecord: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    /// Upper bound of an encoded record (the largest valid one is 1 015 bytes).
    public static let maximumSize = 1024
    public static let maximumValues = 64

    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The gateway's clock was synchronised (NTP) when the reading was captured.
        public static let clockSynchronized = Flags(rawValue: 1 << 0)
        static let known: Flags = [.clockSynchronized]
    }

    public var gatewayID: String
    public var meterID: String
    /// Per meter, +1 per record, starting at 1; never reused, never skipped by the gateway.
    public var sequence: UInt64
    public var captureTimeMillis: Int64
    public var flags: Flags
    public var profileID: String
    public var status: ReadingStatus
    /// SHA-256 of the previous record of this meter (32 zero bytes for sequence 1).
    public var previousHash: [UInt8]
    /// Values in increasing quantity-code order, one per quantity.
    public var values: [Measurement]

    public init(
        gatewayID: String, meterID: String, sequence: UInt64, captureTimeMillis: Int64, flags: Flags, profileID: String,
        status: ReadingStatus, previousHash: [UInt8], values: [Measurement]
    ) {
        self.gatewayID = gatewayID
        self.meterID = meterID
        self.sequence = sequence
        self.captureTimeMillis = captureTimeMillis
        self.flags = flags
        self.profileID = profileID
        self.status = status
        self.previousHash = previousHash
        self.values = values.sorted { $0.quantity.code < $1.quantity.code }
    }

    public static let zeroHash = [UInt8](repeating: 0, count: 32)

    /// The record's bytes. Validates first: an invalid record is never encoded.
    public func encoded() throws(RecordError) -> [UInt8] {
        try validate()
        var writer = ByteWriter(capacity: 128 + values.count * 11)
        writer.u8(Self.formatVersion)
        writer.shortString(gatewayID)
        writer.shortString(meterID)
        writer.u64(sequence)
        writer.i64(captureTimeMillis)
        writer.u8(flags.rawValue)
        writer.shortString(profileID)
        writer.u8(status.code)
        writer.raw(previousHash)
        writer.u8(UInt8(values.count))
        for value in values {
            writer.u16(value.quantity.code)
            writer.i8(value.value.exponent)
            writer.i64(value.value.mantissa)
        }
        return writer.bytes
    }

    /// Parses record bytes strictly: any deviation from docs/FORMAT.md is an error.
    public init(decoding bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge(bytes.count, maximum: Self.maximumSize) }
        var reader = ByteReader(bytes)
        let version = try reader.u8("version")
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        gatewayID = try reader.shortString("gateway id", maximum: 64, allowed: isIdentifierByte)
        meterID = try reader.shortString("meter id", maximum: 128, allowed: isIdentifierByte)
        sequence = try reader.u64("sequence")
        captureTimeMillis = try reader.i64("capture time")
        flags = Flags(rawValue: try reader.u8("flags"))
        profileID = try reader.shortString("profile id", maximum: 64, allowed: isIdentifierByte)
        let statusCode = try reader.u8("status")
        guard let status = ReadingStatus(code: statusCode) else { throw .invalidField("status", "unknown status \(statusCode)") }
        self.status = status
        previousHash = try reader.raw(32, "previous hash")
        let count = Int(try reader.u8("value count"))
        var values: [Measurement] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            let code = try reader.u16("value \(index) quantity")
            guard let quantity = Quantity(code: code) else { throw .invalidField("value \(index) quantity", "unknown quantity code \(code)") }
            let exponent = try reader.i8("value \(index) exponent")
            let mantissa = try reader.i64("value \(index) mantissa")
            values.append(Measurement(quantity, ScaledValue(mantissa, exponent: exponent)))
        }
        self.values = values
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
        try validate()
    }

    /// SHA-256 of the encoded bytes: the link the next record of this meter carries.
    public static func hash(of bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    func validate() throws(RecordError) {
        try checkIdentifier("gateway id", gatewayID, maximum: 64)
        try checkIdentifier("meter id", meterID, maximum: 128)
        try checkIdentifier("profile id", profileID, maximum: 64)
        guard sequence >= 1 else { throw .invalidField("sequence", "starts at 1") }
        guard flags.isSubset(of: .known) else { throw .invalidField("flags", "reserved bits set (\(flags.rawValue))") }
        guard previousHash.count == 32 else { throw .invalidField("previous hash", "must be 32 bytes") }
        if sequence == 1, previousHash != Self.zeroHash { throw .invalidField("previous hash", "must be zero for sequence 1") }
        guard values.count <= Self.maximumValues else { throw .invalidField("values", "more than \(Self.maximumValues)") }
        for (a, b) in zip(values, values.dropFirst()) where a.quantity.code >= b.quantity.code {
            throw .invalidField("values", "quantity codes must strictly increase (\(a.quantity.rawValue), \(b.quantity.rawValue))")
        }
        if status == .failed, !values.isEmpty { throw .invalidField("values", "a failed reading carries no values") }
    }
}

extension ReadingStatus {
    /// The status byte of a record.
    public var code: UInt8 {
        switch self {
        case .complete: 0
        case .partial: 1
        case .failed: 2
        }
    }

    public init?(code: UInt8) {
        switch code {
        case 0: self = .complete
        case 1: self = .partial
        case 2: self = .failed
        default: return nil
        }
    }
}
