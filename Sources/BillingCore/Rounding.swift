/// How a value between two whole units becomes one of them.
///
/// Billing uses `.halfEven` throughout (banker's rounding: exact halves go to the even unit,
/// so a long column of halves does not drift upwards); the others exist for callers that must
/// follow a contract's wording.
public enum RoundingRule: String, Sendable, Hashable, Codable, CaseIterable {
    /// To the nearest unit; an exact half goes to the even unit.
    case halfEven
    /// To the nearest unit; an exact half goes away from zero.
    case halfAwayFromZero
    /// Down, towards negative infinity.
    case floor
    /// Up, towards positive infinity.
    case ceiling
    /// Towards zero.
    case towardZero
}

extension Rational {
    /// `self × scale` split as `units + remainder / divisor`, with `0 ≤ remainder < divisor`.
    ///
    /// Cancelling `scale` against the denominator first keeps the product as small as possible,
    /// so e.g. micro-units of a price per Wh (denominator 10^9) never overflow.
    func scaledFloor(_ scale: Int128) throws(BillingError) -> (units: Int128, remainder: Int128, divisor: Int128) {
        guard scale >= 1 else { throw .outOfBounds("rounding scale \(scale)", limit: "at least 1 unit per whole") }
        let common = Int128(gcd(scale.magnitude, denominator.magnitude))
        let scaled = try checkedProduct(numerator, scale / common)
        let divisor = denominator / common
        var units = scaled / divisor
        var remainder = scaled % divisor
        if remainder < 0 {
            // Cannot overflow: |units| ≤ |scaled| < Int128.max, and remainder > -divisor.
            units -= 1
            remainder += divisor
        }
        return (units, remainder, divisor)
    }

    /// The largest whole number of `1/scale` units not above the value, and the fraction of a
    /// unit left over (in `0 ..< 1`).
    ///
    /// This is the first step of the largest-remainder method (`MoneyRounding`).
    public func flooredUnits(toUnitsOf scale: Int128) throws(BillingError) -> (units: Int128, remainder: Rational) {
        let (units, remainder, divisor) = try scaledFloor(scale)
        return (units, .reducing(remainder, divisor))
    }

    /// The value as a whole number of `1/scale` units (e.g. `scale` 100 for cents), rounded by
    /// `rule`.
    ///
    /// ```swift
    /// try Rational("0.125").rounded(toUnitsOf: 100)   // 12 (half to even)
    /// try Rational("0.135").rounded(toUnitsOf: 100)   // 14
    /// ```
    public func rounded(toUnitsOf scale: Int128, rule: RoundingRule = .halfEven) throws(BillingError) -> Int128 {
        let (units, remainder, divisor) = try scaledFloor(scale)
        // When divisor is 1 the remainder is 0 and nothing is added; otherwise |units| ≤
        // Int128.max / 2, so adding one cannot overflow.
        guard remainder != 0 else { return units }
        let aboveHalf = remainder > divisor - remainder
        let exactlyHalf = remainder == divisor - remainder
        switch rule {
        case .floor:
            return units
        case .ceiling:
            return units + 1
        case .towardZero:
            return units < 0 ? units + 1 : units
        case .halfEven:
            if aboveHalf || (exactlyHalf && units & 1 != 0) { return units + 1 }
            return units
        case .halfAwayFromZero:
            if aboveHalf || (exactlyHalf && units >= 0) { return units + 1 }
            return units
        }
    }
}
