import BillingCore
import Testing

@Suite("Bill sharing over a billing period")
struct BillSharingTests {
    @Test func oneIntervalIsTheIntervalSettlement() throws {
        let members = [member("A", exportWh: 4000), member("B", importWh: 3000), member("C", importWh: 3000)]
        let period = try BillSharing.settle([SettlementInterval(tariff: tariff(), members: members)])
        let interval = try IntervalSettlement(members: members, tariff: tariff(), mechanism: .billSharing)
        #expect(period.members == interval.members)
        #expect(period.totals == interval.totals)
        #expect(period.member("B")?.energyCharge == (try q("0.30")))
        #expect(period.intervalCount == 1)
    }

    @Test func periodGridFeeIsOnWholeWhAndTotalsTheExactFee() throws {
        let members = [member("A", exportWh: 1000), member("B", importWh: 1000), member("C", importWh: 2000)]
        let fee = try tariff(gridFee: "0.013")
        let period = try BillSharing.settle([SettlementInterval(tariff: fee, members: members)])
        let interval = try IntervalSettlement(members: members, tariff: fee, mechanism: .billSharing)
        // B receives 333.3… Wh exactly, 333 whole Wh; C 666.6…, 667.
        #expect(period.member("B")?.fromCommunityWh == 333 && period.member("C")?.fromCommunityWh == 667)
        #expect(period.member("B")?.gridFeeCharge == (try q("0.004329")))
        #expect(interval.member("B")?.gridFeeCharge == (try fraction(13, 3000)))
        #expect(period.totals.gridFeeCharge == interval.totals.gridFeeCharge)
        #expect(period.members.map(\.energyCharge) == interval.members.map(\.energyCharge))
    }

    @Test func timeOfUseBillIsSharedProRataToImportOverThePeriod() throws {
        let peak = try tariff(retail: "0.30", feedIn: "0.08", gridFee: "0.02")
        let night = try tariff(retail: "0.20", feedIn: "0.05", gridFee: "0.02")
        let period = try BillSharing.settle([
            // Surplus of 1 kWh sold at 0.08: −0.08. B receives 3 kWh community energy.
            SettlementInterval(tariff: peak, members: [member("A", exportWh: 4000), member("B", importWh: 3000)]),
            // No supply: 3 kWh at 0.20: +0.60. C is only in this interval.
            SettlementInterval(tariff: night, members: [member("A", importWh: 1000), member("B", importWh: 1000), member("C", importWh: 1000)]),
        ])
        #expect(period.totals.gridBill == (try q("0.52")))
        #expect(period.totals.importWh == 6000 && period.totals.exportWh == 4000 && period.totals.communityWh == 3000)
        // B = 0.52 ≥ 0: paid pro rata to import (A 1, B 4, C 1 of 6 kWh); A's export earns nothing.
        let a = try #require(period.member("A"))
        let b = try #require(period.member("B"))
        let c = try #require(period.member("C"))
        #expect(a.energyCharge == (try fraction(52, 600)))
        #expect(b.energyCharge == (try fraction(208, 600)))
        #expect(c.energyCharge == (try fraction(52, 600)))
        #expect(a.energyCredit == .zero)
        #expect(b.fromCommunityWh == 3000 && b.fromGridWh == 1000 && a.toCommunityWh == 3000 && a.toGridWh == 1000)
        #expect(b.gridFeeCharge == (try q("0.06")))
        #expect(period.totals.gridFeeCharge == (try q("0.06")))
        #expect(a.baselineCharge == (try q("0.20")))
        #expect(a.baselineCredit == (try q("0.32")))
        #expect(b.buyPricePerKWh == (try fraction(52, 600)))
        #expect(try period.totals.netCharge() - period.totals.gridFeeCharge == (try q("0.52")))
        #expect(period.members.map(\.memberID) == ["A", "B", "C"])
    }

    @Test func negativeBillIsPaidOutProRataToExport() throws {
        let period = try BillSharing.settle([
            SettlementInterval(tariff: tariff(), members: [member("A", exportWh: 3000), member("B", exportWh: 1000)]),
            SettlementInterval(tariff: tariff(), members: [member("A", importWh: 1000), member("B", exportWh: 1000)]),
        ])
        // −0.08·4 − 0.08·0 (second interval: S = D) = −0.32, shared 3 : 2 by export.
        #expect(period.totals.gridBill == (try q("-0.32")))
        #expect(period.member("A")?.energyCredit == (try q("0.192")))
        #expect(period.member("B")?.energyCredit == (try q("0.128")))
        #expect(period.member("A")?.energyCharge == .zero)
        #expect(period.member("A")?.sellPricePerKWh == (try q("0.064")))
    }

    @Test func roundedPeriodStatementBalances() throws {
        var generator = SplitMix64(state: 3)
        let intervals = try (0..<96).map { slot in
            let members = (0..<25).map { index in
                member("m\(index)", importWh: Int64.random(in: 0...900, using: &generator), exportWh: index % 3 == 0 ? Int64.random(in: 0...2500, using: &generator) : 0)
            }
            let peak = slot >= 28 && slot < 80
            return SettlementInterval(tariff: try tariff(retail: peak ? "0.31" : "0.19", feedIn: "0.073", gridFee: "0.013"), members: members)
        }
        let period = try BillSharing.settle(intervals)
        let invoice = try RoundedSettlement(period, unitsPerCurrencyUnit: 100)
        #expect(invoice.totals.energyCharge == (try period.totals.energyCharge.rounded(toUnitsOf: 100)))
        #expect(invoice.totals.gridFeeCharge == (try period.totals.gridFeeCharge.rounded(toUnitsOf: 100)))
        #expect(invoice.members.map(\.energyCharge).reduce(0, +) == invoice.totals.energyCharge)
        #expect(period.members.map(\.fromCommunityWh).reduce(0, +) == period.totals.communityWh)
        #expect(period.members.map(\.toCommunityWh).reduce(0, +) == period.totals.communityWh)
        #expect(try Rational.sum(period.members.map(\.gridFeeCharge)) == period.totals.gridFeeCharge)
        #expect(try Rational.sum(period.members.map(\.energyCharge)) - Rational.sum(period.members.map(\.energyCredit)) == period.totals.gridBill)
    }
}
