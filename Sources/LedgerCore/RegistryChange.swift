package import GridLedgerRecords

/// One change to the registry. Changes are recorded in the chain (as ``LedgerEvent/registry(_:)``)
/// so a verifier knows which key was valid when; the byte layout is in docs/FORMAT.md.
public enum RegistryChange: Sendable, Hashable {
    case addMember(Member)
    /// A gateway key valid for records captured from `validFromMillis` on; a later key of the
    /// same gateway is a rotation.
    case addGatewayKey(gatewayID: String, publicKey: [UInt8], validFromMillis: Int64)
    /// Records captured from `effectiveMillis` on and signed with this key are refused.
    case revokeGatewayKey(gatewayID: String, publicKey: [UInt8], effectiveMillis: Int64)
    case addMeter(RegisteredMeter)

    /// One line for logs and listings.
    public var summary: String {
        switch self {
        case .addMember(let m): "member \(m.id) (\(m.role.rawValue)) added"
        case .addGatewayKey(let g, let k, let from): "gateway \(g) key \(KeyID.fingerprint(k)) valid from \(from) ms"
        case .revokeGatewayKey(let g, let k, let from): "gateway \(g) key \(KeyID.fingerprint(k)) revoked from \(from) ms"
        case .addMeter(let m): "meter \(m.meterID) (\(m.role.rawValue), gateway \(m.gatewayID), member \(m.memberID), tariff \(m.tariffGroup)) added"
        }
    }
}

/// A registry change as recorded: the change, when it was requested and by whom.
public struct RegistryEntry: Sendable, Hashable {
    public var change: RegistryChange
    public var recordedMillis: Int64
    /// Who asked for it: an operator member id, or `cli` for the operator tool on the host.
    public var author: String

    public init(change: RegistryChange, recordedMillis: Int64, author: String) {
        self.change = change
        self.recordedMillis = recordedMillis
        self.author = author
    }

    static let maximumNameBytes = 128

    package func encode(into writer: inout ByteWriter) throws(RecordError) {
        try checkIdentifier("author", author, maximum: 64)
        writer.i64(recordedMillis)
        writer.shortString(author)
        switch change {
        case .addMember(let member):
            try checkIdentifier("member id", member.id, maximum: 64)
            let name = Array(member.name.utf8)
            guard name.count <= Self.maximumNameBytes, !member.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalidField("member name", "at most \(Self.maximumNameBytes) UTF-8 bytes, no control characters")
            }
            writer.u8(1)
            writer.shortString(member.id)
            writer.u8(member.role.code)
            writer.u8(UInt8(name.count))
            writer.raw(name)
        case .addGatewayKey(let gatewayID, let publicKey, let validFrom):
            try checkIdentifier("gateway id", gatewayID, maximum: 64)
            guard publicKey.count == 32 else { throw .invalidField("public key", "must be 32 bytes") }
            writer.u8(2)
            writer.shortString(gatewayID)
            writer.raw(publicKey)
            writer.i64(validFrom)
        case .revokeGatewayKey(let gatewayID, let publicKey, let effective):
            try checkIdentifier("gateway id", gatewayID, maximum: 64)
            guard publicKey.count == 32 else { throw .invalidField("public key", "must be 32 bytes") }
            writer.u8(3)
            writer.shortString(gatewayID)
            writer.raw(publicKey)
            writer.i64(effective)
        case .addMeter(let meter):
            try checkIdentifier("meter id", meter.meterID, maximum: 128)
            try checkIdentifier("gateway id", meter.gatewayID, maximum: 64)
            try checkIdentifier("member id", meter.memberID, maximum: 64)
            try checkIdentifier("tariff group", meter.tariffGroup, maximum: 64)
            writer.u8(4)
            writer.shortString(meter.meterID)
            writer.shortString(meter.gatewayID)
            writer.shortString(meter.memberID)
            writer.u8(meter.role.code)
            writer.shortString(meter.tariffGroup)
        }
    }

    package init(decoding reader: inout ByteReader) throws(RecordError) {
        recordedMillis = try reader.i64("registry time")
        author = try reader.shortString("author", maximum: 64, allowed: isIdentifierByte)
        let kind = try reader.u8("registry change kind")
        switch kind {
        case 1:
            let id = try reader.shortString("member id", maximum: 64, allowed: isIdentifierByte)
            let roleCode = try reader.u8("member role")
            guard let role = MemberRole(code: roleCode) else { throw .invalidField("member role", "unknown role \(roleCode)") }
            let length = Int(try reader.u8("member name length"))
            guard length <= Self.maximumNameBytes else { throw .invalidField("member name", "longer than \(Self.maximumNameBytes) bytes") }
            let bytes = try reader.raw(length, "member name")
            guard let name = String(validating: bytes, as: UTF8.self),
                  !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else { throw .invalidField("member name", "not UTF-8 text without control characters") }
            change = .addMember(Member(id: id, role: role, name: name))
        case 2, 3:
            let gatewayID = try reader.shortString("gateway id", maximum: 64, allowed: isIdentifierByte)
            let key = try reader.raw(32, "public key")
            let time = try reader.i64("key time")
            change = kind == 2
                ? .addGatewayKey(gatewayID: gatewayID, publicKey: key, validFromMillis: time)
                : .revokeGatewayKey(gatewayID: gatewayID, publicKey: key, effectiveMillis: time)
        case 4:
            let meterID = try reader.shortString("meter id", maximum: 128, allowed: isIdentifierByte)
            let gatewayID = try reader.shortString("gateway id", maximum: 64, allowed: isIdentifierByte)
            let memberID = try reader.shortString("member id", maximum: 64, allowed: isIdentifierByte)
            let roleCode = try reader.u8("meter role")
            guard let role = MeterRole(code: roleCode) else { throw .invalidField("meter role", "unknown role \(roleCode)") }
            let tariff = try reader.shortString("tariff group", maximum: 64, allowed: isIdentifierByte)
            change = .addMeter(RegisteredMeter(meterID: meterID, gatewayID: gatewayID, memberID: memberID, role: role, tariffGroup: tariff))
        default:
            throw .invalidField("registry change kind", "unknown kind \(kind)")
        }
    }
}
