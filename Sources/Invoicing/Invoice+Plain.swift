extension Invoice {
    /// The invoice for people reading a terminal: the same items as ``csv()``, aligned.
    public func text() -> String {
        var lines: [String] = []
        lines.append("Invoice for \(memberID), billing period \(periodID) (\(timeZone))")
        lines.append("Contract \(contractID) version \(contractVersion), sha256 \(contractHash)")
        var coverage = "Intervals: \(intervals.settled) of \(intervals.inPeriod) settled"
        if intervals.estimated > 0 { coverage += ", \(intervals.estimated) with estimated readings (corrected when the data arrives)" }
        lines.append(coverage)
        if provisional { lines.append("PROVISIONAL: \(intervals.unsettled) intervals are not settled yet; amounts will change") }
        lines.append("")
        let energyRows: [(String, String)] = [
            ("Energy from the community", energy.fromCommunity.kWh), ("Energy from the grid", energy.fromGrid.kWh),
            ("Energy to the community", energy.toCommunity.kWh), ("Energy to the grid", energy.toGrid.kWh),
        ]
        for (label, kWh) in energyRows { lines.append(Self.row(label, "\(kWh) kWh")) }
        lines.append("")
        let taxable = MoneyAmount(minorUnits: energyCharge.minorUnits + gridFee.minorUnits + serviceFee.minorUnits, minorUnitDigits: minorUnitDigits)
        let moneyRows: [(String, String)] = [
            ("Energy charge (\(energy.imported.kWh) kWh imported)", energyCharge.decimal),
            ("Energy credit (\(energy.exported.kWh) kWh exported)", MoneyAmount(minorUnits: -energyCredit.minorUnits, minorUnitDigits: minorUnitDigits).decimal),
            ("Community grid fee", gridFee.decimal),
            ("Service fee", serviceFee.decimal),
            ("VAT (rate \(vatRate)) on \(taxable.decimal)", vat.decimal),
            ("Total", total.decimal),
        ]
        for (label, amount) in moneyRows { lines.append(Self.row(label, "\(amount) \(currency)")) }
        lines.append("")
        lines.append(Self.row("The same energy on grid prices alone", "\(baselineTotal.decimal) \(currency)"))
        if savings.minorUnits >= 0 {
            lines.append(Self.row("You saved", "\(savings.decimal) \(currency)"))
        } else {
            let more = MoneyAmount(minorUnits: -savings.minorUnits, minorUnitDigits: minorUnitDigits)
            lines.append(Self.row("The community cost you more than grid prices by", "\(more.decimal) \(currency)"))
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ label: String, _ value: String) -> String {
        let padding = max(1, 56 - label.count - value.count)
        return "  " + label + String(repeating: " ", count: padding) + value
    }
}
