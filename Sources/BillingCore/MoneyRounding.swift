/// Rounding a column of exact amounts to whole units so that the column still adds up.
///
/// The one rule every rounding in `BillingCore` follows (money to cents or micro-units, and
/// energy to whole Wh), the largest-remainder method:
///
/// 1. The amounts a_i are taken in ascending byte order of the member IDs.
/// 2. The column total is T = round_half_even(Σ a_i) in units of 1/scale.
/// 3. Each member first gets ⌊a_i⌋ units.
/// 4. The T − Σ⌊a_i⌋ units left over go one each to the members with the largest fractional
///    remainders; equal remainders go to the lower member ID first. (Were the count negative,
///    one unit would be taken from each of the smallest remainders, higher member ID first; with
///    step 2 it never is, but the step keeps `apportion` total for any requested total.)
///
/// So Σ rounded = T exactly, and every member is within one unit of its exact amount: a
/// statement adds up to the cent, and no member carries another's rounding.
///
/// ```swift
/// let third = try Rational(numerator: 1, denominator: 3)
/// try MoneyRounding.round([third, third, third], toUnitsOf: 100)   // [34, 33, 33]
/// ```
public enum MoneyRounding {
    /// Rounds `amounts` (already in ascending member-ID order) to whole `1/scale` units by the
    /// largest-remainder method; the result adds up to the half-even rounding of their sum.
    public static func round(_ amounts: [Rational], toUnitsOf scale: Int128) throws(BillingError) -> [Int128] {
        let total = try Rational.sum(amounts).rounded(toUnitsOf: scale, rule: .halfEven)
        return try apportion(amounts, toUnitsOf: scale, total: total)
    }

    /// Rounds amounts keyed by member ID; the same as `round(_:toUnitsOf:)` over the IDs in
    /// ascending byte order.
    public static func round(_ amounts: [String: Rational], toUnitsOf scale: Int128) throws(BillingError) -> [String: Int128] {
        let ids = amounts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let rounded = try round(ids.map { amounts[$0] ?? .zero }, toUnitsOf: scale)
        return Dictionary(uniqueKeysWithValues: zip(ids, rounded))
    }

    /// Distributes exactly `total` units over `amounts` by steps 3 and 4 of the rule.
    ///
    /// Callers that know the exact column total pass its rounding here and skip the sum: the
    /// community's shared energy is min(S, D) Wh without adding up every member's share. When
    /// `total` is far from the sum (more than one unit per member), every member first gets
    /// the same whole number of units, so the result is still the closest fair split.
    static func apportion(_ amounts: [Rational], toUnitsOf scale: Int128, total: Int128) throws(BillingError) -> [Int128] {
        guard !amounts.isEmpty else {
            if total == 0 { return [] }
            throw .outOfBounds("\(total) units to distribute among no members", limit: "0")
        }
        var units: [Int128] = []
        var remainders: [Int128] = []
        var divisors: [Int128] = []
        units.reserveCapacity(amounts.count)
        remainders.reserveCapacity(amounts.count)
        divisors.reserveCapacity(amounts.count)
        var floorSum: Int128 = 0
        for amount in amounts {
            let (floor, remainder, divisor) = try amount.scaledFloor(scale)
            units.append(floor)
            remainders.append(remainder)
            divisors.append(divisor)
            floorSum = try checkedSum(floorSum, floor)
        }
        var left = try checkedDifference(total, floorSum)
        if left == 0 { return units }

        let count = Int128(amounts.count)
        let everyone = left / count
        if everyone != 0 {
            for index in units.indices { units[index] = try checkedSum(units[index], everyone) }
            left -= everyone * count
        }
        if left == 0 { return units }

        // Largest remainders first (smallest first when taking units away), ties by position.
        var order = (0..<amounts.count).map { index in
            RemainderRank(remainder: remainders[index], divisor: divisors[index], index: index)
        }
        if left > 0 {
            order.sort { $0.isLarger(than: $1) }
            for entry in order.prefix(Int(left)) { units[entry.index] = try checkedSum(units[entry.index], 1) }
        } else {
            order.sort { $1.isLarger(than: $0) }
            for entry in order.prefix(Int(-left)) { units[entry.index] = try checkedDifference(units[entry.index], 1) }
        }
        return units
    }
}

/// A member's fractional remainder, ranked for the largest-remainder method.
///
/// Sorting compares remainders O(n log n) times; a 64-bit fixed-point key, computed once
/// per member, decides almost every comparison, and only equal keys fall back to the exact
/// 256-bit comparison.
private struct RemainderRank {
    /// ⌊remainder / divisor · 2^64⌋.
    let key: UInt64
    let remainder: Int128
    let divisor: Int128
    let index: Int

    init(remainder: Int128, divisor: Int128, index: Int) {
        let top = remainder.magnitude
        // remainder < divisor, so the quotient of remainder·2^64 by divisor fits 64 bits.
        let (quotient, _) = divisor.magnitude.dividingFullWidth((high: top >> 64, low: top << 64))
        self.key = UInt64(truncatingIfNeeded: quotient)
        self.remainder = remainder
        self.divisor = divisor
        self.index = index
    }

    /// Whether this member comes before `other` when handing out units: a larger remainder, or
    /// an equal one at a lower position. The reverse order (`other.isLarger(than: self)`) is the
    /// order for taking units away: smaller remainder first, equal ones at a higher position first.
    func isLarger(than other: RemainderRank) -> Bool {
        if key != other.key { return key > other.key }
        if remainderIsLess(other.remainder, over: other.divisor, than: remainder, over: divisor) { return true }
        if remainderIsLess(remainder, over: divisor, than: other.remainder, over: other.divisor) { return false }
        return index < other.index
    }
}

