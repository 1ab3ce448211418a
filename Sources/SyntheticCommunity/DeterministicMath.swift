/// The few elementary functions the solar model needs, written out with basic IEEE 754
/// arithmetic only (+, −, ×, ÷, square root, exact scaling by powers of two), so that a seed gives
/// byte-identical traces on every platform: the C library's `sin`, `exp` and `pow` differ in their
/// last bits between systems. Accuracy is a few units in the last place for the arguments used
/// here (angles of a few radians, exponents of a few units), far below what the model needs.
///
/// Range reduction follows the usual textbook scheme (Cody & Waite, "Software Manual for the
/// Elementary Functions", 1980) with the split constants of fdlibm; the kernels are Taylor series
/// cut where the next term is below 10⁻¹⁸ on the reduced interval.
enum DMath {
    static let pi = 3.141592653589793
    // π/2 split in a 33-bit head and its tail (fdlibm's pio2_1, pio2_1t), so k·head is exact.
    private static let halfPiHead = 1.57079632673412561417e+00
    private static let halfPiTail = 6.07710050650619224932e-11
    // ln 2 split likewise (fdlibm's ln2_hi, ln2_lo).
    private static let ln2Head = 6.93147180369123816490e-01
    private static let ln2Tail = 1.90821492927058770002e-10

    static func radians(_ degrees: Double) -> Double { degrees * (pi / 180) }

    static func sin(_ x: Double) -> Double { sinCos(x).sin }

    static func cos(_ x: Double) -> Double { sinCos(x).cos }

    /// Sine and cosine for |x| ≤ 10⁶ (the model stays below 100).
    static func sinCos(_ x: Double) -> (sin: Double, cos: Double) {
        precondition(x.isFinite && abs(x) <= 1e6, "sinCos(\(x)): argument out of the supported range")
        let k = (x / (pi / 2)).rounded(.toNearestOrEven)
        let r = (x - k * halfPiHead) - k * halfPiTail
        let s = sinKernel(r)
        let c = cosKernel(r)
        switch Int(k) & 3 {
        case 0: return (s, c)
        case 1: return (c, -s)
        case 2: return (-s, -c)
        default: return (-c, s)
        }
    }

    /// sin r for |r| ≤ π/4: r − r³/3! + … − r¹⁹/19!.
    private static func sinKernel(_ r: Double) -> Double {
        let r2 = r * r
        var term = r
        var sum = r
        var n = 1.0
        for _ in 0..<9 {
            term *= -r2 / ((n + 1) * (n + 2))
            n += 2
            sum += term
        }
        return sum
    }

    /// cos r for |r| ≤ π/4: 1 − r²/2! + … + r²⁰/20!.
    private static func cosKernel(_ r: Double) -> Double {
        let r2 = r * r
        var term = 1.0
        var sum = 1.0
        var n = 0.0
        for _ in 0..<10 {
            term *= -r2 / ((n + 1) * (n + 2))
            n += 2
            sum += term
        }
        return sum
    }

    /// e^x for −700 ≤ x ≤ 700 (0 below, +∞ above).
    static func exp(_ x: Double) -> Double {
        if x < -700 { return 0 }
        if x > 700 { return .infinity }
        let k = (x / (ln2Head + ln2Tail)).rounded(.toNearestOrEven)
        let r = (x - k * ln2Head) - k * ln2Tail  // |r| ≤ 0.35
        var term = 1.0
        var sum = 1.0
        for n in 1...16 {
            term *= r / Double(n)
            sum += term
        }
        return Double(sign: .plus, exponent: Int(k), significand: sum)
    }

    /// Natural logarithm of a positive finite x.
    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log(\(x)): argument must be positive and finite")
        var exponent = Double(x.exponent)
        var m = x.significand  // [1, 2)
        if m > 1.4142135623730951 {
            m /= 2  // exact
            exponent += 1
        }
        // ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172.
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var power = s
        var sum = s
        var n = 1.0
        for _ in 0..<12 {
            power *= s2
            n += 2
            sum += power / n
        }
        return exponent * ln2Head + (exponent * ln2Tail + 2 * sum)
    }

    /// x^y for x > 0.
    static func pow(_ x: Double, _ y: Double) -> Double {
        exp(y * log(x))
    }
}
