/// The energy one member's grid connection point exchanged with the network in one interval.
///
/// Import and export are separate meter registers and are never netted against each other:
/// a member that imported 3 kWh and exported 1 kWh in the same interval is a buyer of 3 and a
/// seller of 1, because that is what its meter recorded.
public struct MemberEnergy: Sendable, Hashable, Codable {
    /// The member's ID; results are ordered by its UTF-8 bytes.
    public var memberID: String
    /// Energy drawn from the network, in Wh (`BillingBounds.energyWh`).
    public var importWh: Int64
    /// Energy fed into the network, in Wh (`BillingBounds.energyWh`).
    public var exportWh: Int64

    /// A member's two register deltas for the interval; validated when settled.
    public init(memberID: String, importWh: Int64, exportWh: Int64) {
        self.memberID = memberID
        self.importWh = importWh
        self.exportWh = exportWh
    }
}

/// The prices in force for one settlement interval, all per kWh.
///
/// Time-of-use tariffs are a different `IntervalTariff` per interval.
public struct IntervalTariff: Sendable, Hashable {
    /// What the supplier charges for energy taken from the grid.
    public let retail: Price
    /// What the supplier pays for energy fed into the grid; never above `retail`.
    public let feedIn: Price
    /// The network fee per kWh of community energy a member receives (on top of the energy
    /// price; grid-only energy carries its network fee inside `retail`).
    public let gridFee: Price
    /// The price of covered energy under allocation keys (`staticKeys`, `dynamicKeys`); those
    /// mechanisms refuse a tariff without one, the others ignore it.
    public let communityPrice: Price?

    /// A tariff; throws `.retailBelowFeedIn` when `feedIn > retail`, since every mechanism
    /// here prices community energy between the two.
    public init(retail: Price, feedIn: Price, gridFee: Price = .zero, communityPrice: Price? = nil) throws(BillingError) {
        guard retail >= feedIn else { throw .retailBelowFeedIn(retail: retail, feedIn: feedIn) }
        self.retail = retail
        self.feedIn = feedIn
        self.gridFee = gridFee
        self.communityPrice = communityPrice
    }
}

extension IntervalTariff: Codable {
    private enum CodingKeys: String, CodingKey {
        case retail, feedIn, gridFee, communityPrice
    }

    /// Decodes and validates like `init(retail:feedIn:gridFee:communityPrice:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            retail: container.decode(Price.self, forKey: .retail),
            feedIn: container.decode(Price.self, forKey: .feedIn),
            gridFee: container.decodeIfPresent(Price.self, forKey: .gridFee) ?? .zero,
            communityPrice: container.decodeIfPresent(Price.self, forKey: .communityPrice)
        )
    }

    /// Encodes the four prices as decimal strings.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(retail, forKey: .retail)
        try container.encode(feedIn, forKey: .feedIn)
        try container.encode(gridFee, forKey: .gridFee)
        try container.encodeIfPresent(communityPrice, forKey: .communityPrice)
    }
}

/// The input ranges `BillingCore` accepts, checked before any arithmetic.
///
/// They size the exact arithmetic: with at most 10 MWh per member and interval and 100 000
/// members, D and S stay below 10^12 Wh, and grid-only, mid-market rate, bill sharing and both
/// allocation keys settle exactly anywhere inside the bounds at any allowed price.
///
/// The supply-demand ratio is the exception. Its exact buy price has a denominator of order
/// 10^9·Q·D with Q = (r − e)·S + e·D, so a member's charge needs roughly r²·D²·import_i < 10^38
/// (r in micro-units per kWh, energies in Wh; common factors of round prices help). A community
/// of 100 MWh per interval at prices up to 1 per kWh is far inside that; 10 members of 10 MWh
/// each at 100 per kWh are not. Outside it settlement throws `.arithmeticOverflow`; nothing in
/// `BillingCore` traps.
public enum BillingBounds {
    /// Import or export of one member in one interval, in Wh.
    public static let energyWh: ClosedRange<Int64> = 0...10_000_000
    /// Members in one interval.
    public static let members: ClosedRange<Int> = 1...100_000
}

/// One interval's members, validated and sorted, with the community's demand and supply.
struct Community {
    /// Members in ascending order of the UTF-8 bytes of their IDs.
    let members: [MemberEnergy]
    /// D: the sum of imports, in Wh.
    let demandWh: Int64
    /// S: the sum of exports, in Wh.
    let supplyWh: Int64

    /// min(S, D): the energy members can exchange among themselves.
    var sharedWh: Int64 { min(demandWh, supplyWh) }

    init(validating input: [MemberEnergy]) throws(BillingError) {
        guard BillingBounds.members.contains(input.count) else {
            throw .outOfBounds("\(input.count) members in the interval", limit: Self.memberLimit)
        }
        var demand: Int64 = 0
        var supply: Int64 = 0
        var seen = Set<String>(minimumCapacity: input.count)
        for member in input {
            guard !member.memberID.isEmpty else { throw .invalidMemberID("", reason: "a member ID must not be empty") }
            // String equality is canonical equivalence, so two spellings of one ID are one member.
            guard seen.insert(member.memberID).inserted else { throw .duplicateMember(member.memberID) }
            try Self.check(member.importWh, "import", of: member.memberID)
            try Self.check(member.exportWh, "export", of: member.memberID)
            // Cannot overflow: at most 100 000 × 10^7 Wh.
            demand += member.importWh
            supply += member.exportWh
        }
        members = input.sorted { $0.memberID.utf8.lexicographicallyPrecedes($1.memberID.utf8) }
        demandWh = demand
        supplyWh = supply
    }

    private static let memberLimit = "\(BillingBounds.members.lowerBound)…\(BillingBounds.members.upperBound)"

    private static func check(_ energy: Int64, _ register: String, of memberID: String) throws(BillingError) {
        guard BillingBounds.energyWh.contains(energy) else {
            throw .outOfBounds(
                "\(register) of member \"\(memberID)\" (\(energy) Wh)",
                limit: "\(BillingBounds.energyWh.lowerBound)…\(BillingBounds.energyWh.upperBound) Wh per interval")
        }
    }
}
