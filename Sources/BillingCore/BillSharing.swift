/// One settlement interval of a billing period: the tariff in force and the members' energy.
public struct SettlementInterval: Sendable, Hashable, Codable {
    /// The tariff of this interval (time-of-use tariffs differ from interval to interval).
    public var tariff: IntervalTariff
    /// The members' import and export in this interval; a member may be absent from some.
    public var members: [MemberEnergy]

    /// An interval of a period.
    public init(tariff: IntervalTariff, members: [MemberEnergy]) {
        self.tariff = tariff
        self.members = members
    }
}

/// The exact bill-sharing settlement of a billing period.
public struct PeriodSettlement: Sendable, Hashable, Codable {
    /// How many intervals the period had.
    public let intervalCount: Int
    /// One result per member that appears in any interval, in ascending byte order of the IDs;
    /// energies and amounts are sums over the period, prices are period averages.
    public let members: [MemberSettlement]
    /// The period's totals; `gridBill` is the community's bill B.
    public let totals: SettlementTotals

    /// The result of the member with exactly this ID (byte for byte).
    public func member(_ memberID: String) -> MemberSettlement? {
        members.settlement(of: memberID)
    }
}

/// Bill sharing over a billing period (Long et al. 2017).
///
/// The community's net bill towards the grid is
/// B = Σ_t ( r_t·max(D_t − S_t, 0) − e_t·max(S_t − D_t, 0) ), with each interval's own prices.
/// If B ≥ 0 the members pay B pro rata to their import over the period (Σ_t import_i,t / Σ_t D_t)
/// and nobody is paid for export; if B < 0 they receive −B pro rata to their export over the
/// period. Because B is settled once for the whole period, a member's export in one interval
/// offsets the community's import in another.
///
/// Community energy per interval is min(S_t, D_t), split pro rata to import and to export and
/// made whole Wh by the largest-remainder method as in `IntervalSettlement`. The grid fee is
/// charged per interval on those whole Wh: summing the exact per-interval shares
/// import_i,t·min(S_t, D_t)/D_t over a period would need the least common multiple of every D_t
/// as a denominator, which leaves `Int128` within a day of 15-minute intervals, while fees on
/// whole Wh keep every sum over a denominator of 10^9 and let a member recompute its fee from
/// its statement. The total fee is the same either way: Σ_t fee_t·min(S_t, D_t).
///
/// ```swift
/// let period = try BillSharing.settle([
///     SettlementInterval(tariff: peak, members: morning),
///     SettlementInterval(tariff: offPeak, members: night),
/// ])
/// ```
public enum BillSharing {
    /// Settles `intervals` as one billing period; throws for an empty period and for any
    /// interval `IntervalSettlement` would refuse.
    public static func settle(_ intervals: [SettlementInterval]) throws(BillingError) -> PeriodSettlement {
        guard !intervals.isEmpty else { throw .outOfBounds("a billing period of 0 intervals", limit: "at least 1 interval") }
        var accounts: [String: Account] = [:]
        var bill = Rational.zero
        var demand: Int64 = 0
        var supply: Int64 = 0
        var shared: Int64 = 0
        var feeTotal = Rational.zero
        var baselineChargeTotal = Rational.zero
        var baselineCreditTotal = Rational.zero

        for interval in intervals {
            let community = try Community(validating: interval.members)
            let retail = interval.tariff.retail.perWh
            let feedIn = interval.tariff.feedIn.perWh
            let fee = interval.tariff.gridFee.perWh
            let sharedWh = community.sharedWh
            bill = try bill + PricingRules.gridBill(
                retail: retail, feedIn: feedIn, demandWh: community.demandWh, supplyWh: community.supplyWh,
                shared: Rational(sharedWh))
            let (fromWh, toWh) = try communityEnergy(community)
            for (index, member) in community.members.enumerated() {
                var account = accounts[member.memberID] ?? Account()
                try account.add(
                    member, fromCommunityWh: fromWh[index], toCommunityWh: toWh[index], retail: retail, feedIn: feedIn, fee: fee)
                accounts[member.memberID] = account
            }
            demand = try checkedInt64(Int128(demand) + Int128(community.demandWh))
            supply = try checkedInt64(Int128(supply) + Int128(community.supplyWh))
            shared = try checkedInt64(Int128(shared) + Int128(sharedWh))
            feeTotal = try feeTotal + fee.multiplied(by: sharedWh)
            baselineChargeTotal = try baselineChargeTotal + retail.multiplied(by: community.demandWh)
            baselineCreditTotal = try baselineCreditTotal + feedIn.multiplied(by: community.supplyWh)
        }

        let prices = try PricingRules.billSharing(bill: bill, demandWh: demand, supplyWh: supply)
        let buyPerKWh = try prices.buy.multiplied(by: 1000)
        let sellPerKWh = try prices.sell.multiplied(by: 1000)
        let ids = accounts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var members: [MemberSettlement] = []
        members.reserveCapacity(ids.count)
        for id in ids {
            guard let account = accounts[id] else { continue }
            members.append(MemberSettlement(
                memberID: id, importWh: account.importWh, exportWh: account.exportWh,
                fromCommunityWh: account.fromCommunityWh, toCommunityWh: account.toCommunityWh,
                fromGridWh: account.importWh - account.fromCommunityWh, toGridWh: account.exportWh - account.toCommunityWh,
                buyPricePerKWh: buyPerKWh, sellPricePerKWh: sellPerKWh,
                energyCharge: try prices.buy.multiplied(by: account.importWh),
                energyCredit: try prices.sell.multiplied(by: account.exportWh),
                gridFeeCharge: account.gridFee, baselineCharge: account.baselineCharge, baselineCredit: account.baselineCredit))
        }
        let totals = SettlementTotals(
            importWh: demand, exportWh: supply, communityWh: shared,
            energyCharge: try prices.buy.multiplied(by: demand), energyCredit: try prices.sell.multiplied(by: supply),
            gridFeeCharge: feeTotal, baselineCharge: baselineChargeTotal, baselineCredit: baselineCreditTotal,
            gridBill: bill)
        return PeriodSettlement(intervalCount: intervals.count, members: members, totals: totals)
    }

    /// Each member's whole Wh of community energy in one interval: received pro rata to import,
    /// delivered pro rata to export, both columns adding up to min(S, D).
    static func communityEnergy(_ community: Community) throws(BillingError) -> (received: [Int128], delivered: [Int128]) {
        let sharedWh = community.sharedWh
        guard sharedWh > 0 else {
            let none = [Int128](repeating: 0, count: community.members.count)
            return (none, none)
        }
        let boughtShare = try Rational(numerator: Int128(sharedWh), denominator: Int128(community.demandWh))
        let soldShare = try Rational(numerator: Int128(sharedWh), denominator: Int128(community.supplyWh))
        var received: [Rational] = []
        var delivered: [Rational] = []
        received.reserveCapacity(community.members.count)
        delivered.reserveCapacity(community.members.count)
        for member in community.members {
            received.append(try boughtShare.multiplied(by: member.importWh))
            delivered.append(try soldShare.multiplied(by: member.exportWh))
        }
        return (
            try MoneyRounding.apportion(received, toUnitsOf: 1, total: Int128(sharedWh)),
            try MoneyRounding.apportion(delivered, toUnitsOf: 1, total: Int128(sharedWh))
        )
    }

    /// One member's sums over the period so far.
    private struct Account {
        var importWh: Int64 = 0
        var exportWh: Int64 = 0
        var fromCommunityWh: Int64 = 0
        var toCommunityWh: Int64 = 0
        var gridFee = Rational.zero
        var baselineCharge = Rational.zero
        var baselineCredit = Rational.zero

        mutating func add(
            _ member: MemberEnergy, fromCommunityWh received: Int128, toCommunityWh delivered: Int128,
            retail: Rational, feedIn: Rational, fee: Rational
        ) throws(BillingError) {
            let receivedWh = try checkedInt64(received)
            importWh = try checkedInt64(Int128(importWh) + Int128(member.importWh))
            exportWh = try checkedInt64(Int128(exportWh) + Int128(member.exportWh))
            fromCommunityWh = try checkedInt64(Int128(fromCommunityWh) + received)
            toCommunityWh = try checkedInt64(Int128(toCommunityWh) + delivered)
            gridFee = try gridFee + fee.multiplied(by: receivedWh)
            baselineCharge = try baselineCharge + retail.multiplied(by: member.importWh)
            baselineCredit = try baselineCredit + feedIn.multiplied(by: member.exportWh)
        }
    }
}
