/// A non-negative plain decimal as tariffs and contracts write it (`"0.30"`, `"20"`, `"2.5"`),
/// kept as an integer count of 10^-`fractionDigits` units so that nothing passes through binary
/// floating point. `Price` and the contract documents parse their decimals with it.
public struct DecimalText: Sendable, Hashable {
    /// The value in units of 10^-`fractionDigits`.
    public let scaled: Int64
    public let fractionDigits: Int

    /// More whole digits than this (after leading zeros) are refused as too large.
    public static let maximumWholeDigits = 12

    /// Parses `text`, or returns why not: a sign, anything but digits with at most one point,
    /// or more than `fractionDigits` digits after the point.
    public static func parse(_ text: String, fractionDigits: Int) -> Result<DecimalText, Reason> {
        if text.hasPrefix("-") { return .failure(.negative) }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        func isDigits(_ part: Substring) -> Bool {
            part.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        guard !whole.isEmpty, isDigits(whole), isDigits(fraction), parts.count == 1 || !fraction.isEmpty else {
            return .failure(.malformed)
        }
        guard fraction.utf8.count <= fractionDigits else { return .failure(.tooManyFractionDigits) }
        let significant = whole.drop { $0 == "0" }
        guard significant.utf8.count <= maximumWholeDigits else { return .failure(.tooLarge) }
        var scaled = Int64(significant.isEmpty ? "0" : significant) ?? 0
        for _ in 0..<fractionDigits { scaled *= 10 }
        if !fraction.isEmpty {
            var digits = Int64(fraction) ?? 0
            for _ in fraction.utf8.count..<fractionDigits { digits *= 10 }
            scaled += digits
        }
        return .success(DecimalText(scaled: scaled, fractionDigits: fractionDigits))
    }

    public enum Reason: Error, Sendable {
        case negative, malformed, tooManyFractionDigits, tooLarge
    }

    /// 10^`fractionDigits`.
    public var unit: Int64 {
        var unit: Int64 = 1
        for _ in 0..<fractionDigits { unit *= 10 }
        return unit
    }
}

