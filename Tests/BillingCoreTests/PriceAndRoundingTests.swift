@testable import BillingCore
import Testing

@Suite("Price: decimal per kWh, micro-units, non-negative")
struct PriceTests {
    @Test("parses tariff decimals", arguments: [
        ("0.30", Int64(300_000), "0.3"), ("0.085", 85_000, "0.085"), ("100", 100_000_000, "100"), ("0", 0, "0"),
        ("0.000001", 1, "0.000001"), ("012.5", 12_500_000, "12.5"), ("100.000000", 100_000_000, "100"),
    ])
    func parses(text: String, micro: Int64, printed: String) throws {
        let price = try Price(text)
        #expect(price.microUnitsPerKWh == micro)
        #expect(price.description == printed)
        #expect(price.perWh == (try fraction(Int128(micro), 1_000_000_000)))
        #expect(price.perKWh == (try fraction(Int128(micro), 1_000_000)))
    }

    @Test func refusesNegativePricesAndSaysWhy() {
        #expect {
            try Price("-0.01")
        } throws: { error in
            guard case BillingError.invalidPrice("-0.01", let reason) = error else { return false }
            return reason.contains("must not be negative")
        }
        #expect(throws: BillingError.self) { try Price(microUnitsPerKWh: -1) }
    }

    @Test("refuses other malformed or out-of-range prices", arguments: [
        "0.1234567", "100.000001", "1000", "", ".5", "5.", "1e2", "0,30", " 1", "+1", "1.2.3",
    ])
    func refuses(text: String) {
        #expect {
            try Price(text)
        } throws: { error in
            guard case BillingError.invalidPrice(text, let reason) = error else { return false }
            return !reason.isEmpty && String(describing: error).contains("\"\(text)\"")
        }
    }

    @Test func sevenDecimalsAreRefusedWithTheReason() {
        #expect {
            try Price("0.0850001")
        } throws: { error in
            String(describing: error).contains("7 fractional digits") && String(describing: error).contains("at most 6")
        }
    }

    @Test func boundsOfMicroUnits() throws {
        #expect(try Price(microUnitsPerKWh: 100_000_000).microUnitsPerKWh == 100_000_000)
        #expect(throws: BillingError.self) { try Price(microUnitsPerKWh: 100_000_001) }
        #expect(try Price("0.3") < (try Price("0.30001")))
    }
}

@Suite("MoneyRounding: the largest-remainder method")
struct MoneyRoundingTests {
    @Test func thirdsOfOneUnitGoToTheLowestIDFirst() throws {
        let third = try fraction(1, 3)
        #expect(try MoneyRounding.round([third, third, third], toUnitsOf: 100) == [34, 33, 33])
        let keyed = try MoneyRounding.round(["c": third, "a": third, "b": third], toUnitsOf: 100)
        #expect(keyed == ["a": 34, "b": 33, "c": 33])
    }

    @Test func largestRemainderWinsOverID() throws {
        // 0.333, 0.333, 0.334 of a unit: Σ = 1.00 and the spare cent goes to the largest remainder.
        let amounts = [try q("0.00333"), try q("0.00333"), try q("0.00334")]
        #expect(try MoneyRounding.round(amounts, toUnitsOf: 100) == [0, 0, 1])
    }

    @Test func negativeAmounts() throws {
        let minusThird = try fraction(-1, 3)
        // Floors are −34 each (Σ −102) against a total of −100: the two spare units go by ID.
        #expect(try MoneyRounding.round([minusThird, minusThird, minusThird], toUnitsOf: 100) == [-33, -33, -34])
        let mixed = [try q("1.005"), try q("-0.005"), try q("-2.333")]
        let rounded = try MoneyRounding.round(mixed, toUnitsOf: 100)
        #expect(rounded.reduce(0, +) == (try Rational.sum(mixed).rounded(toUnitsOf: 100)))
        // In cents 100.5, −0.5, −233.3: Σ −133.3 → −133; floors Σ −135; the two spare cents go
        // to the largest remainder (0.7) and then to the lower ID of the two halves.
        #expect(rounded == [101, -1, -233])
    }

    @Test func totalIsRoundedHalfToEven() throws {
        let halfCent = try q("0.005")
        // 1.5 cents in total → 2: the first two members by ID get a cent each.
        #expect(try MoneyRounding.round([halfCent, halfCent, halfCent], toUnitsOf: 100) == [1, 1, 0])
        // 0.5 cents in total → 0.
        #expect(try MoneyRounding.round([try q("0.0025"), try q("0.0025")], toUnitsOf: 100) == [0, 0])
        // 2.5 cents → 2, 3.5 cents → 4.
        #expect(try MoneyRounding.round([try q("0.025")], toUnitsOf: 100) == [2])
        #expect(try MoneyRounding.round([try q("0.035")], toUnitsOf: 100) == [4])
        #expect(try MoneyRounding.round([], toUnitsOf: 100) == [])
    }

    @Test func everyMemberIsWithinOneUnitOfItsExactAmount() throws {
        var generator = SplitMix64(state: 7)
        for _ in 0..<200 {
            let amounts = try (0..<Int.random(in: 1...30, using: &generator)).map { _ in
                try fraction(Int128(Int64.random(in: -1_000_000...1_000_000, using: &generator)), Int128(Int64.random(in: 1...24, using: &generator)))
            }
            let rounded = try MoneyRounding.round(amounts, toUnitsOf: 100)
            #expect(rounded.reduce(0, +) == (try Rational.sum(amounts).rounded(toUnitsOf: 100)))
            for (exact, units) in zip(amounts, rounded) {
                let difference = try Rational(Int64(units)) - exact.multiplied(by: 100)
                #expect(difference.magnitude < .one)
            }
        }
    }

    @Test func apportioningATotalBelowTheFloorsTakesFromTheSmallestRemainders() throws {
        let amounts = [try q("1.2"), try q("1.7"), try q("1.5")]
        #expect(try MoneyRounding.apportion(amounts, toUnitsOf: 1, total: 2) == [0, 1, 1])
        // Ties go by descending ID: the last member gives first.
        let halves = [try q("1.5"), try q("1.5"), try q("1.5")]
        #expect(try MoneyRounding.apportion(halves, toUnitsOf: 1, total: 2) == [1, 1, 0])
        // Far from the sum, everyone first moves by the same whole number of units.
        #expect(try MoneyRounding.apportion(halves, toUnitsOf: 1, total: 10) == [4, 3, 3])
        #expect(try MoneyRounding.apportion(halves, toUnitsOf: 1, total: -4) == [-1, -1, -2])
        #expect(throws: BillingError.self) { try MoneyRounding.apportion([], toUnitsOf: 1, total: 1) }
    }
}
