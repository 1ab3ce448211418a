import Foundation

extension Invoice {
    /// The invoice as JSON: every field, keys sorted, pretty-printed; `JSONDecoder` reads it back
    /// into an equal `Invoice`. Amounts appear as `{"decimal": "3.87", "minorUnits": 387}`,
    /// energies as `{"kWh": "3.000", "wh": 3000}`.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            // Unreachable: an invoice holds only strings, integers and booleans.
            preconditionFailure("an invoice failed to encode: \(error)")
        }
    }

    /// The CSV header line's fields.
    public static let csvHeader = ["item", "quantity", "unit", "unit price", "amount", "currency"]

    /// The invoice as CSV (RFC 4180: CRLF line ends, fields quoted only when they hold a comma,
    /// quote or line break): the header `item,quantity,unit,unit price,amount,currency`, then one
    /// line per item.
    ///
    /// - Energy lines (`energy from community`, `energy from grid`, `energy to community`,
    ///   `energy to grid`): quantity in kWh, no amount (the energy charge and credit price them).
    /// - Lines that make up the total, each amount signed as it counts: `energy charge`
    ///   (quantity: kWh imported), `energy credit` (kWh exported, amount negative),
    ///   `community grid fee` (kWh from the community), `service fee` (1 period at the contract's
    ///   fee), `VAT` (quantity: the taxable amount, unit price: the rate as a fraction, e.g. 0.2).
    ///   Their amounts add up to `total`.
    /// - `total`; then, for comparison only, `grid-only baseline` and `savings` (baseline − total).
    ///   Negative savings are written as such, and the item says so:
    ///   `savings (negative: grid-only would have cost less)`.
    public func csv() -> String {
        let digits = minorUnitDigits
        func money(_ units: Int64) -> String { scaledText(units, fractionDigits: digits) }
        let taxable = energyCharge.minorUnits + gridFee.minorUnits + serviceFee.minorUnits
        let savingsItem = savings.minorUnits < 0 ? "savings (negative: grid-only would have cost less)" : "savings"
        var rows: [[String]] = [Self.csvHeader]
        rows.append(["energy from community", energy.fromCommunity.kWh, "kWh", "", "", ""])
        rows.append(["energy from grid", energy.fromGrid.kWh, "kWh", "", "", ""])
        rows.append(["energy to community", energy.toCommunity.kWh, "kWh", "", "", ""])
        rows.append(["energy to grid", energy.toGrid.kWh, "kWh", "", "", ""])
        rows.append(["energy charge", energy.imported.kWh, "kWh", "", energyCharge.decimal, currency])
        rows.append(["energy credit", energy.exported.kWh, "kWh", "", money(-energyCredit.minorUnits), currency])
        rows.append(["community grid fee", energy.fromCommunity.kWh, "kWh", "", gridFee.decimal, currency])
        rows.append(["service fee", "1", "period", serviceFeePerPeriod, serviceFee.decimal, currency])
        rows.append(["VAT", money(taxable), currency, vatRate, vat.decimal, currency])
        rows.append(["total", "", "", "", total.decimal, currency])
        rows.append(["grid-only baseline", "", "", "", baselineTotal.decimal, currency])
        rows.append([savingsItem, "", "", "", savings.decimal, currency])
        return rows.map { $0.map(csvField).joined(separator: ",") + "\r\n" }.joined()
    }
}

/// One CSV field, quoted per RFC 4180 when it holds a comma, a double quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
    return "\"" + text.replacing("\"", with: "\"\"") + "\""
}
