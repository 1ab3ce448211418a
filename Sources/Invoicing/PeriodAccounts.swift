import BillingCore
import Contracts
import Settlement

/// Every member's exact period sums, before rounding.
///
/// Energies are the sums of the members' lines. Amounts are the sums of the lines' micro-units,
/// except in bill-sharing intervals: those are settled again together, as one bill for the period,
/// by `BillSharing.settle` on the intervals rebuilt from the lines and the records' tariffs.
struct PeriodAccounts {
    /// One member's sums.
    struct Account {
        var importWh: Int128 = 0
        var exportWh: Int128 = 0
        var fromCommunityWh: Int128 = 0
        var toCommunityWh: Int128 = 0
        /// Settled intervals whose latest line of this member is marked estimated.
        var estimated = 0
        /// Micro-units from intervals settled one by one.
        var energyCharge: Int128 = 0
        var energyCredit: Int128 = 0
        var gridFee: Int128 = 0
        var baselineCharge: Int128 = 0
        var baselineCredit: Int128 = 0

        mutating func add(_ line: SettlementLine, amounts: Bool) throws(InvoiceError) {
            importWh = try add(importWh, Int128(line.importWh))
            exportWh = try add(exportWh, Int128(line.exportWh))
            fromCommunityWh = try add(fromCommunityWh, Int128(line.fromCommunityWh))
            toCommunityWh = try add(toCommunityWh, Int128(line.toCommunityWh))
            if line.estimated { estimated += 1 }
            guard amounts else { return }
            energyCharge = try add(energyCharge, Int128(line.energyCharge))
            energyCredit = try add(energyCredit, Int128(line.energyCredit))
            gridFee = try add(gridFee, Int128(line.gridFeeCharge))
            baselineCharge = try add(baselineCharge, Int128(line.baselineCharge))
            baselineCredit = try add(baselineCredit, Int128(line.baselineCredit))
        }

        private func add(_ a: Int128, _ b: Int128) throws(InvoiceError) -> Int128 {
            try Invoicing.add(a, b)
        }
    }

    /// Exact money columns in currency units, one entry per member in `memberIDs` order.
    struct ExactColumns {
        var energyCharge: [Rational] = []
        var energyCredit: [Rational] = []
        var gridFee: [Rational] = []
        var baselineCharge: [Rational] = []
        var baselineCredit: [Rational] = []
    }

    /// Every member with a line in the period, in ascending byte order of the IDs (the order
    /// `MoneyRounding` breaks ties in).
    let memberIDs: [String]
    /// The members' sums, in `memberIDs` order.
    let accounts: [Account]
    /// The members' exact amounts.
    let exact: ExactColumns

    init(_ intervals: [SettledInterval]) throws(InvoiceError) {
        var byMember: [String: Account] = [:]
        var shared: [SettlementInterval] = []
        for interval in intervals {
            if interval.isBillSharing { shared.append(try Self.rebuild(interval)) }
            for line in interval.lines {
                var account = byMember[line.memberID] ?? Account()
                try account.add(line, amounts: !interval.isBillSharing)
                byMember[line.memberID] = account
            }
        }
        let billShared: PeriodSettlement? = shared.isEmpty ? nil : try billing { () throws(BillingError) in
            try BillSharing.settle(shared)
        }

        let ids = byMember.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var accounts: [Account] = []
        var exact = ExactColumns()
        accounts.reserveCapacity(ids.count)
        for id in ids {
            let account = byMember[id] ?? Account()
            accounts.append(account)
            let settled = billShared?.member(id)
            func column(_ micro: Int128, _ period: Rational?) throws(InvoiceError) -> Rational {
                try billing { () throws(BillingError) in
                    try Rational(numerator: micro, denominator: Int128(SettlementRecord.amountScale)) + (period ?? .zero)
                }
            }
            exact.energyCharge.append(try column(account.energyCharge, settled?.energyCharge))
            exact.energyCredit.append(try column(account.energyCredit, settled?.energyCredit))
            exact.gridFee.append(try column(account.gridFee, settled?.gridFeeCharge))
            exact.baselineCharge.append(try column(account.baselineCharge, settled?.baselineCharge))
            exact.baselineCredit.append(try column(account.baselineCredit, settled?.baselineCredit))
        }
        self.memberIDs = ids
        self.accounts = accounts
        self.exact = exact
    }

    /// A bill-sharing interval as `BillSharing` takes it: the members' import and export from the
    /// lines, the tariff from the record's micro-units per kWh.
    static func rebuild(_ interval: SettledInterval) throws(InvoiceError) -> SettlementInterval {
        let header = interval.header
        return try billing { () throws(BillingError) in
            let tariff = try IntervalTariff(
                retail: Price(microUnitsPerKWh: header.retail), feedIn: Price(microUnitsPerKWh: header.feedIn),
                gridFee: Price(microUnitsPerKWh: header.gridFee),
                communityPrice: header.communityPrice < 0 ? nil : Price(microUnitsPerKWh: header.communityPrice))
            return SettlementInterval(
                tariff: tariff,
                members: interval.lines.map { MemberEnergy(memberID: $0.memberID, importWh: $0.importWh, exportWh: $0.exportWh) })
        }
    }
}

/// The period's money columns in minor units, one entry per member, each rounded across all
/// members by `MoneyRounding` (largest remainder): a column's sum is the half-even rounding of
/// its exact total, and every member is within one minor unit of its exact amount.
struct RoundedColumns {
    var energyCharge: [Int64] = []
    var energyCredit: [Int64] = []
    var gridFee: [Int64] = []
    /// The contract's fee, rounded on each invoice (the same for everyone).
    var serviceFee: [Int64] = []
    /// vatRate × (rounded energy charge + grid fee + service fee), rounded on each invoice.
    var vat: [Int64] = []
    var baselineCharge: [Int64] = []
    /// vatRate × rounded baseline charge, rounded on each invoice.
    var baselineVAT: [Int64] = []
    var baselineCredit: [Int64] = []

    init(_ exact: PeriodAccounts.ExactColumns, members: Int, fees: ContractFees, minorUnitDigits: Int) throws(InvoiceError) {
        var unit: Int64 = 1
        for _ in 0..<minorUnitDigits { unit *= 10 }
        let scale = Int128(unit)
        func round(_ amounts: [Rational]) throws(InvoiceError) -> [Int64] {
            let rounded = try billing { () throws(BillingError) in try MoneyRounding.round(amounts, toUnitsOf: scale) }
            var result: [Int64] = []
            result.reserveCapacity(rounded.count)
            for value in rounded { result.append(try narrow(value)) }
            return result
        }
        /// vatRate × `units` minor units, exact, in currency units.
        func tax(_ units: Int128) throws(InvoiceError) -> Rational {
            try billing { () throws(BillingError) in
                try fees.vatRate * Rational(numerator: units, denominator: scale)
            }
        }
        /// Each amount on its own, half away from zero: tax and fees belong to one invoice, not
        /// to a transfer between members, so identical members pay identical VAT.
        func roundEach(_ amounts: [Rational]) throws(InvoiceError) -> [Int64] {
            var result: [Int64] = []
            result.reserveCapacity(amounts.count)
            for amount in amounts {
                let units = try billing { () throws(BillingError) in try amount.rounded(toUnitsOf: scale, rule: .halfAwayFromZero) }
                result.append(try narrow(units))
            }
            return result
        }
        energyCharge = try round(exact.energyCharge)
        energyCredit = try round(exact.energyCredit)
        gridFee = try round(exact.gridFee)
        serviceFee = try roundEach(Array(repeating: fees.servicePerMemberPerPeriod, count: members))
        baselineCharge = try round(exact.baselineCharge)
        baselineCredit = try round(exact.baselineCredit)
        var taxes: [Rational] = []
        var baselineTaxes: [Rational] = []
        for index in 0..<members {
            let base = Int128(energyCharge[index]) + Int128(gridFee[index]) + Int128(serviceFee[index])
            taxes.append(try tax(base))
            baselineTaxes.append(try tax(Int128(baselineCharge[index])))
        }
        vat = try roundEach(taxes)
        baselineVAT = try roundEach(baselineTaxes)
    }
}
