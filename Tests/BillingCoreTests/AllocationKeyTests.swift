import BillingCore
import Testing

/// The allocation-key example: a generator G exports 6 kWh; A, B, C import 3, 1, 4 kWh.
@Suite("Allocation keys")
struct AllocationKeyTests {
    let members = [
        member("G", exportWh: 6000), member("A", importWh: 3000), member("B", importWh: 1000), member("C", importWh: 4000),
    ]

    func keyTariff() throws -> IntervalTariff { try tariff(communityPrice: "0.15") }

    func staticShares() throws -> [String: Rational] {
        ["A": try q("0.5"), "B": try q("0.3"), "C": try q("0.2")]
    }

    @Test func staticKeysCoverUpToEachShareAndLeaveTheRestAsSurplus() throws {
        let settlement = try IntervalSettlement(members: members, tariff: keyTariff(), mechanism: .staticKeys(staticShares()))
        #expect(settlement.members.map(\.memberID) == ["A", "B", "C", "G"])
        #expect(settlement.members.map(\.fromCommunityWh) == [3000, 1000, 1200, 0])
        #expect(settlement.members.map(\.fromGridWh) == [0, 0, 2800, 0])
        let generator = try #require(settlement.member("G"))
        #expect(generator.toCommunityWh == 5200)
        #expect(generator.toGridWh == 800)
        #expect(settlement.totals.communityWh == 5200)
        // Covered at 0.15, the rest at 0.30: C pays 1.2·0.15 + 2.8·0.30.
        #expect(settlement.member("A")?.energyCharge == (try q("0.45")))
        #expect(settlement.member("C")?.energyCharge == (try q("1.02")))
        // G: 5.2 kWh at 0.15 plus the 0.8 kWh surplus at 0.08.
        #expect(generator.energyCredit == (try q("0.844")))
        // Books balance against the grid bill r·(D − C) − e·(S − C) = 0.84 − 0.064.
        #expect(try settlement.totals.netCharge() == (try q("0.776")))
        #expect(settlement.totals.gridBill == (try q("0.776")))
    }

    @Test func dynamicKeysShareGenerationProRataToImport() throws {
        let settlement = try IntervalSettlement(members: members, tariff: keyTariff(), mechanism: .dynamicKeys)
        #expect(settlement.members.map(\.fromCommunityWh) == [2250, 750, 3000, 0])
        #expect(settlement.member("G")?.toCommunityWh == 6000)
        #expect(settlement.member("G")?.toGridWh == 0)
        #expect(settlement.member("G")?.energyCredit == (try q("0.90")))
        // A: 2.25 kWh at 0.15 plus 0.75 kWh at 0.30.
        #expect(settlement.member("A")?.energyCharge == (try q("0.5625")))
        // Everyone pays the same blend: 3/4 at 0.15, 1/4 at 0.30.
        #expect(settlement.members.prefix(3).allSatisfy { $0.buyPricePerKWh == (try? q("0.1875")) })
    }

    @Test func gridFeeIsOnCoveredEnergy() throws {
        let settlement = try IntervalSettlement(
            members: members, tariff: tariff(gridFee: "0.01", communityPrice: "0.15"), mechanism: .staticKeys(staticShares()))
        #expect(settlement.member("C")?.gridFeeCharge == (try q("0.012")))
        #expect(settlement.totals.gridFeeCharge == (try q("0.052")))
    }

    @Test func fractionalCoverageIsMadeWholeByLargestRemainder() throws {
        // Thirds of 1000 Wh: 333.3… each; the spare Wh goes to the lowest ID.
        let third = try fraction(1, 3)
        let settlement = try IntervalSettlement(
            members: [member("P", exportWh: 1000), member("x", importWh: 900), member("y", importWh: 900), member("z", importWh: 900)],
            tariff: keyTariff(), mechanism: .staticKeys(["x": third, "y": third, "z": third]))
        #expect(settlement.member("x")?.fromCommunityWh == 334)
        #expect(settlement.member("y")?.fromCommunityWh == 333)
        #expect(settlement.member("z")?.fromCommunityWh == 333)
        #expect(settlement.member("P")?.toCommunityWh == 1000)
        // Exact amounts keep the thirds: 1000/3 Wh at 0.15 plus 1700/3 Wh at 0.30 per kWh.
        #expect(settlement.member("x")?.energyCharge == (try q("0.22")))
    }

    @Test func sharesBelowOneLeaveSurplusEvenWhenDemandRemains() throws {
        // Two thirds of 1000 Wh are allocated, 666.6… Wh: rounded half-even to 667 in total.
        let third = try fraction(1, 3)
        let settlement = try IntervalSettlement(
            members: [member("P", exportWh: 1000), member("x", importWh: 900), member("y", importWh: 900)],
            tariff: keyTariff(), mechanism: .staticKeys(["x": third, "y": third]))
        #expect(settlement.totals.communityWh == 667)
        #expect(settlement.member("x")?.fromCommunityWh == 334)
        #expect(settlement.member("y")?.fromCommunityWh == 333)
        #expect(settlement.member("P")?.toCommunityWh == 667)
        #expect(settlement.member("P")?.toGridWh == 333)
    }

    @Test func memberWithoutImportIsQuotedTheFirstKWh() throws {
        let settlement = try IntervalSettlement(
            members: members + [member("D", exportWh: 0)], tariff: keyTariff(),
            mechanism: .staticKeys(["A": try q("0.5"), "D": try q("0.1")]))
        #expect(settlement.member("D")?.buyPricePerKWh == (try q("0.15")))
        #expect(settlement.member("B")?.buyPricePerKWh == (try q("0.30")))
    }
}
