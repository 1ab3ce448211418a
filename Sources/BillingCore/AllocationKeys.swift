/// The result of allocation keys in one interval: how much of the community's generation G
/// (= S, its exported energy) covers each member's import.
struct KeyAllocation {
    /// Covered energy per member in exact Wh, in the community's member order.
    let covered: [Rational]
    /// Σ covered; G − total is the community surplus sold to the grid at the feed-in price.
    let total: Rational
    /// The fraction of a first Wh of import each member's key would cover (0…1): the buy
    /// price quoted to a member that imported nothing.
    let firstWhCoverage: [Rational]
}

/// Allocation keys as Austrian energy communities use them: generation is divided among the
/// members by a key, and whatever a member's key assigns beyond its import is not passed on.
enum AllocationKeys {
    /// Static keys: member i is covered min(k_i·G, import_i).
    ///
    /// Shares are validated first: every named member must have an energy record in the
    /// interval, no share may be negative, and the shares may add up to at most 1. Their sum
    /// is taken in the byte order of the IDs, so a sum too large for `Int128` fails the same way
    /// in every run.
    static func staticKeys(_ shares: [String: Rational], community: Community) throws(BillingError) -> KeyAllocation {
        let memberIDs = Set(community.members.lazy.map(\.memberID))
        let named = shares.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var shareTotal = Rational.zero
        for memberID in named {
            guard memberIDs.contains(memberID) else { throw .unknownMember(memberID) }
            let share = shares[memberID] ?? .zero
            guard share.signum >= 0 else {
                throw .invalidShares("the share of member \"\(memberID)\" is negative (\(share))")
            }
            shareTotal = try shareTotal + share
        }
        guard shareTotal <= .one else {
            throw .invalidShares("the shares add up to \(shareTotal) (\(shareTotal.fractionString)), more than 1")
        }

        let generation = community.supplyWh
        var covered: [Rational] = []
        var firstWhCoverage: [Rational] = []
        covered.reserveCapacity(community.members.count)
        firstWhCoverage.reserveCapacity(community.members.count)
        var total = Rational.zero
        for member in community.members {
            let share = shares[member.memberID] ?? .zero
            let entitled = try share.multiplied(by: generation)
            let amount = min(entitled, Rational(member.importWh))
            covered.append(amount)
            firstWhCoverage.append(min(entitled, .one))
            total = try total + amount
        }
        return KeyAllocation(covered: covered, total: total, firstWhCoverage: firstWhCoverage)
    }

    /// Dynamic keys: member i is covered import_i·min(1, G/D), so generation is shared pro
    /// rata to import and nothing is left over while demand exceeds it.
    static func dynamicKeys(community: Community) throws(BillingError) -> KeyAllocation {
        let generation = community.supplyWh
        let demand = community.demandWh
        let count = community.members.count
        guard demand > 0, generation > 0 else {
            // With no demand a first Wh of import would be covered in full by any generation.
            return KeyAllocation(
                covered: Array(repeating: .zero, count: count), total: .zero,
                firstWhCoverage: Array(repeating: generation > 0 ? .one : .zero, count: count))
        }
        let fraction = generation >= demand ? Rational.one : try Rational(numerator: Int128(generation), denominator: Int128(demand))
        var covered: [Rational] = []
        covered.reserveCapacity(count)
        for member in community.members {
            covered.append(try fraction.multiplied(by: member.importWh))
        }
        // Σ import_i·min(1, G/D) = min(D, G), exactly.
        return KeyAllocation(
            covered: covered, total: Rational(min(generation, demand)),
            firstWhCoverage: Array(repeating: fraction, count: count))
    }
}
