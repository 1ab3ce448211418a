/// An exact fraction of two `Int128`s: always reduced, with a positive denominator.
///
/// Community settlement divides by sums of energies (a buyer's share of the supply, a price
/// weighted by the supply-demand ratio), so amounts are fractions such as 87/170 that no binary
/// or decimal type holds exactly. Keeping them as fractions until one balanced rounding step
/// (`MoneyRounding`) is what lets the books balance to the last unit.
///
/// Arithmetic never traps: every operator `throws(BillingError)`, with `.arithmeticOverflow`
/// when a result does not fit and `.divisionByZero` for a zero divisor. The numerator is never
/// `Int128.min`, so negation and `abs` cannot overflow and are not throwing.
///
/// ```swift
/// let midMarket = try (Rational("0.30") + Rational("0.08")).divided(by: 2)   // 19/100
/// let paid = try midMarket.multiplied(by: 4)                                 // 19/25, "0.76"
/// ```
public struct Rational: Sendable, Hashable {
    /// The reduced numerator; its sign is the sign of the value.
    public let numerator: Int128
    /// The reduced denominator, at least 1.
    public let denominator: Int128

    /// Trusts the caller: `numerator` and `denominator` coprime, `denominator > 0`,
    /// `numerator != .min`.
    @inline(__always)
    init(reducedNumerator numerator: Int128, denominator: Int128) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Zero.
    public static let zero = Rational(reducedNumerator: 0, denominator: 1)
    /// One.
    public static let one = Rational(reducedNumerator: 1, denominator: 1)

    /// The integer `integer` as a fraction over 1.
    public init(_ integer: Int64) {
        self.init(reducedNumerator: Int128(integer), denominator: 1)
    }

    /// The fraction `numerator / denominator`, reduced; throws `.divisionByZero` for a zero
    /// denominator and `.arithmeticOverflow` when the reduced numerator would be `Int128.min`.
    public init(numerator: Int128, denominator: Int128) throws(BillingError) {
        guard denominator != 0 else { throw .divisionByZero }
        // Magnitudes, so that Int128.min in either place reduces instead of overflowing.
        var top = numerator.magnitude
        var bottom = denominator.magnitude
        let divisor = gcd(top, bottom)
        top /= divisor
        bottom /= divisor
        guard let unsignedTop = Int128(exactly: top), let unsignedBottom = Int128(exactly: bottom) else {
            throw .arithmeticOverflow
        }
        let negative = (numerator < 0) != (denominator < 0)
        self.init(reducedNumerator: negative ? -unsignedTop : unsignedTop, denominator: unsignedBottom)
    }

    /// Reduces `numerator / denominator` for callers that already know `denominator > 0` and
    /// `numerator != .min`, which is every internal construction.
    static func reducing(_ numerator: Int128, _ denominator: Int128) -> Rational {
        if numerator == 0 { return .zero }
        if denominator == 1 { return Rational(reducedNumerator: numerator, denominator: 1) }
        let divisor = Int128(gcd(numerator.magnitude, denominator.magnitude))
        return Rational(reducedNumerator: numerator / divisor, denominator: denominator / divisor)
    }

    /// Whether the value is zero.
    public var isZero: Bool { numerator == 0 }
    /// Whether the value is a whole number.
    public var isInteger: Bool { denominator == 1 }
    /// −1, 0 or 1, following the sign of the value.
    public var signum: Int { numerator < 0 ? -1 : (numerator == 0 ? 0 : 1) }
    /// The absolute value; cannot overflow because the numerator is never `Int128.min`.
    public var magnitude: Rational { Rational(reducedNumerator: numerator < 0 ? -numerator : numerator, denominator: denominator) }

    /// The value with the opposite sign.
    public static prefix func - (value: Rational) -> Rational {
        Rational(reducedNumerator: -value.numerator, denominator: value.denominator)
    }

    /// `self + other`, exact.
    public func adding(_ other: Rational) throws(BillingError) -> Rational {
        if other.numerator == 0 { return self }
        if numerator == 0 { return other }
        if denominator == other.denominator {
            let sum = try checkedSum(numerator, other.numerator)
            return .reducing(sum, denominator)
        }
        // Knuth, TAOCP 4.5.1: common factors of the sum and the new denominator can only come
        // from gcd(b, d), which keeps every intermediate as small as the result allows.
        let common = Int128(gcd(denominator.magnitude, other.denominator.magnitude))
        let selfPart = try checkedProduct(numerator, other.denominator / common)
        let otherPart = try checkedProduct(other.numerator, denominator / common)
        let sum = try checkedSum(selfPart, otherPart)
        if sum == 0 { return .zero }
        let divisor = Int128(gcd(sum.magnitude, common.magnitude))
        let resultDenominator = try checkedProduct(denominator / common, other.denominator / divisor)
        return Rational(reducedNumerator: sum / divisor, denominator: resultDenominator)
    }

    /// `self − other`, exact.
    public func subtracting(_ other: Rational) throws(BillingError) -> Rational {
        try adding(-other)
    }

    /// `self × other`, exact.
    public func multiplied(by other: Rational) throws(BillingError) -> Rational {
        if numerator == 0 || other.numerator == 0 { return .zero }
        if denominator == 1, other.denominator == 1 {
            return Rational(reducedNumerator: try checkedProduct(numerator, other.numerator), denominator: 1)
        }
        // Cancel crosswise first: the operands are reduced, so this leaves the result reduced.
        let first = Int128(gcd(numerator.magnitude, other.denominator.magnitude))
        let second = Int128(gcd(other.numerator.magnitude, denominator.magnitude))
        let top = try checkedProduct(numerator / first, other.numerator / second)
        let bottom = try checkedProduct(denominator / second, other.denominator / first)
        return Rational(reducedNumerator: top, denominator: bottom)
    }

    /// `self × integer`, exact; cheaper than the general product (one gcd), which matters
    /// because settlement multiplies a price by every member's energy.
    public func multiplied(by integer: Int64) throws(BillingError) -> Rational {
        if numerator == 0 || integer == 0 { return .zero }
        let factor = Int128(integer)
        if denominator == 1 {
            return Rational(reducedNumerator: try checkedProduct(numerator, factor), denominator: 1)
        }
        let divisor = Int128(gcd(factor.magnitude, denominator.magnitude))
        let top = try checkedProduct(numerator, factor / divisor)
        return Rational(reducedNumerator: top, denominator: denominator / divisor)
    }

    /// `1 / self`; throws `.divisionByZero` for zero.
    public func reciprocal() throws(BillingError) -> Rational {
        guard numerator != 0 else { throw .divisionByZero }
        return numerator < 0
            ? Rational(reducedNumerator: -denominator, denominator: -numerator)
            : Rational(reducedNumerator: denominator, denominator: numerator)
    }

    /// `self / other`, exact; throws `.divisionByZero` when `other` is zero.
    public func divided(by other: Rational) throws(BillingError) -> Rational {
        try multiplied(by: other.reciprocal())
    }

    /// `self / integer`, exact; throws `.divisionByZero` when `integer` is zero.
    public func divided(by integer: Int64) throws(BillingError) -> Rational {
        guard integer != 0 else { throw .divisionByZero }
        if numerator == 0 { return .zero }
        let divisor = Int128(integer)
        let common = Int128(gcd(numerator.magnitude, divisor.magnitude))
        var top = numerator / common
        var bottom = try checkedProduct(denominator, divisor / common)
        if bottom < 0 {
            top = -top
            bottom = -bottom
        }
        return Rational(reducedNumerator: top, denominator: bottom)
    }

    /// The sum of `values`, exact.
    public static func sum(_ values: some Sequence<Rational>) throws(BillingError) -> Rational {
        var total = Rational.zero
        for value in values { total = try total.adding(value) }
        return total
    }

    /// Exact sum.
    public static func + (lhs: Rational, rhs: Rational) throws(BillingError) -> Rational { try lhs.adding(rhs) }
    /// Exact difference.
    public static func - (lhs: Rational, rhs: Rational) throws(BillingError) -> Rational { try lhs.subtracting(rhs) }
    /// Exact product.
    public static func * (lhs: Rational, rhs: Rational) throws(BillingError) -> Rational { try lhs.multiplied(by: rhs) }
    /// Exact quotient; throws `.divisionByZero` when `rhs` is zero.
    public static func / (lhs: Rational, rhs: Rational) throws(BillingError) -> Rational { try lhs.divided(by: rhs) }
}

extension Rational: Comparable {
    /// Compares `a/b` with `c/d` as `a·d` with `c·b` in 256 bits, so comparison never overflows.
    public static func < (lhs: Rational, rhs: Rational) -> Bool {
        if lhs.denominator == rhs.denominator { return lhs.numerator < rhs.numerator }
        let left = lhs.numerator.multipliedFullWidth(by: rhs.denominator)
        let right = rhs.numerator.multipliedFullWidth(by: lhs.denominator)
        return left.high < right.high || (left.high == right.high && left.low < right.low)
    }
}
