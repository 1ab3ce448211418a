/// An exact decimal number `mantissa × 10^exponent`.
///
/// Energy counters and every other measured value travel as scaled integers, never as binary
/// floating point, so a counter read as 12 345 678 Wh is stored, signed and billed as exactly
/// that. Equality is numeric: `ScaledValue(25, exponent: -1) == ScaledValue(250, exponent: -2)`.
public struct ScaledValue: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public var mantissa: Int64
    public var exponent: Int8

    public init(_ mantissa: Int64, exponent: Int8 = 0) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// Parses a plain decimal string such as `"-230.5"` or `"12345"` (no exponent notation).
    public init?(decimalString: String) {
        var text = Substring(decimalString)
        var negative = false
        if text.first == "-" || text.first == "+" {
            negative = text.first == "-"
            text = text.dropFirst()
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        let digits = parts[0] + fraction
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.count <= 18,
            var value = Int64(digits)
        else { return nil }
        if negative { value = -value }
        self.init(value, exponent: Int8(-fraction.count))
    }

    /// The same number with trailing zeros moved into the exponent (a canonical form).
    public var normalized: ScaledValue {
        var result = self
        if result.mantissa == 0 { return ScaledValue(0) }
        while result.mantissa % 10 == 0, result.exponent < Int8.max {
            result.mantissa /= 10
            result.exponent += 1
        }
        return result
    }

    /// The value with the opposite sign. `Int64.min` has no positive twin; it is the one case
    /// that moves to the next exponent (rounded half to even), which no meter register reaches.
    public var negated: ScaledValue {
        if mantissa != .min { return ScaledValue(-mantissa, exponent: exponent) }
        let coarser = rounded(toExponent: exponent &+ 1) ?? ScaledValue(0)
        return ScaledValue(-coarser.mantissa, exponent: coarser.exponent)
    }

    /// Re-expresses the value with `exponent`, exactly; nil when that would lose digits or overflow.
    public func exactly(atExponent target: Int8) -> ScaledValue? {
        if target == exponent { return self }
        if target < exponent {
            guard let factor = Self.powerOfTen(Int(exponent) - Int(target)) else { return nil }
            let (product, overflow) = mantissa.multipliedReportingOverflow(by: factor)
            return overflow ? nil : ScaledValue(product, exponent: target)
        }
        guard let factor = Self.powerOfTen(Int(target) - Int(exponent)), mantissa % factor == 0 else { return nil }
        return ScaledValue(mantissa / factor, exponent: target)
    }

    /// The value at a coarser `exponent`, rounded half to even; finer exponents are exact.
    public func rounded(toExponent target: Int8) -> ScaledValue? {
        if target <= exponent { return exactly(atExponent: target) }
        guard let factor = Self.powerOfTen(Int(target) - Int(exponent)) else { return ScaledValue(0, exponent: target) }
        var quotient = mantissa / factor
        let remainder = mantissa % factor
        let twice = remainder.magnitude * 2
        if twice > factor.magnitude || (twice == factor.magnitude && quotient % 2 != 0) {
            quotient += mantissa < 0 ? -1 : 1
        }
        return ScaledValue(quotient, exponent: target)
    }

    /// The exact decimal text, e.g. `"230.5"`, `"-0.75"`, `"12345000"`.
    public var description: String {
        let n = normalized
        let magnitude = String(n.mantissa.magnitude)
        let sign = n.mantissa < 0 ? "-" : ""
        if n.exponent >= 0 {
            return sign + magnitude + String(repeating: "0", count: Int(n.exponent))
        }
        let fractionDigits = Int(-n.exponent)
        let padded = String(repeating: "0", count: max(0, fractionDigits - magnitude.count + 1)) + magnitude
        let split = padded.index(padded.endIndex, offsetBy: -fractionDigits)
        return sign + padded[..<split] + "." + padded[split...]
    }

    public static func == (lhs: ScaledValue, rhs: ScaledValue) -> Bool {
        let l = lhs.normalized, r = rhs.normalized
        return l.mantissa == r.mantissa && l.exponent == r.exponent
    }

    public func hash(into hasher: inout Hasher) {
        let n = normalized
        hasher.combine(n.mantissa)
        hasher.combine(n.exponent)
    }

    public static func < (lhs: ScaledValue, rhs: ScaledValue) -> Bool {
        let common = min(lhs.exponent, rhs.exponent)
        if let l = lhs.exactly(atExponent: common), let r = rhs.exactly(atExponent: common) {
            return l.mantissa < r.mantissa
        }
        return lhs.approximateDouble < rhs.approximateDouble
    }

    /// For display and statistics only; never for energy or money arithmetic.
    public var approximateDouble: Double {
        Double(mantissa) * Self.doublePowerOfTen(Int(exponent))
    }

    /// 10^n as a Double, for converting between floating-point device registers and exact values.
    public static func doublePowerOfTen(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n.magnitude { result *= 10 }
        return n < 0 ? 1 / result : result
    }

    static func powerOfTen(_ n: Int) -> Int64? {
        guard n >= 0, n <= 18 else { return nil }
        var result: Int64 = 1
        for _ in 0..<n { result *= 10 }
        return result
    }

}
