import BillingCore
import Testing

@Suite("Refused input: a thrown BillingError with a useful message")
struct ErrorTests {
    /// Runs `body`, expecting a `BillingError` whose message contains every fragment.
    func expectRefusal(
        _ expected: BillingError? = nil, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("no error thrown", sourceLocation: sourceLocation)
        } catch let error as BillingError {
            if let expected { #expect(error == expected, sourceLocation: sourceLocation) }
            let message = error.description
            #expect(message.hasPrefix("BillingError: "), sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("not a BillingError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func duplicateMemberID() {
        expectRefusal(.duplicateMember("B"), mentioning: ["\"B\"", "more than once"]) {
            _ = try IntervalSettlement(
                members: [member("B", importWh: 1), member("A", exportWh: 1), member("B", importWh: 2)],
                tariff: tariff(), mechanism: .midMarketRate)
        }
        // Two spellings of "é" are one member.
        expectRefusal(mentioning: ["more than once"]) {
            _ = try IntervalSettlement(
                members: [member("caf\u{E9}", importWh: 1), member("cafe\u{301}", importWh: 1)], tariff: tariff(), mechanism: .gridOnly)
        }
    }

    @Test func negativeEnergy() {
        expectRefusal(mentioning: ["import of member \"B\" (-5 Wh)", "0…10000000 Wh"]) {
            _ = try IntervalSettlement(members: [member("B", importWh: -5)], tariff: tariff(), mechanism: .gridOnly)
        }
    }

    @Test func energyAboveBound() {
        expectRefusal(
            .outOfBounds("export of member \"P\" (10000001 Wh)", limit: "0…10000000 Wh per interval"),
            mentioning: ["10000001 Wh", "out of bounds"]
        ) {
            _ = try IntervalSettlement(members: [member("P", exportWh: 10_000_001)], tariff: tariff(), mechanism: .billSharing)
        }
    }

    @Test func memberCount() {
        expectRefusal(mentioning: ["0 members", "1…100000"]) {
            _ = try IntervalSettlement(members: [], tariff: tariff(), mechanism: .gridOnly)
        }
        let crowd = (0...100_000).map { member("m\($0)", importWh: 1) }
        expectRefusal(mentioning: ["100001 members"]) {
            _ = try IntervalSettlement(members: crowd, tariff: tariff(), mechanism: .gridOnly)
        }
        expectRefusal(mentioning: ["must not be empty"]) {
            _ = try IntervalSettlement(members: [member("", importWh: 1)], tariff: tariff(), mechanism: .gridOnly)
        }
    }

    @Test func retailBelowFeedIn() throws {
        expectRefusal(mentioning: ["retail price 0.08", "below the feed-in price 0.3"]) {
            _ = try IntervalTariff(retail: Price("0.08"), feedIn: Price("0.30"))
        }
        // Equal prices are allowed (and every mechanism then is the grid price).
        let equal = try IntervalTariff(retail: Price("0.1"), feedIn: Price("0.1"))
        #expect(equal.retail == equal.feedIn)
    }

    @Test func priceWithSevenDecimals() {
        expectRefusal(mentioning: ["\"0.3000001\"", "7 fractional digits", "at most 6"]) {
            _ = try Price("0.3000001")
        }
    }

    @Test func staticSharesAboveOne() {
        expectRefusal(mentioning: ["add up to 1.1", "more than 1"]) {
            _ = try IntervalSettlement(
                members: [member("A", importWh: 1), member("B", importWh: 1), member("P", exportWh: 5)],
                tariff: tariff(communityPrice: "0.15"),
                mechanism: .staticKeys(["A": try q("0.6"), "B": try q("0.5")]))
        }
    }

    @Test func staticSharesForUnknownOrNegative() {
        expectRefusal(.unknownMember("Z"), mentioning: ["\"Z\"", "no energy record"]) {
            _ = try IntervalSettlement(
                members: [member("A", importWh: 1)], tariff: tariff(communityPrice: "0.15"),
                mechanism: .staticKeys(["Z": try q("0.1")]))
        }
        expectRefusal(mentioning: ["\"A\" is negative"]) {
            _ = try IntervalSettlement(
                members: [member("A", importWh: 1)], tariff: tariff(communityPrice: "0.15"),
                mechanism: .staticKeys(["A": try q("-0.1")]))
        }
    }

    @Test("keys without a community price", arguments: [Mechanism.dynamicKeys, .staticKeys([:])])
    func keysWithoutCommunityPrice(mechanism: Mechanism) {
        expectRefusal(.missingCommunityPrice(mechanism: mechanism.name), mentioning: [mechanism.name, "community price"]) {
            _ = try IntervalSettlement(members: [member("A", importWh: 1)], tariff: tariff(), mechanism: mechanism)
        }
    }

    @Test func emptyPeriod() {
        expectRefusal(mentioning: ["0 intervals"]) { _ = try BillSharing.settle([]) }
    }

    @Test func roundingScale() throws {
        let settlement = try IntervalSettlement(members: [member("A", importWh: 1)], tariff: tariff(), mechanism: .gridOnly)
        expectRefusal(mentioning: ["0 units per currency unit"]) { _ = try RoundedSettlement(settlement, unitsPerCurrencyUnit: 0) }
    }
}
