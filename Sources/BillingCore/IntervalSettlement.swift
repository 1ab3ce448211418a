/// The exact settlement of one interval under one mechanism.
///
/// Members are settled in ascending byte order of their IDs, so the result does not depend
/// on the order of the input. Every community mechanism exchanges C Wh inside the community:
/// min(S, D) for the price-based mechanisms (a buyer receives import_i·C/D, a seller delivers
/// export_j·C/S), Σ covered_i for allocation keys (sellers deliver export_j·C/S). Each member
/// pays `gridFee` per kWh of the exact community energy it receives; grid-only has no such term.
///
/// Per-member prices: the buy price is the average paid per kWh imported, the sell price the
/// average received per kWh exported. Price-based mechanisms quote one buy and one sell price to
/// everyone, which is also what members without import or export see. Under allocation keys a
/// member without import sees the price of a first kWh, c·φ + r·(1 − φ) with φ the fraction
/// its key would cover; a member without export sees the uniform sell price, or the feed-in
/// price when nobody exported.
///
/// ```swift
/// let tariff = try IntervalTariff(retail: Price("0.30"), feedIn: Price("0.08"))
/// let settlement = try IntervalSettlement(
///     members: [
///         MemberEnergy(memberID: "A", importWh: 0, exportWh: 4000),
///         MemberEnergy(memberID: "B", importWh: 3000, exportWh: 0),
///     ],
///     tariff: tariff, mechanism: .midMarketRate)
/// settlement.members[1].energyCharge   // what B pays, exact
/// ```
public struct IntervalSettlement: Sendable, Hashable, Codable {
    /// The mechanism that priced the interval.
    public let mechanism: Mechanism
    /// The tariff in force.
    public let tariff: IntervalTariff
    /// One result per member, in ascending byte order of the member IDs.
    public let members: [MemberSettlement]
    /// The interval's totals.
    public let totals: SettlementTotals

    /// Validates the input (bounds, unique non-empty IDs, the mechanism's requirements) and
    /// settles the interval exactly.
    public init(members input: [MemberEnergy], tariff: IntervalTariff, mechanism: Mechanism) throws(BillingError) {
        let community = try Community(validating: input)
        let retail = tariff.retail.perWh
        let feedIn = tariff.feedIn.perWh
        let demand = community.demandWh
        let supply = community.supplyWh
        let columns: ExactColumns
        switch mechanism {
        case .gridOnly:
            columns = try .uniform(community, tariff, UniformPrices(buy: retail, sell: feedIn), sharing: false)
        case .midMarketRate:
            let prices = try PricingRules.midMarketRate(retail: retail, feedIn: feedIn, demandWh: demand, supplyWh: supply)
            columns = try .uniform(community, tariff, prices, sharing: true)
        case .supplyDemandRatio:
            let prices = try PricingRules.supplyDemandRatio(retail: retail, feedIn: feedIn, demandWh: demand, supplyWh: supply)
            columns = try .uniform(community, tariff, prices, sharing: true)
        case .billSharing:
            let bill = try PricingRules.gridBill(
                retail: retail, feedIn: feedIn, demandWh: demand, supplyWh: supply, shared: Rational(community.sharedWh))
            let prices = try PricingRules.billSharing(bill: bill, demandWh: demand, supplyWh: supply)
            columns = try .uniform(community, tariff, prices, sharing: true)
        case .staticKeys(let shares):
            let communityPrice = try Self.communityPrice(tariff, mechanism)
            let allocation = try AllocationKeys.staticKeys(shares, community: community)
            columns = try .keyed(community, tariff, communityPrice, allocation)
        case .dynamicKeys:
            let communityPrice = try Self.communityPrice(tariff, mechanism)
            let allocation = try AllocationKeys.dynamicKeys(community: community)
            columns = try .keyed(community, tariff, communityPrice, allocation)
        }
        self.mechanism = mechanism
        self.tariff = tariff
        self.members = try columns.settlements(for: community)
        self.totals = columns.totals
    }

    /// The result of the member with exactly this ID (byte for byte), found by binary search.
    public func member(_ memberID: String) -> MemberSettlement? {
        members.settlement(of: memberID)
    }

    private static func communityPrice(_ tariff: IntervalTariff, _ mechanism: Mechanism) throws(BillingError) -> Rational {
        guard let price = tariff.communityPrice else { throw .missingCommunityPrice(mechanism: mechanism.name) }
        return price.perWh
    }
}

/// The exact per-member columns of one interval, before energies are made integral.
private struct ExactColumns {
    var fromCommunity: [Rational] = []
    var toCommunity: [Rational] = []
    var charge: [Rational] = []
    var credit: [Rational] = []
    var gridFee: [Rational] = []
    var buyPerWh: [Rational] = []
    var sellPerWh: [Rational] = []
    /// Whole Wh exchanged inside the community: C rounded half to even (C is whole except under
    /// static keys).
    var communityUnits: Int128 = 0
    var totals: SettlementTotals
    /// Retail and feed-in per Wh, for the grid-only baseline of every member.
    var retail: Rational
    var feedIn: Rational

    /// A mechanism that quotes one buy and one sell price to every member; `sharing` is false
    /// only for grid-only, which exchanges nothing inside the community.
    static func uniform(
        _ community: Community, _ tariff: IntervalTariff, _ prices: UniformPrices, sharing: Bool
    ) throws(BillingError) -> ExactColumns {
        let demand = community.demandWh
        let supply = community.supplyWh
        let shared = sharing ? community.sharedWh : 0
        let fee = sharing ? tariff.gridFee.perWh : .zero
        // Fractions of each buyer's import and each seller's export that stay inside.
        let boughtShare = demand == 0 ? Rational.zero : try Rational(numerator: Int128(shared), denominator: Int128(demand))
        let soldShare = supply == 0 ? Rational.zero : try Rational(numerator: Int128(shared), denominator: Int128(supply))
        let feePerImportedWh = try fee * boughtShare

        var columns = ExactColumns(
            totals: try Self.totals(
                community, tariff, shared: Rational(shared), fee: fee,
                charge: prices.buy.multiplied(by: demand), credit: prices.sell.multiplied(by: supply)),
            retail: tariff.retail.perWh, feedIn: tariff.feedIn.perWh)
        columns.communityUnits = Int128(shared)
        columns.reserve(community.members.count)
        for member in community.members {
            columns.fromCommunity.append(try boughtShare.multiplied(by: member.importWh))
            columns.toCommunity.append(try soldShare.multiplied(by: member.exportWh))
            columns.charge.append(try prices.buy.multiplied(by: member.importWh))
            columns.credit.append(try prices.sell.multiplied(by: member.exportWh))
            columns.gridFee.append(try feePerImportedWh.multiplied(by: member.importWh))
            columns.buyPerWh.append(prices.buy)
            columns.sellPerWh.append(prices.sell)
        }
        return columns
    }

    /// Allocation keys: covered energy at the community price c, the rest of the import at r;
    /// producers share c·C + e·(S − C) pro rata to export.
    static func keyed(
        _ community: Community, _ tariff: IntervalTariff, _ communityPrice: Rational, _ allocation: KeyAllocation
    ) throws(BillingError) -> ExactColumns {
        let retail = tariff.retail.perWh
        let feedIn = tariff.feedIn.perWh
        let fee = tariff.gridFee.perWh
        let supply = community.supplyWh
        let covered = allocation.total
        let producerRevenue = try communityPrice * covered + feedIn * (Rational(supply) - covered)
        let sell = supply == 0 ? feedIn : try producerRevenue.divided(by: supply)
        let soldShare = supply == 0 ? Rational.zero : try covered.divided(by: supply)
        let charge = try communityPrice * covered + retail * (Rational(community.demandWh) - covered)

        var columns = ExactColumns(
            totals: try Self.totals(
                community, tariff, shared: covered, fee: fee, charge: charge, credit: supply == 0 ? .zero : producerRevenue),
            retail: retail, feedIn: feedIn)
        columns.communityUnits = try covered.rounded(toUnitsOf: 1, rule: .halfEven)
        columns.reserve(community.members.count)
        for (index, member) in community.members.enumerated() {
            let memberCovered = allocation.covered[index]
            let memberCharge = try communityPrice * memberCovered + retail * (Rational(member.importWh) - memberCovered)
            columns.fromCommunity.append(memberCovered)
            columns.toCommunity.append(try soldShare.multiplied(by: member.exportWh))
            columns.charge.append(memberCharge)
            columns.credit.append(try sell.multiplied(by: member.exportWh))
            columns.gridFee.append(try fee * memberCovered)
            if member.importWh > 0 {
                columns.buyPerWh.append(try memberCharge.divided(by: member.importWh))
            } else {
                let coverage = allocation.firstWhCoverage[index]
                columns.buyPerWh.append(try communityPrice * coverage + retail * (Rational.one - coverage))
            }
            columns.sellPerWh.append(sell)
        }
        return columns
    }

    private static func totals(
        _ community: Community, _ tariff: IntervalTariff, shared: Rational, fee: Rational, charge: Rational, credit: Rational
    ) throws(BillingError) -> SettlementTotals {
        let retail = tariff.retail.perWh
        let feedIn = tariff.feedIn.perWh
        return SettlementTotals(
            importWh: community.demandWh, exportWh: community.supplyWh,
            communityWh: try checkedInt64(shared.rounded(toUnitsOf: 1, rule: .halfEven)),
            energyCharge: charge, energyCredit: credit, gridFeeCharge: try fee * shared,
            baselineCharge: try retail.multiplied(by: community.demandWh),
            baselineCredit: try feedIn.multiplied(by: community.supplyWh),
            gridBill: try PricingRules.gridBill(
                retail: retail, feedIn: feedIn, demandWh: community.demandWh, supplyWh: community.supplyWh, shared: shared))
    }

    private mutating func reserve(_ count: Int) {
        fromCommunity.reserveCapacity(count)
        toCommunity.reserveCapacity(count)
        charge.reserveCapacity(count)
        credit.reserveCapacity(count)
        gridFee.reserveCapacity(count)
        buyPerWh.reserveCapacity(count)
        sellPerWh.reserveCapacity(count)
    }

    /// Makes energies integral with the largest-remainder method (both community columns add
    /// up to `communityUnits`) and assembles the members' results.
    func settlements(for community: Community) throws(BillingError) -> [MemberSettlement] {
        let fromWh = try MoneyRounding.apportion(fromCommunity, toUnitsOf: 1, total: communityUnits)
        let toWh = try MoneyRounding.apportion(toCommunity, toUnitsOf: 1, total: communityUnits)
        var result: [MemberSettlement] = []
        result.reserveCapacity(community.members.count)
        for (index, member) in community.members.enumerated() {
            let received = try checkedInt64(fromWh[index])
            let delivered = try checkedInt64(toWh[index])
            result.append(MemberSettlement(
                memberID: member.memberID, importWh: member.importWh, exportWh: member.exportWh,
                fromCommunityWh: received, toCommunityWh: delivered,
                fromGridWh: member.importWh - received, toGridWh: member.exportWh - delivered,
                buyPricePerKWh: try buyPerWh[index].multiplied(by: 1000),
                sellPricePerKWh: try sellPerWh[index].multiplied(by: 1000),
                energyCharge: charge[index], energyCredit: credit[index], gridFeeCharge: gridFee[index],
                baselineCharge: try retail.multiplied(by: member.importWh),
                baselineCredit: try feedIn.multiplied(by: member.exportWh)))
        }
        return result
    }
}
