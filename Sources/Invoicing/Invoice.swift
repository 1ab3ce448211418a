/// What one member receives for one billing period: energies, amounts in the currency's minor
/// unit, fees, VAT, the total due and the comparison with buying and selling at grid prices alone.
///
/// Every amount is a whole number of minor units (`MoneyAmount.minorUnits`, e.g. cents) with its
/// decimal text; nothing is a floating-point number. An invoice adds up on its own:
///
///     total = energyCharge + gridFee + serviceFee + vat − energyCredit
///     baselineTotal = baselineCharge + baselineVAT − baselineCredit
///     savings = baselineTotal − total        (negative when grid-only would have been cheaper)
///
/// How the amounts are derived and rounded is in docs/INVOICES.md and `PeriodStatement`.
///
/// ```swift
/// let statement = try PeriodStatement(periodID: "2026-11", contracts: contracts, settlements: records)
/// let invoice = try statement.invoice(for: "alice")
/// invoice.total.decimal   // "3.87"
/// print(invoice.csv())
/// ```
public struct Invoice: Sendable, Hashable, Codable {
    /// The member billed.
    public let memberID: String
    /// The billing period, `YYYY-MM`.
    public let periodID: String
    /// The period's first instant, UTC ms (local midnight of the 1st in `timeZone`).
    public let periodStartMillis: Int64
    /// The first instant after the period, UTC ms.
    public let periodEndMillis: Int64
    /// The time zone of the period bounds: the issuing contract's.
    public let timeZone: String
    /// The contract the invoice is issued under: the one in force at the period's end.
    public let contractID: String
    /// Its version.
    public let contractVersion: Int
    /// SHA-256 of its document, lower-case hex.
    public let contractHash: String
    /// ISO 4217 code of every amount.
    public let currency: String
    /// Digits after the point of the minor unit (2: amounts are in cents).
    public let minorUnitDigits: Int
    /// Some intervals of the period are not settled yet: amounts will change.
    public let provisional: Bool
    /// How much of the period the invoice covers.
    public let intervals: IntervalCounts
    /// The member's energy over the period.
    public let energy: InvoiceEnergy
    /// Paid for imported energy, community and grid parts together.
    public let energyCharge: MoneyAmount
    /// Received for exported energy (a credit: subtracted from the total).
    public let energyCredit: MoneyAmount
    /// The network fee on community energy received.
    public let gridFee: MoneyAmount
    /// The contract's service fee for the period.
    public let serviceFee: MoneyAmount
    /// The contract's service fee per member and period, exact decimal in currency units.
    public let serviceFeePerPeriod: String
    /// The VAT rate as an exact decimal fraction, e.g. `"0.2"` for 20 %.
    public let vatRate: String
    /// VAT on energy charge + grid fee + service fee (credits carry none).
    public let vat: MoneyAmount
    /// What the member owes: energy charge + grid fee + service fee + VAT − energy credit;
    /// negative when the member is paid.
    public let total: MoneyAmount
    /// Grid-only comparison: retail price × import.
    public let baselineCharge: MoneyAmount
    /// VAT on `baselineCharge` at the same rate.
    public let baselineVAT: MoneyAmount
    /// Grid-only comparison: feed-in price × export.
    public let baselineCredit: MoneyAmount
    /// What grid-only would have cost: baseline charge + its VAT − baseline credit (no service fee).
    public let baselineTotal: MoneyAmount
    /// `baselineTotal − total`: what the community saved the member; negative when it cost more.
    public let savings: MoneyAmount
}

/// How many settlement intervals an invoice covers.
public struct IntervalCounts: Sendable, Hashable, Codable {
    /// Intervals of the period while a contract was in force: 2880 quarter-hours in a 30-day
    /// month, 92 or 100 instead of 96 on the days clocks change.
    public let inPeriod: Int
    /// Intervals with a settlement in the chain.
    public let settled: Int
    /// Settled intervals in which this member's latest line is marked estimated.
    public let estimated: Int
    /// `inPeriod − settled`: not settled yet.
    public let unsettled: Int
}

/// A member's energy over the period, from its settlement lines.
public struct InvoiceEnergy: Sendable, Hashable, Codable {
    /// Drawn from the network (import register).
    public let imported: EnergyAmount
    /// Fed into the network (export register).
    public let exported: EnergyAmount
    /// The part of the import that was community energy.
    public let fromCommunity: EnergyAmount
    /// The part of the export that went to other members.
    public let toCommunity: EnergyAmount
    /// The part of the import bought from the grid: imported − fromCommunity.
    public let fromGrid: EnergyAmount
    /// The part of the export sold to the grid: exported − toCommunity.
    public let toGrid: EnergyAmount
}

/// An amount of money: whole minor units and the same value as decimal text.
public struct MoneyAmount: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The amount in minor units (cents for EUR).
    public let minorUnits: Int64
    /// The amount in currency units, e.g. `"12.34"`, `"-0.05"`, `"7"` with no minor unit.
    public let decimal: String

    /// `minorUnits` of 10^-`minorUnitDigits` currency units.
    public init(minorUnits: Int64, minorUnitDigits: Int) {
        self.minorUnits = minorUnits
        self.decimal = scaledText(minorUnits, fractionDigits: minorUnitDigits)
    }

    /// The decimal text.
    public var description: String { decimal }

    /// Decodes both fields and refuses a decimal text that is not the same value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        minorUnits = try container.decode(Int64.self, forKey: .minorUnits)
        decimal = try container.decode(String.self, forKey: .decimal)
        guard scaledValue(decimal) == minorUnits else {
            throw DecodingError.dataCorruptedError(
                forKey: .decimal, in: container, debugDescription: "\"\(decimal)\" is not \(minorUnits) minor units")
        }
    }
}

/// An energy: whole Wh and the same value in kWh with three fractional digits.
public struct EnergyAmount: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The energy in Wh.
    public let wh: Int64
    /// The energy in kWh, e.g. `"3.000"`.
    public let kWh: String

    /// `wh` Wh.
    public init(wh: Int64) {
        self.wh = wh
        self.kWh = scaledText(wh, fractionDigits: 3)
    }

    /// The kWh text.
    public var description: String { kWh }

    /// Decodes both fields and refuses a kWh text that is not the same value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        wh = try container.decode(Int64.self, forKey: .wh)
        kWh = try container.decode(String.self, forKey: .kWh)
        guard scaledValue(kWh) == wh, kWh.split(separator: ".").last?.count == 3 else {
            throw DecodingError.dataCorruptedError(forKey: .kWh, in: container, debugDescription: "\"\(kWh)\" is not \(wh) Wh")
        }
    }
}

/// `value` × 10^-`fractionDigits` as a plain decimal: `scaledText(-5, fractionDigits: 2)` is `"-0.05"`.
func scaledText(_ value: Int64, fractionDigits: Int) -> String {
    let magnitude = value.magnitude
    var unit: UInt64 = 1
    for _ in 0..<max(0, fractionDigits) { unit *= 10 }
    let sign = value < 0 ? "-" : ""
    guard fractionDigits > 0 else { return sign + String(magnitude) }
    let fraction = String(magnitude % unit)
    return sign + String(magnitude / unit) + "." + String(repeating: "0", count: fractionDigits - fraction.count) + fraction
}

/// The integer a `scaledText` stands for (the digits without the point), or `nil` if it is not
/// of that form.
func scaledValue(_ text: String) -> Int64? {
    var body = Substring(text)
    let negative = body.first == "-"
    if negative { body = body.dropFirst() }
    let parts = body.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
          let magnitude = Int64(parts.joined())
    else { return nil }
    return negative ? -magnitude : magnitude
}
