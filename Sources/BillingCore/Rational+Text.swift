// Rationals as text: printing for people (exact decimals where they exist), parsing for tests
// and configuration, and a lossless Codable form.

extension Rational: CustomStringConvertible {
    /// The value as a decimal: exact when the denominator divides a power of ten (`"0.68"`,
    /// `"-3"`), otherwise nine fractional digits, truncated, then `"…"` (`"0.511764705…"`).
    ///
    /// For a rounded figure use `decimalString(fractionDigits:)`; for a lossless form,
    /// `fractionString`.
    public var description: String {
        let bottom = denominator.magnitude
        var remainder = numerator.magnitude % bottom
        var text = (numerator < 0 ? "-" : "") + String(numerator.magnitude / bottom)
        guard remainder != 0 else { return text }
        text += "."
        let terminates = Self.dividesPowerOfTen(bottom)
        var written = 0
        while remainder != 0 {
            if !terminates, written == 9 { return text + "…" }
            let digit: UInt8
            (digit, remainder) = Self.nextDigit(after: remainder, over: bottom)
            text.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + digit))
            written += 1
        }
        return text
    }

    /// The value as a decimal with exactly `fractionDigits` fractional digits, rounded half to
    /// even; never throws, however large the value (long division in 256 bits).
    ///
    /// ```swift
    /// try Rational(numerator: 87, denominator: 170).decimalString(fractionDigits: 2)   // "0.51"
    /// Rational(-1).decimalString(fractionDigits: 2)                                 // "-1.00"
    /// ```
    public func decimalString(fractionDigits: Int) -> String {
        let places = max(0, fractionDigits)
        let bottom = denominator.magnitude
        var integerPart = numerator.magnitude / bottom
        var remainder = numerator.magnitude % bottom
        var digits: [UInt8] = []
        digits.reserveCapacity(places)
        for _ in 0..<places {
            let digit: UInt8
            (digit, remainder) = Self.nextDigit(after: remainder, over: bottom)
            digits.append(digit)
        }
        let rest = bottom - remainder
        let lastIsOdd = digits.last.map { $0 & 1 == 1 } ?? (integerPart & 1 == 1)
        if remainder != 0, remainder > rest || (remainder == rest && lastIsOdd) {
            var index = digits.count - 1
            while index >= 0, digits[index] == 9 {
                digits[index] = 0
                index -= 1
            }
            // integerPart ≤ Int128.max, so one more fits in UInt128.
            if index >= 0 { digits[index] += 1 } else { integerPart += 1 }
        }
        let isZero = integerPart == 0 && digits.allSatisfy { $0 == 0 }
        var text = (numerator < 0 && !isZero ? "-" : "") + String(integerPart)
        if places > 0 {
            text += "."
            for digit in digits { text.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + digit)) }
        }
        return text
    }

    /// The lossless form `"n/d"`, or `"n"` for a whole number; `Rational(_:)` reads it back.
    public var fractionString: String {
        denominator == 1 ? String(numerator) : "\(numerator)/\(denominator)"
    }

    /// Parses `"n"`, `"n/d"` or a plain decimal such as `"-0.085"` (no exponent, no `+`, no
    /// spaces) into the exact value.
    public init(_ text: String) throws(BillingError) {
        var body = Substring(text)
        let negative = body.first == "-"
        if negative { body = body.dropFirst() }
        func isDigits(_ part: Substring) -> Bool {
            !part.isEmpty && part.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
        func integer(_ part: Substring) throws(BillingError) -> Int128 {
            guard let value = Int128(part) else { throw .arithmeticOverflow }
            return value
        }
        if let slash = body.firstIndex(of: "/") {
            let top = body[..<slash]
            let bottom = body[body.index(after: slash)...]
            guard isDigits(top), isDigits(bottom) else { throw .malformedNumber(text) }
            let numerator = try integer(top)
            try self.init(numerator: negative ? -numerator : numerator, denominator: integer(bottom))
        } else if let dot = body.firstIndex(of: ".") {
            let whole = body[..<dot]
            let fraction = body[body.index(after: dot)...]
            guard isDigits(whole), isDigits(fraction) else { throw .malformedNumber(text) }
            guard fraction.count <= 38 else { throw .arithmeticOverflow }
            var power: Int128 = 1
            for _ in 0..<fraction.count { power *= 10 }
            let magnitude = try checkedSum(checkedProduct(integer(whole), power), integer(fraction))
            try self.init(numerator: negative ? -magnitude : magnitude, denominator: power)
        } else {
            guard isDigits(body) else { throw .malformedNumber(text) }
            let magnitude = try integer(body)
            self.init(reducedNumerator: negative ? -magnitude : magnitude, denominator: 1)
        }
    }

    /// One digit of long division: `remainder × 10 ÷ divisor`, in 256 bits because the
    /// remainder may be close to 2^127.
    static func nextDigit(after remainder: UInt128, over divisor: UInt128) -> (digit: UInt8, remainder: UInt128) {
        let product = remainder.multipliedFullWidth(by: 10)
        let (quotient, next) = divisor.dividingFullWidth(product)
        return (UInt8(truncatingIfNeeded: quotient), next)
    }

    /// Whether `value` has no prime factors but 2 and 5, i.e. its reciprocal is a finite decimal.
    static func dividesPowerOfTen(_ value: UInt128) -> Bool {
        var rest = value >> value.trailingZeroBitCount
        while rest % 5 == 0 { rest /= 5 }
        return rest == 1
    }
}

extension Rational: Codable {
    /// Decodes the lossless `fractionString` form; JSON numbers cannot carry 128-bit integers.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(container.decode(String.self))
    }

    /// Encodes `fractionString`, e.g. `"87/170"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fractionString)
    }
}
