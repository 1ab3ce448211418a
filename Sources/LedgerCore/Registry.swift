/// Who may read what: the roles of community members.
public enum MemberRole: String, CaseIterable, Sendable, Hashable, Codable {
    /// Produces and consumes (PV, battery); reads its own meters.
    case prosumer
    /// Consumes only; reads its own meters.
    case consumer
    /// Runs the community: registry writes, reads everything.
    case `operator`
    /// Verifies bills and the chain: reads everything, writes nothing.
    case auditor

    var code: UInt8 {
        switch self {
        case .prosumer: 1
        case .consumer: 2
        case .operator: 3
        case .auditor: 4
        }
    }

    init?(code: UInt8) {
        guard let role = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = role
    }

    /// Auditors and operators see every meter; prosumers and consumers only their own.
    public var readsEverything: Bool { self == .operator || self == .auditor }
}

/// What a meter measures at its point of the community grid.
public enum MeterRole: String, CaseIterable, Sendable, Hashable, Codable {
    /// The grid connection point of a household (import and export).
    case grid
    case pv
    case battery
    case load

    var code: UInt8 {
        switch self {
        case .grid: 1
        case .pv: 2
        case .battery: 3
        case .load: 4
        }
    }

    init?(code: UInt8) {
        guard let role = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = role
    }
}

public struct Member: Sendable, Hashable, Codable {
    public var id: String
    public var role: MemberRole
    /// Free text for people (UTF-8, ≤ 128 bytes, no control characters).
    public var name: String

    public init(id: String, role: MemberRole, name: String) {
        self.id = id
        self.role = role
        self.name = name
    }
}

public struct RegisteredMeter: Sendable, Hashable, Codable {
    /// The meter id its gateway puts in every record (`<gateway>:<bus>:<unit>[:<serial>]`).
    public var meterID: String
    /// The only gateway whose signed records are accepted for this meter.
    public var gatewayID: String
    public var memberID: String
    public var role: MeterRole
    /// Which tariff applies (the billing contracts' business).
    public var tariffGroup: String

    public init(meterID: String, gatewayID: String, memberID: String, role: MeterRole, tariffGroup: String) {
        self.meterID = meterID
        self.gatewayID = gatewayID
        self.memberID = memberID
        self.role = role
        self.tariffGroup = tariffGroup
    }
}

/// One public key of a gateway and when it may sign.
public struct GatewayKeyEntry: Sendable, Hashable {
    public var gatewayID: String
    /// Raw Ed25519 public key (32 bytes).
    public var publicKey: [UInt8]
    /// Records captured from this time on (ms since the epoch) may be signed with this key,
    /// until a later key of the same gateway becomes valid or the key is revoked.
    public var validFromMillis: Int64
    /// Records captured at or after this time are refused.
    public var revokedFromMillis: Int64?

    public init(gatewayID: String, publicKey: [UInt8], validFromMillis: Int64, revokedFromMillis: Int64? = nil) {
        self.gatewayID = gatewayID
        self.publicKey = publicKey
        self.validFromMillis = validFromMillis
        self.revokedFromMillis = revokedFromMillis
    }
}

/// Why the registry refuses a change.
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The community's members, meters and gateway keys: the state that registry changes build.
///
/// It only ever grows by ``apply(_:)``, so the aggregator, the offline verifier and the operator
/// tool all derive the same registry from the same ordered changes in the chain.
public struct Registry: Sendable, Hashable {
    public private(set) var members: [String: Member] = [:]
    public private(set) var meters: [String: RegisteredMeter] = [:]
    /// Keys per gateway, oldest `validFrom` first.
    public private(set) var keys: [String: [GatewayKeyEntry]] = [:]

    public init() {}

    /// The key that may sign a record of `gatewayID` captured at `millis`: the one with the latest
    /// `validFrom` not after `millis`, unless that key is revoked by then. A rotation therefore
    /// ends the previous key's validity, and revoking the current key does not revive an older one.
    public func signingKey(gatewayID: String, atMillis millis: Int64) -> KeyLookup {
        guard let entries = keys[gatewayID], !entries.isEmpty else { return .unknownGateway }
        guard let current = entries.last(where: { $0.validFromMillis <= millis }) else { return .notYetValid }
        if let revoked = current.revokedFromMillis, revoked <= millis { return .revoked(since: revoked) }
        return .valid(current)
    }

    public enum KeyLookup: Sendable, Hashable {
        case valid(GatewayKeyEntry)
        case unknownGateway
        case notYetValid
        case revoked(since: Int64)
    }

    /// Applies one change, or throws without changing anything.
    public mutating func apply(_ change: RegistryChange) throws(RegistryError) {
        switch change {
        case .addMember(let member):
            guard members[member.id] == nil else { throw RegistryError("member '\(member.id)' already exists") }
            members[member.id] = member
        case .addGatewayKey(let gatewayID, let publicKey, let validFrom):
            let all = keys.values.joined()
            if let holder = all.first(where: { $0.publicKey == publicKey }) {
                throw RegistryError("this key is already registered for gateway '\(holder.gatewayID)'")
            }
            if let latest = keys[gatewayID]?.last, latest.validFromMillis >= validFrom {
                throw RegistryError("a key of '\(gatewayID)' is already valid from \(latest.validFromMillis) ms; a rotation must start later")
            }
            keys[gatewayID, default: []].append(GatewayKeyEntry(gatewayID: gatewayID, publicKey: publicKey, validFromMillis: validFrom))
        case .revokeGatewayKey(let gatewayID, let publicKey, let effective):
            guard let index = keys[gatewayID]?.firstIndex(where: { $0.publicKey == publicKey }) else {
                throw RegistryError("gateway '\(gatewayID)' has no such key")
            }
            if let earlier = keys[gatewayID]![index].revokedFromMillis, earlier <= effective {
                throw RegistryError("that key of '\(gatewayID)' is already revoked from \(earlier) ms")
            }
            keys[gatewayID]![index].revokedFromMillis = effective
        case .addMeter(let meter):
            guard meters[meter.meterID] == nil else { throw RegistryError("meter '\(meter.meterID)' already exists") }
            guard members[meter.memberID] != nil else { throw RegistryError("member '\(meter.memberID)' does not exist") }
            guard keys[meter.gatewayID] != nil else {
                throw RegistryError("gateway '\(meter.gatewayID)' has no key yet: add its key first")
            }
            meters[meter.meterID] = meter
        }
    }

    /// Meters a member may read.
    public func meters(ofMember memberID: String) -> [RegisteredMeter] {
        meters.values.filter { $0.memberID == memberID }.sorted { $0.meterID < $1.meterID }
    }
}
