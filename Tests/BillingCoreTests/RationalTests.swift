@testable import BillingCore
import Foundation
import Testing

@Suite("Rational: exact fractions that never trap")
struct RationalTests {
    @Test func reducesWithAPositiveDenominator() throws {
        let value = try fraction(68, -100)
        #expect(value.numerator == -17 && value.denominator == 25)
        #expect(try fraction(0, -7) == .zero)
        #expect(try fraction(0, -7).denominator == 1)
        #expect(try fraction(Int128.min, 2).numerator == Int128.min / 2)
        #expect(try fraction(Int128.max, Int128.max) == .one)
    }

    @Test func arithmetic() throws {
        let a = try fraction(1, 6)
        let b = try fraction(1, 10)
        #expect(try a + b == (try fraction(4, 15)))
        #expect(try a - b == (try fraction(1, 15)))
        #expect(try a * b == (try fraction(1, 60)))
        #expect(try a / b == (try fraction(5, 3)))
        #expect(-a == (try fraction(-1, 6)))
        #expect(try a.multiplied(by: 12) == Rational(2))
        #expect(try a.divided(by: -2) == (try fraction(-1, 12)))
        #expect(try (a - a).isZero)
        #expect(try Rational.sum([a, b, -a]) == b)
        #expect(Rational(3).isInteger && !a.isInteger)
        #expect(a.signum == 1 && (-a).signum == -1 && Rational.zero.signum == 0)
        #expect((-a).magnitude == a)
    }

    @Test func divisionByZeroThrows() throws {
        #expect(throws: BillingError.divisionByZero) { try Rational.one / .zero }
        #expect(throws: BillingError.divisionByZero) { try Rational.zero.reciprocal() }
        #expect(throws: BillingError.divisionByZero) { try Rational.one.divided(by: 0) }
        #expect(throws: BillingError.divisionByZero) { try fraction(1, 0) }
    }

    @Test func overflowThrowsInsteadOfTrapping() throws {
        let huge = try fraction(Int128.max, 1)
        #expect(throws: BillingError.arithmeticOverflow) { try huge + .one }
        #expect(throws: BillingError.arithmeticOverflow) { try huge * huge }
        #expect(throws: BillingError.arithmeticOverflow) { try huge.multiplied(by: 2) }
        #expect(throws: BillingError.arithmeticOverflow) { try (-huge) - .one }  // would be Int128.min
        #expect(throws: BillingError.arithmeticOverflow) { try fraction(Int128.min, 1) }
        let tiny = try fraction(1, Int128.max)
        #expect(throws: BillingError.arithmeticOverflow) { try tiny * (try fraction(1, 3)) }
        #expect(throws: BillingError.arithmeticOverflow) { try huge.rounded(toUnitsOf: 100) }
        // Negation and comparison never overflow, even at the extremes.
        #expect(-huge < huge)
        #expect(tiny < (try fraction(1, Int128.max - 1)))
        #expect(try fraction(Int128.max, 3) > (try fraction(Int128.max - 1, 3)))
    }

    @Test func comparisonIsExact() throws {
        #expect(try fraction(1, 3) < (try fraction(34, 100)))
        #expect(try fraction(-1, 3) > (try fraction(-34, 100)))
        #expect(try fraction(2, 4) == (try fraction(1, 2)))
        #expect(Set([try fraction(2, 4), try fraction(1, 2)]).count == 1)
        #expect(max(try fraction(1, 7), try fraction(1, 8)) == (try fraction(1, 7)))
    }

    @Test("prints exact decimals where they exist, else nine digits and an ellipsis", arguments: [
        ("68/100", "0.68"), ("-3", "-3"), ("0", "0"), ("1/8", "0.125"), ("-1/3", "-0.333333333…"),
        ("87/170", "0.511764705…"), ("2/3", "0.666666666…"), ("1/1024", "0.0009765625"), ("7/2", "3.5"),
    ])
    func description(text: String, printed: String) throws {
        #expect(try q(text).description == printed)
    }

    @Test("decimal strings round half to even", arguments: [
        ("0.125", 2, "0.12"), ("0.135", 2, "0.14"), ("-0.125", 2, "-0.12"), ("2/3", 2, "0.67"),
        ("-2/3", 0, "-1"), ("0.5", 0, "0"), ("1.5", 0, "2"), ("9.995", 2, "10.00"), ("-0.001", 2, "0.00"),
        ("87/170", 4, "0.5118"), ("3", 2, "3.00"), ("-0.999", 2, "-1.00"),
    ])
    func decimalString(text: String, places: Int, printed: String) throws {
        #expect(try q(text).decimalString(fractionDigits: places) == printed)
    }

    @Test("parses n, n/d and decimals", arguments: [
        ("0.68", Int128(17), Int128(25)), ("-0.085", -17, 200), ("12", 12, 1), ("-6/4", -3, 2), ("007.50", 15, 2),
    ])
    func parses(text: String, numerator: Int128, denominator: Int128) throws {
        let value = try Rational(text)
        #expect(value.numerator == numerator && value.denominator == denominator)
    }

    @Test("refuses what is not a number", arguments: ["", "-", "1.", ".5", "1/", "/2", "1e3", "1/-2", "+1", " 1", "0x10", "1.2.3"])
    func refuses(text: String) {
        #expect(throws: BillingError.malformedNumber(text)) { try Rational(text) }
    }

    @Test func roundingRules() throws {
        let cases: [(String, RoundingRule, Int128)] = [
            ("0.125", .halfEven, 12), ("0.135", .halfEven, 14), ("-0.125", .halfEven, -12), ("-0.135", .halfEven, -14),
            ("0.125", .halfAwayFromZero, 13), ("-0.125", .halfAwayFromZero, -13), ("0.129", .floor, 12),
            ("-0.121", .floor, -13), ("0.121", .ceiling, 13), ("-0.129", .ceiling, -12), ("-0.129", .towardZero, -12),
            ("0.129", .towardZero, 12), ("0.12", .ceiling, 12),
        ]
        for (text, rule, cents) in cases {
            #expect(try q(text).rounded(toUnitsOf: 100, rule: rule) == cents, "\(text) \(rule)")
        }
        #expect(throws: BillingError.self) { try Rational.one.rounded(toUnitsOf: 0) }
    }

    @Test func flooredUnitsKeepTheRemainder() throws {
        let (units, remainder) = try q("-0.125").flooredUnits(toUnitsOf: 100)
        #expect(units == -13)
        #expect(remainder == (try fraction(1, 2)))
        // A price per Wh (denominator 10^9) in micro-units cancels before multiplying.
        let perWh = try fraction(Int128.max / 1_000_000_000, 1_000_000_000)
        #expect(try perWh.flooredUnits(toUnitsOf: 1_000_000).units == Int128.max / 1_000_000_000 / 1000)
    }

    @Test func gcdAgreesWithEuclid() {
        func euclid(_ a: UInt128, _ b: UInt128) -> UInt128 { b == 0 ? a : euclid(b, a % b) }
        var generator = SplitMix64(state: 42)
        for _ in 0..<2000 {
            let shared = UInt128(generator.next() >> UInt64.random(in: 0...63, using: &generator))
            let a = shared &* (UInt128(generator.next()) | 1)
            let b = shared &* UInt128(generator.next() >> 3)
            #expect(gcd(a, b) == euclid(a, b))
        }
        #expect(gcd(0, 0) == 0 && gcd(0, 5) == 5 && gcd(12, 0) == 12)
    }

    @Test func codableIsLossless() throws {
        let values = [try fraction(87, 170), Rational(-3), try fraction(Int128.max, 7)]
        let data = try JSONEncoder().encode(values)
        // JSON escapes the slash: "87\/170".
        #expect(String(decoding: data, as: UTF8.self).contains("87\\/170"))
        #expect(try JSONDecoder().decode([Rational].self, from: data) == values)
        let bad = Data(#"["1/0"]"#.utf8)
        #expect(throws: BillingError.divisionByZero) { try JSONDecoder().decode([Rational].self, from: bad) }
    }
}
