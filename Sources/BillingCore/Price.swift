/// A price per kWh in currency units: non-negative, at most 100, exact to a millionth.
///
/// Tariffs are published as decimals ("0.30", "0.085"); a price is kept as whole micro-units
/// per kWh so that it converts to an exact `Rational` per Wh without any binary rounding.
/// Negative prices are refused: the mechanisms here (mid-market rate, supply-demand ratio, bill
/// sharing) are defined for retail ≥ feed-in ≥ 0, and a negative price would invert who pays.
///
/// ```swift
/// let retail = try Price("0.30")
/// retail.microUnitsPerKWh   // 300_000
/// retail.perWh              // 3/10000
/// ```
public struct Price: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The price in millionths of a currency unit per kWh.
    public let microUnitsPerKWh: Int64

    /// Micro-units per currency unit: prices carry at most six fractional digits.
    public static let microUnitsPerUnit: Int64 = 1_000_000
    /// The accepted range of `microUnitsPerKWh`: 0 to 100 currency units per kWh.
    public static let bounds: ClosedRange<Int64> = 0...100_000_000
    /// A price of zero.
    public static let zero = Price(validated: 0)

    private init(validated microUnitsPerKWh: Int64) {
        self.microUnitsPerKWh = microUnitsPerKWh
    }

    /// A price from its micro-units per kWh; throws `.invalidPrice` outside `Price.bounds`.
    public init(microUnitsPerKWh: Int64) throws(BillingError) {
        guard microUnitsPerKWh >= 0 else {
            throw .invalidPrice(String(microUnitsPerKWh) + " µ/kWh", reason: Self.negativeReason)
        }
        guard microUnitsPerKWh <= Self.bounds.upperBound else {
            throw .invalidPrice(String(microUnitsPerKWh) + " µ/kWh", reason: Self.tooLargeReason)
        }
        self.init(validated: microUnitsPerKWh)
    }

    /// Parses a plain decimal price per kWh such as `"0.30"`, `"0.085"` or `"12"`.
    ///
    /// Throws `.invalidPrice` with the reason for a negative sign, more than six fractional
    /// digits, a value above 100, or anything that is not digits with at most one point.
    public init(_ text: String) throws(BillingError) {
        switch DecimalText.parse(text, fractionDigits: 6) {
        case .success(let decimal):
            guard decimal.scaled <= Self.bounds.upperBound else { throw .invalidPrice(text, reason: Self.tooLargeReason) }
            self.init(validated: decimal.scaled)
        case .failure(.negative):
            throw .invalidPrice(text, reason: Self.negativeReason)
        case .failure(.malformed):
            throw .invalidPrice(text, reason: "expected a plain decimal such as \"0.30\" (digits, at most one point, no sign or exponent)")
        case .failure(.tooManyFractionDigits):
            let digits = text.split(separator: ".", maxSplits: 1).last?.count ?? 0
            throw .invalidPrice(text, reason: "\(digits) fractional digits; prices are kept in micro-units per kWh, so at most 6")
        case .failure(.tooLarge):
            throw .invalidPrice(text, reason: Self.tooLargeReason)
        }
    }

    private static let negativeReason =
        "prices must not be negative: the community mechanisms are defined for retail ≥ feed-in ≥ 0"
    private static let tooLargeReason = "above 100 currency units per kWh, the bound the exact arithmetic is sized for"

    /// The exact price per kWh.
    public var perKWh: Rational { .reducing(Int128(microUnitsPerKWh), Int128(Self.microUnitsPerUnit)) }
    /// The exact price per Wh, the unit every energy in `BillingCore` is counted in.
    public var perWh: Rational { .reducing(Int128(microUnitsPerKWh), Int128(Self.microUnitsPerUnit) * 1000) }

    /// The decimal price per kWh without trailing zeros, e.g. `"0.3"`, `"0.085"`, `"12"`.
    public var description: String { perKWh.description }

    /// Orders by value.
    public static func < (lhs: Price, rhs: Price) -> Bool { lhs.microUnitsPerKWh < rhs.microUnitsPerKWh }
}

extension Price: Codable {
    /// Decodes the decimal text form, validated like `init(_:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(container.decode(String.self))
    }

    /// Encodes the decimal text form, e.g. `"0.085"`, as a tariff sheet would print it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
