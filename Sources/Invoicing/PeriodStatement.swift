public import Contracts
public import Settlement
import BillingCore

/// The invoices of every member of a community for one billing period, derived only from what the
/// chain records: the deployed contracts and the settlement records.
///
/// The rules (docs/INVOICES.md):
///
/// 1. **Contract.** The invoice is issued under the contract in force at the period's last
///    instant (latest `validFrom` before the period's end; of equal ones, the one deployed last),
///    the period taken in that contract's time zone. Its currency, minor unit, service fee and
///    VAT rate apply. Intervals of the period settled under other deployed contracts count too,
///    if they are in the same currency (otherwise `.mixedCurrencies`).
/// 2. **Records.** Every record must name a deployed contract. Records of intervals starting
///    outside `[start, end)` of the period are ignored. Of each interval only the highest revision
///    counts, with the lines of all its chunks; a member's interval is estimated when its line in
///    that revision is.
/// 3. **Energy** is the sum of the members' lines, in Wh.
/// 4. **Amounts** are the sums of the lines' micro-units, except under bill sharing: those
///    intervals are settled again together with `BillSharing.settle`, one bill for the period.
/// 5. **Fees.** Every member of the statement pays the service fee.
///    VAT = vatRate × (energy charge + grid fee + service fee); credits carry no VAT.
/// 6. **Rounding.** Each money column is rounded to the minor unit across all members with
///    `MoneyRounding` (largest remainder), VAT from the rounded net amounts; totals are sums of
///    rounded lines, so every invoice adds up to the minor unit and so do the columns.
///
/// ```swift
/// let statement = try PeriodStatement(periodID: "2026-11", contracts: deployed, settlements: records)
/// for memberID in statement.memberIDs {
///     let invoice = try statement.invoice(for: memberID)
///     print(invoice.csv())
/// }
/// ```
public struct PeriodStatement: Sendable {
    /// The billing period, `YYYY-MM`.
    public let periodID: String
    /// One invoice per member with a settlement line in the period, in ascending byte order of
    /// the member IDs.
    public let invoices: [Invoice]
    private let positions: [String: Int]

    /// The members of the statement, in ascending byte order of their IDs.
    public var memberIDs: [String] { invoices.map(\.memberID) }

    /// Builds every member's invoice for `periodID` (`YYYY-MM`).
    ///
    /// - Parameters:
    ///   - contracts: the deployed contracts, parsed, in chain order.
    ///   - settlements: the settlement records, decoded, in chain order: all revisions and chunks;
    ///     intervals outside the period are ignored.
    public init(periodID: String, contracts: [Contract], settlements: [SettlementRecord]) throws(InvoiceError) {
        let timeline = try ContractTimeline(contracts)
        let (issuer, period) = try timeline.issuing(periodID: periodID)
        let contract = issuer.contract
        let intervals = try LatestSettlements.select(settlements, period: period, timeline: timeline, currency: contract.currency)
        guard !intervals.isEmpty else { throw .noSettlement(periodID: periodID) }
        let inPeriod = timeline.intervalCount(from: period.startMillis, to: period.endMillis)
        let accounts = try PeriodAccounts(intervals)
        let columns = try RoundedColumns(
            accounts.exact, members: accounts.memberIDs.count, fees: contract.fees, minorUnitDigits: contract.minorUnitDigits)

        let digits = contract.minorUnitDigits
        func money(_ units: Int128) throws(InvoiceError) -> MoneyAmount {
            MoneyAmount(minorUnits: try narrow(units), minorUnitDigits: digits)
        }
        func energy(_ wh: Int128) throws(InvoiceError) -> EnergyAmount {
            EnergyAmount(wh: try narrow(wh))
        }
        var invoices: [Invoice] = []
        invoices.reserveCapacity(accounts.memberIDs.count)
        for (index, memberID) in accounts.memberIDs.enumerated() {
            let account = accounts.accounts[index]
            let charge = Int128(columns.energyCharge[index])
            let credit = Int128(columns.energyCredit[index])
            let gridFee = Int128(columns.gridFee[index])
            let service = Int128(columns.serviceFee[index])
            let vat = Int128(columns.vat[index])
            let baselineCharge = Int128(columns.baselineCharge[index])
            let baselineVAT = Int128(columns.baselineVAT[index])
            let baselineCredit = Int128(columns.baselineCredit[index])
            // Sums of at most five Int64 values: they cannot overflow Int128.
            let total = charge + gridFee + service + vat - credit
            let baselineTotal = baselineCharge + baselineVAT - baselineCredit
            invoices.append(Invoice(
                memberID: memberID, periodID: period.id, periodStartMillis: period.startMillis, periodEndMillis: period.endMillis,
                timeZone: contract.timeZone, contractID: contract.id, contractVersion: contract.version,
                contractHash: hexText(contract.hash), currency: contract.currency, minorUnitDigits: digits,
                provisional: intervals.count < inPeriod,
                intervals: IntervalCounts(
                    inPeriod: inPeriod, settled: intervals.count, estimated: account.estimated,
                    unsettled: max(0, inPeriod - intervals.count)),
                energy: InvoiceEnergy(
                    imported: try energy(account.importWh), exported: try energy(account.exportWh),
                    fromCommunity: try energy(account.fromCommunityWh), toCommunity: try energy(account.toCommunityWh),
                    fromGrid: try energy(account.importWh - account.fromCommunityWh),
                    toGrid: try energy(account.exportWh - account.toCommunityWh)),
                energyCharge: try money(charge), energyCredit: try money(credit), gridFee: try money(gridFee),
                serviceFee: try money(service), serviceFeePerPeriod: exactText(contract.fees.servicePerMemberPerPeriod, digits),
                vatRate: contract.fees.vatRate.description, vat: try money(vat), total: try money(total),
                baselineCharge: try money(baselineCharge), baselineVAT: try money(baselineVAT),
                baselineCredit: try money(baselineCredit), baselineTotal: try money(baselineTotal),
                savings: try money(baselineTotal - total)))
        }
        self.periodID = period.id
        self.invoices = invoices
        self.positions = Dictionary(uniqueKeysWithValues: accounts.memberIDs.enumerated().map { ($0.element, $0.offset) })
    }

    /// The invoice of `memberID` (exactly this ID, byte for byte); throws `.unknownMember` when
    /// the member has no settlement line in the period.
    public func invoice(for memberID: String) throws(InvoiceError) -> Invoice {
        guard let position = positions[memberID], invoices[position].memberID.utf8.elementsEqual(memberID.utf8) else {
            throw .unknownMember(memberID, periodID: periodID)
        }
        return invoices[position]
    }
}

/// An exact amount in currency units as a decimal with at least `digits` fractional digits
/// (`"2.50"`), more when it has them (`"2.505"`).
func exactText(_ amount: Rational, _ digits: Int) -> String {
    let text = amount.description
    let fraction = text.split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0
    return fraction >= digits ? text : amount.decimalString(fractionDigits: digits)
}
