// Integer helpers behind `Rational`: the greatest common divisor, which every reduction pays for,
// and products and sums that report overflow as a `BillingError` instead of trapping.

/// The greatest common divisor of two magnitudes; `gcd(0, x) == x`.
///
/// Settlement reduces millions of fractions, so this is the hot loop. Values here are mostly
/// below 2^64 or become so after one Euclidean step (a price denominator against an energy in
/// Wh), so Euclid runs only while a 128-bit operand remains and Stein's binary algorithm, which
/// needs no division, finishes in 64 bits.
func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
    var a = a
    var b = b
    let wide = UInt128(UInt64.max)
    while b != 0, a > wide || b > wide {
        (a, b) = (b, a % b)
    }
    if b == 0 { return a }
    return UInt128(binaryGCD(UInt64(truncatingIfNeeded: a), UInt64(truncatingIfNeeded: b)))
}

/// Stein's algorithm on 64-bit operands.
func binaryGCD(_ a: UInt64, _ b: UInt64) -> UInt64 {
    if a == 0 { return b }
    if b == 0 { return a }
    var a = a
    var b = b
    let shift = (a | b).trailingZeroBitCount
    a >>= a.trailingZeroBitCount
    repeat {
        b >>= b.trailingZeroBitCount
        if a > b { swap(&a, &b) }
        b -= a
    } while b != 0
    return a << shift
}

/// `a × b`, or `arithmeticOverflow`; `Int128.min` counts as overflow so that every `Rational`
/// numerator can be negated.
@inline(__always)
func checkedProduct(_ a: Int128, _ b: Int128) throws(BillingError) -> Int128 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    guard !overflow, product != .min else { throw .arithmeticOverflow }
    return product
}

/// `a + b`, or `arithmeticOverflow` (again excluding `Int128.min`).
@inline(__always)
func checkedSum(_ a: Int128, _ b: Int128) throws(BillingError) -> Int128 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    guard !overflow, sum != .min else { throw .arithmeticOverflow }
    return sum
}

/// `a − b`, or `arithmeticOverflow` (again excluding `Int128.min`).
@inline(__always)
func checkedDifference(_ a: Int128, _ b: Int128) throws(BillingError) -> Int128 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    guard !overflow, difference != .min else { throw .arithmeticOverflow }
    return difference
}

/// `value` as `Int64`, or `arithmeticOverflow`.
func checkedInt64(_ value: Int128) throws(BillingError) -> Int64 {
    guard let narrow = Int64(exactly: value) else { throw .arithmeticOverflow }
    return narrow
}

/// Whether `a / b < c / d` for non-negative remainders over positive denominators, compared
/// in 256 bits so that no pair of remainders can overflow the comparison.
func remainderIsLess(_ a: Int128, over b: Int128, than c: Int128, over d: Int128) -> Bool {
    if b == d { return a < c }
    let left = a.magnitude.multipliedFullWidth(by: d.magnitude)
    let right = c.magnitude.multipliedFullWidth(by: b.magnitude)
    return left.high < right.high || (left.high == right.high && left.low < right.low)
}
