import BillingCore
import Foundation
import Testing

/// The worked example of the issue: r = 0.30, e = 0.08, no fees; A exports 4 kWh, B and C
/// import 3 kWh each (S = 4, D = 6).
@Suite("Issue example: one interval, four mechanisms")
struct IssueExampleTests {
    let members = [member("A", exportWh: 4000), member("B", importWh: 3000), member("C", importWh: 3000)]

    func settle(_ mechanism: Mechanism) throws -> IntervalSettlement {
        try IntervalSettlement(members: members, tariff: tariff(), mechanism: mechanism)
    }

    /// Σ charges − Σ credits, summed from the members (not taken from the totals).
    func netOfMembers(_ settlement: IntervalSettlement) throws -> Rational {
        let charges = try Rational.sum(settlement.members.map(\.energyCharge))
        let credits = try Rational.sum(settlement.members.map(\.energyCredit))
        return try charges - credits
    }

    @Test func midMarketRate() throws {
        let settlement = try settle(.midMarketRate)
        let b = try #require(settlement.member("B"))
        let c = try #require(settlement.member("C"))
        let a = try #require(settlement.member("A"))
        #expect(b.energyCharge == (try fraction(68, 100)))
        #expect(c.energyCharge == (try q("0.68")))
        #expect(a.energyCredit == (try q("0.76")))
        #expect(a.energyCharge == .zero && b.energyCredit == .zero)
        #expect(a.sellPricePerKWh == (try q("0.19")))
        #expect(b.buyPricePerKWh == (try fraction(68, 300)))
        #expect(b.fromCommunityWh == 2000 && b.fromGridWh == 1000)
        #expect(a.toCommunityWh == 4000 && a.toGridWh == 0)
        #expect(settlement.totals.communityWh == 4000)
    }

    @Test func supplyDemandRatio() throws {
        let settlement = try settle(.supplyDemandRatio)
        let b = try #require(settlement.member("B"))
        let c = try #require(settlement.member("C"))
        let a = try #require(settlement.member("A"))
        #expect(b.energyCharge == (try fraction(87, 170)))
        #expect(c.energyCharge == (try fraction(87, 170)))
        #expect(b.energyCharge.description == "0.511764705…")
        #expect(b.energyCharge.decimalString(fractionDigits: 18) == "0.511764705882352941")
        #expect(a.energyCredit == (try fraction(36, 85)))
        #expect(a.energyCredit.description == "0.423529411…")
        // p_s = e·r/((r − e)·SDR + e) = 0.024/(0.22·2/3 + 0.08) = 9/85 per kWh.
        #expect(a.sellPricePerKWh == (try fraction(9, 85)))
        #expect(b.buyPricePerKWh == (try fraction(29, 170)))
    }

    @Test func gridOnly() throws {
        let settlement = try settle(.gridOnly)
        #expect(settlement.member("B")?.energyCharge == (try q("0.90")))
        #expect(settlement.member("C")?.energyCharge == (try q("0.90")))
        #expect(settlement.member("A")?.energyCredit == (try q("0.32")))
        #expect(settlement.members.allSatisfy { $0.fromCommunityWh == 0 && $0.toCommunityWh == 0 })
        #expect(try netOfMembers(settlement) == (try q("1.48")))
        #expect(settlement.totals.gridBill == (try q("1.48")))
    }

    @Test func billSharing() throws {
        let settlement = try settle(.billSharing)
        #expect(settlement.member("B")?.energyCharge == (try q("0.30")))
        #expect(settlement.member("C")?.energyCharge == (try q("0.30")))
        #expect(settlement.member("A")?.energyCredit == .zero)
        #expect(settlement.member("A")?.energyCredit.decimalString(fractionDigits: 2) == "0.00")
    }

    @Test("every community mechanism nets 0.60 = r·(D − S) and saves 0.88 = (r − e)·min(S, D)",
          arguments: [Mechanism.midMarketRate, .supplyDemandRatio, .billSharing])
    func booksBalance(mechanism: Mechanism) throws {
        let settlement = try settle(mechanism)
        #expect(try netOfMembers(settlement) == (try q("0.60")))
        #expect(settlement.totals.gridBill == (try q("0.60")))
        #expect(try settlement.totals.netCharge() == (try q("0.60")))
        #expect(try settlement.totals.savings() == (try q("0.88")))
        let memberSavings = try Rational.sum(settlement.members.map { try $0.savings() })
        #expect(memberSavings == (try q("0.88")))
        #expect(settlement.totals.energyCharge == (try Rational.sum(settlement.members.map(\.energyCharge))))
        #expect(settlement.totals.energyCredit == (try Rational.sum(settlement.members.map(\.energyCredit))))
    }

    @Test func baselineIsAlwaysTheGridOnlyAmount() throws {
        for mechanism in [Mechanism.gridOnly, .midMarketRate, .supplyDemandRatio, .billSharing] {
            let settlement = try settle(mechanism)
            #expect(settlement.member("B")?.baselineCharge == (try q("0.90")))
            #expect(settlement.member("A")?.baselineCredit == (try q("0.32")))
        }
    }

    @Test func gridFeeIsChargedOnExactCommunityEnergy() throws {
        // 2/3 of B's and C's import is community energy: 2 kWh each at 0.02.
        let settlement = try IntervalSettlement(members: members, tariff: tariff(gridFee: "0.02"), mechanism: .midMarketRate)
        #expect(settlement.member("B")?.gridFeeCharge == (try q("0.04")))
        #expect(settlement.member("A")?.gridFeeCharge == .zero)
        #expect(settlement.totals.gridFeeCharge == (try q("0.08")))
        let gridOnly = try IntervalSettlement(members: members, tariff: tariff(gridFee: "0.02"), mechanism: .gridOnly)
        #expect(gridOnly.totals.gridFeeCharge == .zero)
    }

    @Test func roundedToCents() throws {
        let invoice = try RoundedSettlement(settle(.supplyDemandRatio), unitsPerCurrencyUnit: 100)
        // 0.5117… each for B and C, 1.0235… together → 102 cents: B 51 + C 51 would be 102.
        #expect(invoice.members.map(\.energyCharge) == [0, 51, 51])
        #expect(invoice.members.map(\.energyCredit) == [42, 0, 0])
        #expect(invoice.totals.energyCharge == 102)
    }

    @Test func settlementsSurviveJSON() throws {
        let settlement = try IntervalSettlement(
            members: members, tariff: tariff(gridFee: "0.013", communityPrice: "0.15"),
            mechanism: .staticKeys(["B": try q("0.5"), "C": try fraction(1, 3)]))
        let data = try JSONEncoder().encode(settlement)
        #expect(try JSONDecoder().decode(IntervalSettlement.self, from: data) == settlement)
        let invoice = try RoundedSettlement(settlement, unitsPerCurrencyUnit: 100)
        #expect(try JSONDecoder().decode(RoundedSettlement.self, from: JSONEncoder().encode(invoice)) == invoice)
        // A decoded tariff is validated like a constructed one.
        let inverted = Data(#"{"retail": "0.08", "feedIn": "0.30"}"#.utf8)
        #expect(throws: BillingError.self) { try JSONDecoder().decode(IntervalTariff.self, from: inverted) }
    }
}
