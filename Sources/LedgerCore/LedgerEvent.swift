public import GridLedgerRecords

/// Everything a block records besides readings: registry changes, missing data, equivocations
/// (and, with the billing contracts, their outputs). The events of a block are the leaves of its
/// events Merkle root; the byte layout is in docs/FORMAT.md.
public enum LedgerEvent: Sendable, Hashable {
    case registry(RegistryEntry)
    /// Records `first...last` of a meter never arrived (or were refused): the chain continues
    /// after them without bridging the hash link.
    case missingData(meterID: String, first: UInt64, last: UInt64, reason: MissingDataReason)
    /// The gateway signed a second, different record with an already accepted sequence. The
    /// evidence is the refused envelope exactly as received.
    case equivocation(meterID: String, sequence: UInt64, acceptedHash: [UInt8], evidence: [UInt8])
    /// A billing contract deployed: the YAML document exactly as submitted (its SHA-256 is the
    /// contract's identity in settlements). It applies from its own `validFrom`.
    case contractDeployed(document: [UInt8])
    /// Settlement output of a billing contract (one interval, a chunk of its members). The
    /// payload's layout belongs to the settlement module (docs/FORMAT.md, "Settlement"); the
    /// chain verifier only checks that it is there, the settlement verifier re-derives it.
    case settlement(payload: [UInt8])

    /// The body gives every event a `u16` length.
    public static let maximumSize = 65_535
    /// A contract document fits one event with room for its header.
    public static let maximumContractDocument = 65_000

    public enum MissingDataReason: UInt8, Sendable, Hashable, CaseIterable {
        /// Later records arrived and the missing ones did not come within the grace period
        /// (typically thinned from a full gateway outbox).
        case neverArrived = 1
        /// The records arrived but were refused (their reasons are logged and counted).
        case refused = 2

        public var label: String { self == .neverArrived ? "never arrived" : "refused" }
    }

    public func encoded() throws(RecordError) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        switch self {
        case .registry(let entry):
            writer.u8(1)
            try entry.encode(into: &writer)
        case .missingData(let meterID, let first, let last, let reason):
            try checkIdentifier("meter id", meterID, maximum: 128)
            guard first >= 1, first <= last else { throw .invalidField("missing range", "\(first)...\(last) is empty") }
            writer.u8(2)
            writer.shortString(meterID)
            writer.u64(first)
            writer.u64(last)
            writer.u8(reason.rawValue)
        case .equivocation(let meterID, let sequence, let acceptedHash, let evidence):
            try checkIdentifier("meter id", meterID, maximum: 128)
            guard acceptedHash.count == 32 else { throw .invalidField("accepted hash", "must be 32 bytes") }
            guard evidence.count <= RecordEnvelope.maximumSize else { throw .tooLarge(evidence.count, maximum: RecordEnvelope.maximumSize) }
            writer.u8(3)
            writer.shortString(meterID)
            writer.u64(sequence)
            writer.raw(acceptedHash)
            writer.u16(UInt16(evidence.count))
            writer.raw(evidence)
        case .contractDeployed(let document):
            guard !document.isEmpty, document.count <= Self.maximumContractDocument else {
                throw .tooLarge(document.count, maximum: Self.maximumContractDocument)
            }
            writer.u8(4)
            writer.u32(UInt32(document.count))
            writer.raw(document)
        case .settlement(let payload):
            guard payload.count < Self.maximumSize else { throw .tooLarge(payload.count + 1, maximum: Self.maximumSize) }
            writer.u8(5)
            writer.raw(payload)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge(bytes.count, maximum: Self.maximumSize) }
        var reader = ByteReader(bytes)
        let kind = try reader.u8("event kind")
        switch kind {
        case 1:
            self = .registry(try RegistryEntry(decoding: &reader))
        case 2:
            let meterID = try reader.shortString("meter id", maximum: 128, allowed: isIdentifierByte)
            let first = try reader.u64("first missing")
            let last = try reader.u64("last missing")
            guard first >= 1, first <= last else { throw .invalidField("missing range", "\(first)...\(last) is empty") }
            let code = try reader.u8("missing reason")
            guard let reason = MissingDataReason(rawValue: code) else { throw .invalidField("missing reason", "unknown reason \(code)") }
            self = .missingData(meterID: meterID, first: first, last: last, reason: reason)
        case 3:
            let meterID = try reader.shortString("meter id", maximum: 128, allowed: isIdentifierByte)
            let sequence = try reader.u64("sequence")
            let hash = try reader.raw(32, "accepted hash")
            let length = Int(try reader.u16("evidence length"))
            guard length <= RecordEnvelope.maximumSize else { throw .tooLarge(length, maximum: RecordEnvelope.maximumSize) }
            self = .equivocation(meterID: meterID, sequence: sequence, acceptedHash: hash, evidence: try reader.raw(length, "evidence"))
        case 4:
            let length = Int(try reader.u32("contract document length"))
            guard length >= 1, length <= Self.maximumContractDocument else { throw .tooLarge(length, maximum: Self.maximumContractDocument) }
            self = .contractDeployed(document: try reader.raw(length, "contract document"))
        case 5:
            self = .settlement(payload: try reader.raw(reader.remaining, "settlement"))
        default:
            throw .invalidField("event kind", "unknown kind \(kind)")
        }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
    }

    /// One line for logs and listings.
    public var summary: String {
        switch self {
        case .registry(let entry): "registry: \(entry.change.summary) by \(entry.author)"
        case .missingData(let meter, let first, let last, let reason): "missing data: \(meter) records \(first)...\(last) (\(reason.label))"
        case .equivocation(let meter, let sequence, _, _): "equivocation: \(meter) signed two different records with sequence \(sequence)"
        case .contractDeployed(let document): "contract deployed (\(document.count) bytes)"
        case .settlement(let payload): "settlement (\(payload.count) bytes)"
        }
    }
}
