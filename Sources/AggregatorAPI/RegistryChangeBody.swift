import LedgerCore

/// One registry change as JSON, the body of `POST /v1/registry` and the `change` of a pending
/// entry. `kind` selects the fields:
///
/// ```json
/// {"kind":"member","id":"alice","role":"prosumer","name":"Alice"}
/// {"kind":"gatewayKey","gatewayId":"gw1","publicKey":"<64 hex>","validFromMillis":1700000000000}
/// {"kind":"revokeKey","gatewayId":"gw1","publicKey":"<64 hex>","effectiveMillis":1700000000000}
/// {"kind":"meter","meterId":"gw1:bus:1","gatewayId":"gw1","memberId":"alice","role":"grid","tariffGroup":"household"}
/// ```
///
/// Decoding refuses unknown fields and missing ones, naming them; whether the change fits the
/// registry is checked afterwards (409).
struct RegistryChangeBody: Codable, Sendable, Hashable {
    var kind: String
    var id: String?
    var role: String?
    var name: String?
    var gatewayId: String?
    var publicKey: String?
    var validFromMillis: Int64?
    var effectiveMillis: Int64?
    var meterId: String?
    var memberId: String?
    var tariffGroup: String?

    static let fields: [String: [String]] = [
        "member": ["id", "role", "name"],
        "gatewayKey": ["gatewayId", "publicKey", "validFromMillis"],
        "revokeKey": ["gatewayId", "publicKey", "effectiveMillis"],
        "meter": ["meterId", "gatewayId", "memberId", "role", "tariffGroup"],
    ]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        kind = try container.decode(String.self, forKey: Key("kind"))
        guard let required = Self.fields[kind] else {
            throw APIError.badRequest("kind '\(kind.prefix(32))' is unknown (known: \(Self.fields.keys.sorted().joined(separator: ", ")))")
        }
        let unknown = container.allKeys.map(\.stringValue).filter { $0 != "kind" && !required.contains($0) }
        guard unknown.isEmpty else {
            throw APIError.badRequest("unknown field(s) for kind '\(kind)': \(unknown.sorted().joined(separator: ", ")) (expected \(required.joined(separator: ", ")))")
        }
        let missing = required.filter { !container.contains(Key($0)) }
        guard missing.isEmpty else { throw APIError.badRequest("missing field(s) for kind '\(kind)': \(missing.joined(separator: ", "))") }
        func text(_ name: String) throws -> String? { try container.decodeIfPresent(String.self, forKey: Key(name)) }
        func millis(_ name: String) throws -> Int64? { try container.decodeIfPresent(Int64.self, forKey: Key(name)) }
        id = try text("id")
        role = try text("role")
        name = try text("name")
        gatewayId = try text("gatewayId")
        publicKey = try text("publicKey")
        validFromMillis = try millis("validFromMillis")
        effectiveMillis = try millis("effectiveMillis")
        meterId = try text("meterId")
        memberId = try text("memberId")
        tariffGroup = try text("tariffGroup")
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(kind, forKey: Key("kind"))
        try container.encodeIfPresent(id, forKey: Key("id"))
        try container.encodeIfPresent(role, forKey: Key("role"))
        try container.encodeIfPresent(name, forKey: Key("name"))
        try container.encodeIfPresent(gatewayId, forKey: Key("gatewayId"))
        try container.encodeIfPresent(publicKey, forKey: Key("publicKey"))
        try container.encodeIfPresent(validFromMillis, forKey: Key("validFromMillis"))
        try container.encodeIfPresent(effectiveMillis, forKey: Key("effectiveMillis"))
        try container.encodeIfPresent(meterId, forKey: Key("meterId"))
        try container.encodeIfPresent(memberId, forKey: Key("memberId"))
        try container.encodeIfPresent(tariffGroup, forKey: Key("tariffGroup"))
    }

    init(kind: String) { self.kind = kind }

    /// The JSON form of a change (for listings).
    init(_ change: RegistryChange) {
        switch change {
        case .addMember(let member):
            kind = "member"
            id = member.id
            role = member.role.rawValue
            name = member.name
        case .addGatewayKey(let gatewayID, let key, let validFrom):
            kind = "gatewayKey"
            gatewayId = gatewayID
            publicKey = Hex.encode(key)
            validFromMillis = validFrom
        case .revokeGatewayKey(let gatewayID, let key, let effective):
            kind = "revokeKey"
            gatewayId = gatewayID
            publicKey = Hex.encode(key)
            effectiveMillis = effective
        case .addMeter(let meter):
            kind = "meter"
            meterId = meter.meterID
            gatewayId = meter.gatewayID
            memberId = meter.memberID
            role = meter.role.rawValue
            tariffGroup = meter.tariffGroup
        }
    }

    /// The change it describes; 400 for values that cannot be one (unknown role, bad key).
    func change() throws(APIError) -> RegistryChange {
        func key() throws(APIError) -> [UInt8] {
            guard let text = publicKey, text.utf8.count == 64, let bytes = Hex.decode(text) else {
                throw APIError.badRequest("publicKey must be 64 hex digits (a raw Ed25519 public key)")
            }
            return bytes
        }
        switch kind {
        case "member":
            guard let role = role.flatMap(MemberRole.init(rawValue:)) else {
                throw APIError.badRequest("role must be one of \(MemberRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .addMember(Member(id: id ?? "", role: role, name: name ?? ""))
        case "gatewayKey":
            return .addGatewayKey(gatewayID: gatewayId ?? "", publicKey: try key(), validFromMillis: validFromMillis ?? 0)
        case "revokeKey":
            return .revokeGatewayKey(gatewayID: gatewayId ?? "", publicKey: try key(), effectiveMillis: effectiveMillis ?? 0)
        case "meter":
            guard let role = role.flatMap(MeterRole.init(rawValue:)) else {
                throw APIError.badRequest("role must be one of \(MeterRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .addMeter(RegisteredMeter(meterID: meterId ?? "", gatewayID: gatewayId ?? "", memberID: memberId ?? "", role: role,
                                             tariffGroup: tariffGroup ?? ""))
        default:
            throw APIError.badRequest("kind '\(kind.prefix(32))' is unknown")
        }
    }
}
