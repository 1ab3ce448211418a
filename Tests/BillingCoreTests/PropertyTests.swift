import BillingCore
import PropertyBased
import Testing

/// Random communities: 1–40 members with import and export 0…20 000 Wh (about a third of the
/// registers zero, so that empty supply or demand comes up), and prices with r ≥ e.
private let energy = Gen.int64(in: -10_000...20_000).map { max(0, $0) }
private let registers = zip(energy, energy).array(of: 1...40)
/// (retail, feed-in) in micro-units per kWh, feed-in ≤ retail.
private let prices = zip(Gen.int64(in: 0...600_000), Gen.int64(in: 0...600_000)).map { a, b in (max(a, b), min(a, b)) }
/// (grid fee in micro-units per kWh, a seed for shuffles and key shares).
private let extras = zip(Gen.int64(in: 0...50_000), Gen.uint64(in: 0...UInt64.max))

private func community(_ registers: [(Int64, Int64)]) -> [MemberEnergy] {
    registers.enumerated().map { index, register in
        member("m\(index)", importWh: register.0, exportWh: register.1)
    }
}

private func randomTariff(_ prices: (Int64, Int64), gridFee: Int64) throws -> IntervalTariff {
    let (retail, feedIn) = prices
    return try IntervalTariff(
        retail: Price(microUnitsPerKWh: retail), feedIn: Price(microUnitsPerKWh: feedIn),
        gridFee: Price(microUnitsPerKWh: gridFee), communityPrice: Price(microUnitsPerKWh: (retail + feedIn) / 2))
}

/// Static shares for every other member, proportional to its position, adding up to 1 or less.
private func randomShares(_ members: [MemberEnergy], seed: UInt64) throws -> [String: Rational] {
    let keyed = members.enumerated().filter { $0.offset % 2 == 0 }
    let weights = keyed.map { Int128($0.offset + 1) }
    let whole = weights.reduce(0, +) + Int128(seed % 4)
    var shares: [String: Rational] = [:]
    for (entry, weight) in zip(keyed, weights) {
        shares[entry.element.memberID] = try Rational(numerator: weight, denominator: whole)
    }
    return shares
}

private func allMechanisms(_ members: [MemberEnergy], seed: UInt64) throws -> [Mechanism] {
    [.gridOnly, .midMarketRate, .supplyDemandRatio, .billSharing, .staticKeys(try randomShares(members, seed: seed)), .dynamicKeys]
}

/// The community's grid bill computed from its definition, independently of the library:
/// r·(D − S)⁺ − e·(S − D)⁺.
private func gridBill(_ members: [MemberEnergy], _ tariff: IntervalTariff) throws -> Rational {
    let demand = members.map(\.importWh).reduce(0, +)
    let supply = members.map(\.exportWh).reduce(0, +)
    let bought = try tariff.retail.perWh.multiplied(by: max(0, demand - supply))
    let sold = try tariff.feedIn.perWh.multiplied(by: max(0, supply - demand))
    return try bought - sold
}

private func sum(_ values: [Rational]) throws -> Rational { try Rational.sum(values) }

@Suite("Properties over random communities")
struct PropertyTests {
    @Test func energyIsConservedInEveryMechanism() async {
        await propertyCheck(count: 150, input: registers, prices, extras) { registers, prices, extras in
            let members = community(registers)
            let tariff = try randomTariff(prices, gridFee: extras.0)
            let demand = members.map(\.importWh).reduce(0, +)
            let supply = members.map(\.exportWh).reduce(0, +)
            for mechanism in try allMechanisms(members, seed: extras.1) {
                let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: mechanism)
                let received = settlement.members.map(\.fromCommunityWh).reduce(0, +)
                let delivered = settlement.members.map(\.toCommunityWh).reduce(0, +)
                #expect(received == delivered, "\(mechanism.name)")
                #expect(received == settlement.totals.communityWh, "\(mechanism.name)")
                for line in settlement.members {
                    #expect(line.fromCommunityWh + line.fromGridWh == line.importWh, "\(mechanism.name)")
                    #expect(line.toCommunityWh + line.toGridWh == line.exportWh, "\(mechanism.name)")
                    #expect(min(line.fromCommunityWh, line.fromGridWh, line.toCommunityWh, line.toGridWh) >= 0, "\(mechanism.name)")
                }
                switch mechanism {
                case .gridOnly: #expect(received == 0)
                case .midMarketRate, .supplyDemandRatio, .billSharing, .dynamicKeys: #expect(received == min(supply, demand))
                case .staticKeys: #expect(received <= min(supply, demand))
                }
                // The totals are computed from the community's sums; they must equal the members'.
                #expect(try sum(settlement.members.map(\.energyCharge)) == settlement.totals.energyCharge)
                #expect(try sum(settlement.members.map(\.energyCredit)) == settlement.totals.energyCredit)
                #expect(try sum(settlement.members.map(\.gridFeeCharge)) == settlement.totals.gridFeeCharge)
                #expect(try sum(settlement.members.map(\.baselineCharge)) == settlement.totals.baselineCharge)
                #expect(try sum(settlement.members.map(\.baselineCredit)) == settlement.totals.baselineCredit)
                // Books balance in every mechanism against its own grid bill.
                #expect(try settlement.totals.energyCharge - settlement.totals.energyCredit == settlement.totals.gridBill)
            }
        }
    }

    @Test func booksBalanceExactlyAndAfterRoundingToCents() async {
        await propertyCheck(count: 150, input: registers, prices) { registers, prices in
            let members = community(registers)
            let tariff = try randomTariff(prices, gridFee: 0)
            let bill = try gridBill(members, tariff)
            for mechanism in [Mechanism.midMarketRate, .supplyDemandRatio, .billSharing] {
                let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: mechanism)
                let charges = try sum(settlement.members.map(\.energyCharge))
                let credits = try sum(settlement.members.map(\.energyCredit))
                #expect(try charges - credits == bill, "\(mechanism.name)")

                let invoice = try RoundedSettlement(settlement, unitsPerCurrencyUnit: 100)
                #expect(invoice.totals.energyCharge == (try checkedCents(charges)), "\(mechanism.name)")
                #expect(invoice.totals.energyCredit == (try checkedCents(credits)), "\(mechanism.name)")
                #expect(invoice.members.map(\.energyCharge).reduce(0, +) == invoice.totals.energyCharge)
                #expect(invoice.members.map(\.energyCredit).reduce(0, +) == invoice.totals.energyCredit)
                for (exact, rounded) in zip(settlement.members, invoice.members) {
                    #expect(exact.memberID == rounded.memberID)
                    #expect(try withinOneCent(exact.energyCharge, rounded.energyCharge), "\(mechanism.name) \(exact.memberID)")
                    #expect(try withinOneCent(exact.energyCredit, rounded.energyCredit), "\(mechanism.name) \(exact.memberID)")
                    #expect(try withinOneCent(exact.baselineCharge, rounded.baselineCharge))
                }
            }
        }
    }

    @Test func billSharingOverAPeriodBalances() async {
        await propertyCheck(count: 60, input: registers.array(of: 1...6), prices) { intervals, prices in
            let tariff = try randomTariff(prices, gridFee: 0)
            let period = try BillSharing.settle(intervals.map { SettlementInterval(tariff: tariff, members: community($0)) })
            var bill = Rational.zero
            for registers in intervals { bill = try bill + gridBill(community(registers), tariff) }
            let charges = try sum(period.members.map(\.energyCharge))
            let credits = try sum(period.members.map(\.energyCredit))
            #expect(try charges - credits == bill)
            #expect(charges.isZero || credits.isZero)
            #expect(period.members.map(\.fromCommunityWh).reduce(0, +) == period.members.map(\.toCommunityWh).reduce(0, +))
        }
    }

    @Test("under mid-market rate (and supply-demand ratio) nobody pays more than under grid only")
    func noMemberIsWorseOff() async {
        await propertyCheck(count: 150, input: registers, prices) { registers, prices in
            let members = community(registers)
            let tariff = try randomTariff(prices, gridFee: 0)
            let gridOnly = try IntervalSettlement(members: members, tariff: tariff, mechanism: .gridOnly)
            for mechanism in [Mechanism.midMarketRate, .supplyDemandRatio] {
                let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: mechanism)
                for (line, baseline) in zip(settlement.members, gridOnly.members) {
                    let net = try line.energyCharge - line.energyCredit
                    let baselineNet = try baseline.energyCharge - baseline.energyCredit
                    #expect(net <= baselineNet, "\(mechanism.name) \(line.memberID)")
                    #expect(try line.baselineNetCharge() == baselineNet)
                    #expect(try line.savings().signum >= 0)
                }
            }
        }
    }

    @Test func resultsDoNotDependOnInputOrder() async {
        await propertyCheck(count: 100, input: registers, prices, extras) { registers, prices, extras in
            let members = community(registers)
            var generator = SplitMix64(state: extras.1)
            let shuffled = members.shuffled(using: &generator)
            let tariff = try randomTariff(prices, gridFee: extras.0)
            for mechanism in try allMechanisms(members, seed: extras.1) {
                let inOrder = try IntervalSettlement(members: members, tariff: tariff, mechanism: mechanism)
                let reordered = try IntervalSettlement(members: shuffled, tariff: tariff, mechanism: mechanism)
                #expect(inOrder == reordered, "\(mechanism.name)")
                #expect(inOrder.members.map(\.memberID) == members.map(\.memberID).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            }
        }
    }
}

private func checkedCents(_ amount: Rational) throws -> Int64 {
    Int64(try amount.rounded(toUnitsOf: 100))
}

private func withinOneCent(_ exact: Rational, _ cents: Int64) throws -> Bool {
    try (Rational(cents) - exact.multiplied(by: 100)).magnitude < .one
}
