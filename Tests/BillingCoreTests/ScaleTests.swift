import BillingCore
import Testing

@Suite("Large communities")
struct ScaleTests {
    /// 10 000 members with awkward energies and prices; every mechanism settles without
    /// overflow, conserves energy and balances. (Timing is measured in release builds, not here.)
    @Test func tenThousandMembers() throws {
        var generator = SplitMix64(state: 11)
        let members = (0..<10_000).map { index in
            member(
                "member-\(index)", importWh: Int64.random(in: 0...9_973, using: &generator),
                exportWh: index % 4 == 0 ? Int64.random(in: 0...30_011, using: &generator) : 0)
        }
        let tariff = try tariff(retail: "0.312347", feedIn: "0.071113", gridFee: "0.017", communityPrice: "0.191717")
        var shares: [String: Rational] = [:]
        for index in stride(from: 0, to: 10_000, by: 7) { shares["member-\(index)"] = try fraction(1, 1500) }
        let mechanisms: [Mechanism] = [.gridOnly, .midMarketRate, .supplyDemandRatio, .billSharing, .staticKeys(shares), .dynamicKeys]
        for mechanism in mechanisms {
            let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: mechanism)
            #expect(settlement.members.count == 10_000)
            let received = settlement.members.map(\.fromCommunityWh).reduce(0, +)
            #expect(received == settlement.members.map(\.toCommunityWh).reduce(0, +))
            #expect(received == settlement.totals.communityWh)
            #expect(try settlement.totals.energyCharge - settlement.totals.energyCredit == settlement.totals.gridBill)
            let invoice = try RoundedSettlement(settlement, unitsPerCurrencyUnit: 1_000_000)
            #expect(invoice.totals.energyCharge == Int64(try settlement.totals.energyCharge.rounded(toUnitsOf: 1_000_000)))
            #expect(invoice.totals.gridFeeCharge == Int64(try settlement.totals.gridFeeCharge.rounded(toUnitsOf: 1_000_000)))
        }
    }

    /// The largest interval the bounds allow: 100 000 members at 10 MWh, the highest price with
    /// awkward digits. Every mechanism settles exactly except the supply-demand ratio, whose
    /// exact prices need denominators around 10^41 here, beyond `Int128`: it throws
    /// `.arithmeticOverflow` rather than trapping.
    @Test func extremeBounds() throws {
        var generator = SplitMix64(state: 5)
        let members = (0..<100_000).map { index in
            member("m\(index)", importWh: 10_000_000 - Int64.random(in: 0...7, using: &generator), exportWh: index % 3 == 0 ? 10_000_000 : 0)
        }
        let tariff = try tariff(retail: "99.999999", feedIn: "0.000007", gridFee: "99.999997", communityPrice: "50.000001")
        for mechanism in [Mechanism.gridOnly, .midMarketRate, .billSharing, .dynamicKeys] {
            let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: mechanism)
            #expect(try settlement.totals.energyCharge - settlement.totals.energyCredit == settlement.totals.gridBill)
            #expect(settlement.members.map(\.fromCommunityWh).reduce(0, +) == settlement.totals.communityWh)
        }
        #expect(throws: BillingError.arithmeticOverflow) {
            try IntervalSettlement(members: members, tariff: tariff, mechanism: .supplyDemandRatio)
        }
    }

    /// The envelope `BillingBounds` documents for the supply-demand ratio: a community of about
    /// 100 MWh per interval, one member at the 10 MWh bound, awkward prices just under 1 per kWh.
    @Test func supplyDemandRatioSettlesLargeRealisticCommunities() throws {
        var generator = SplitMix64(state: 9)
        var members = (0..<1000).map { index in
            member("m\(index)", importWh: Int64.random(in: 0...99_991, using: &generator), exportWh: index % 2 == 0 ? Int64.random(in: 0...97_777, using: &generator) : 0)
        }
        members.append(member("plant", importWh: 9_999_991, exportWh: 0))
        let tariff = try tariff(retail: "0.999999", feedIn: "0.000007")
        let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: .supplyDemandRatio)
        #expect(try settlement.totals.energyCharge - settlement.totals.energyCredit == settlement.totals.gridBill)
    }
}
