import BillingCore
import Contracts
import Invoicing
import LedgerCore
import Settlement
import Testing

@Suite("Invoices from settlement records")
struct InvoiceTests {
    /// 2026-11 in Europe/Vienna starts at 2026-10-31T23:00Z.
    let november = utc("2026-10-31T23:00Z")

    /// A, B, C with one grid meter each, as the runner reads the registry.
    func registry() throws -> Registry {
        var registry = Registry()
        try registry.apply(.addGatewayKey(gatewayID: "gw", publicKey: Array(repeating: 1, count: 32), validFromMillis: 0))
        for (id, role) in [("A", MemberRole.prosumer), ("B", .consumer), ("C", .consumer)] {
            try registry.apply(.addMember(Member(id: id, role: role, name: id)))
            try registry.apply(.addMeter(RegisteredMeter(meterID: "g" + id, gatewayID: "gw", memberID: id, role: .grid, tariffGroup: "standard")))
        }
        return registry
    }

    /// The issue's interval (A exports 4 kWh, B and C import 3 kWh each) settled by the real
    /// runner from meter registers, as the first quarter-hour of 2026-11.
    func runnerRecords(_ contract: Contract) throws -> [SettlementRecord] {
        var runner = SettlementRunner()
        let terms = try DeployedContract(contract)
        #expect(runner.refusal(of: terms, blockTimeMillis: november) == nil)
        runner.deploy(terms)
        func sample(_ meter: String, _ millis: Int64, _ importWh: Int64, _ exportWh: Int64) -> MeterSample {
            MeterSample(meterID: meter, counters: CounterSample(millis: millis, importWh: importWh, exportWh: exportWh))
        }
        let registry = try registry()
        var records = runner.apply(
            samples: [sample("gA", november, 100, 5000), sample("gB", november, 7000, 0), sample("gC", november, 200, 0)],
            registry: registry, blockTimeMillis: november)
        let end = november + quarterHour
        records += runner.apply(
            samples: [sample("gA", end, 100, 9000), sample("gB", end, 10_000, 0), sample("gC", end, 3200, 0)],
            registry: registry, blockTimeMillis: end)
        #expect(runner.failures.isEmpty)
        return records
    }

    @Test func theIssueExampleThroughTheRunnerWithVATAndAServiceFee() throws {
        // r = 0.30, e = 0.08, mid-market rate, grid fee 0.02 per community kWh, 2.50 service fee, 20 % VAT.
        let contract = try contract()
        let records = try runnerRecords(contract)
        #expect(records.count == 1)
        // The runner's records are exactly what the fixture computes for the same energies.
        #expect(records == (try settle(contract, at: november, issueMembers)))

        let statement = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: records)
        #expect(statement.memberIDs == ["A", "B", "C"])
        let a = try statement.invoice(for: "A")
        let b = try statement.invoice(for: "B")
        let c = try statement.invoice(for: "C")

        // Energy: S = 4 kWh all shared; B and C receive 2 kWh each from the community, 1 kWh from the grid.
        #expect(b.energy.imported.kWh == "3.000" && b.energy.fromCommunity.wh == 2000 && b.energy.fromGrid.wh == 1000)
        #expect(a.energy.exported.wh == 4000 && a.energy.toCommunity.wh == 4000 && a.energy.toGrid.kWh == "0.000")
        // Mid-market: p_mid = 0.19; buyers pay (0.19·4 + 0.30·2)/6 per kWh = 0.68 for 3 kWh; A gets 0.19·4 = 0.76.
        #expect(b.energyCharge.minorUnits == 68 && c.energyCharge.minorUnits == 68 && a.energyCredit.decimal == "0.76")
        // Grid fee 0.02 · 2 kWh = 0.04 for B and C.
        #expect(b.gridFee.decimal == "0.04" && c.gridFee.decimal == "0.04" && a.gridFee.minorUnits == 0)
        #expect([a, b, c].allSatisfy { $0.serviceFee.decimal == "2.50" && $0.serviceFeePerPeriod == "2.50" && $0.vatRate == "0.2" })
        // VAT exact: A 0.2·2.50 = 0.50; B and C 0.2·(0.68 + 0.04 + 2.50) = 0.644 each, each rounded
        // on its own invoice: 0.64 (identical members pay identical VAT).
        #expect(a.vat.decimal == "0.50" && b.vat.decimal == "0.64" && c.vat.decimal == "0.64")
        // Totals: A 2.50 + 0.50 − 0.76 = 2.24; B and C 0.68 + 0.04 + 2.50 + 0.64 = 3.86.
        #expect(a.total.decimal == "2.24" && b.total.decimal == "3.86" && c.total.decimal == "3.86")
        // Grid-only: B and C 0.90 + 0.18 VAT = 1.08; A −0.32 (feed-in 0.08·4).
        #expect(b.baselineCharge.decimal == "0.90" && b.baselineVAT.decimal == "0.18" && b.baselineTotal.decimal == "1.08")
        #expect(a.baselineCredit.decimal == "0.32" && a.baselineTotal.decimal == "-0.32")
        // The service fee outweighs one quarter-hour's savings: A −0.32 − 2.24, B and C 1.08 − 3.86.
        #expect(a.savings.decimal == "-2.56" && b.savings.decimal == "-2.78" && c.savings.decimal == "-2.78")

        // One interval of 2880 (30 days · 96) settled: provisional.
        #expect(b.intervals.inPeriod == 2880 && b.intervals.settled == 1 && b.intervals.estimated == 0 && b.intervals.unsettled == 2879)
        #expect(b.provisional)
        #expect(b.periodStartMillis == november && b.periodEndMillis == utc("2026-11-30T23:00Z"))
        #expect(b.contractID == "sunny-hill" && b.contractVersion == 1 && b.currency == "EUR" && b.timeZone == "Europe/Vienna")
        #expect(b.contractHash.count == 64)
    }

    @Test func booksBalanceAgainstTheGridBill() throws {
        // No fees: Σ charges + Σ grid fees − Σ credits = r·(D − S) = 0.30 · 2 kWh = 0.60.
        let contract = try contract(gridFee: "0", service: "0", vatPercent: "0")
        let statement = try PeriodStatement(
            periodID: "2026-11", contracts: [contract], settlements: try settle(contract, at: november + 40 * quarterHour, issueMembers))
        let net = statement.invoices.reduce(Int64(0)) { $0 + $1.energyCharge.minorUnits + $1.gridFee.minorUnits - $1.energyCredit.minorUnits }
        #expect(net == 60)
        #expect(statement.invoices.reduce(Int64(0)) { $0 + $1.total.minorUnits } == 60)
        // The community saved (r − e)·min(S, D) = 0.22 · 4 = 0.88 against grid-only.
        #expect(statement.invoices.reduce(Int64(0)) { $0 + $1.savings.minorUnits } == 88)
    }

    @Test func everyRoundedColumnAddsUpToItsRoundedExactTotal() throws {
        // Supply-demand ratio gives fractions like 87/170; a service fee of 1.005 has a third digit.
        let contract = try contract(mechanism: "supply-demand-ratio", gridFee: "0.0315", service: "1.005", vatPercent: "19")
        var records: [SettlementRecord] = []
        for index in 0..<7 {
            let members = [member("A", export: 4000 + Int64(index) * 37), member("B", import: 3000 + Int64(index) * 11),
                           member("C", import: 3001), member("D", import: 17, export: 5)]
            records += try settle(contract, at: november + Int64(index) * quarterHour, members)
        }
        let statement = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: records)
        let invoices = statement.invoices
        #expect(statement.memberIDs == ["A", "B", "C", "D"])

        // Each column from the records: its exact total in micro-units, rounded half to even to cents.
        let columns: [(KeyPath<SettlementLine, Int64>, KeyPath<Invoice, MoneyAmount>)] = [
            (\.energyCharge, \.energyCharge), (\.energyCredit, \.energyCredit), (\.gridFeeCharge, \.gridFee),
            (\.baselineCharge, \.baselineCharge), (\.baselineCredit, \.baselineCredit),
        ]
        for (line, amount) in columns {
            let micro = records.flatMap(\.lines).reduce(Int128(0)) { $0 + Int128($1[keyPath: line]) }
            let expected = try Rational(numerator: micro, denominator: 1_000_000).rounded(toUnitsOf: 100)
            #expect(Int128(invoices.reduce(Int64(0)) { $0 + $1[keyPath: amount].minorUnits }) == expected)
            for invoice in invoices {
                let exact = try Rational(numerator: records.flatMap(\.lines).filter { $0.memberID == invoice.memberID }
                    .reduce(Int128(0)) { $0 + Int128($1[keyPath: line]) }, denominator: 10_000)
                #expect((try (exact - Rational(invoice[keyPath: amount].minorUnits)).magnitude) < Rational.one)
            }
        }
        // Service fee: 100.5 cents, rounded on each invoice half away from zero: 101 for everyone.
        #expect(invoices.map(\.serviceFee.minorUnits) == [101, 101, 101, 101])
        #expect(invoices[0].serviceFeePerPeriod == "1.005")
        // VAT: 19 % of each invoice's rounded taxable amount, rounded on that invoice.
        for invoice in invoices {
            let taxable = invoice.energyCharge.minorUnits + invoice.gridFee.minorUnits + invoice.serviceFee.minorUnits
            let vat = try (Rational("0.19") * Rational(taxable)).rounded(toUnitsOf: 1, rule: .halfAwayFromZero)
            #expect(Int128(invoice.vat.minorUnits) == vat)
        }
        // Every invoice adds up on its own.
        for invoice in invoices {
            let parts = invoice.energyCharge.minorUnits + invoice.gridFee.minorUnits + invoice.serviceFee.minorUnits + invoice.vat.minorUnits
            #expect(invoice.total.minorUnits == parts - invoice.energyCredit.minorUnits)
            #expect(invoice.savings.minorUnits == invoice.baselineTotal.minorUnits - invoice.total.minorUnits)
            #expect(invoice.baselineTotal.minorUnits
                == invoice.baselineCharge.minorUnits + invoice.baselineVAT.minorUnits - invoice.baselineCredit.minorUnits)
            #expect(invoice.energy.fromGrid.wh == invoice.energy.imported.wh - invoice.energy.fromCommunity.wh)
        }
    }

    @Test func theLatestRevisionWinsWithAllItsChunksAndRecordsOutsideThePeriodAreIgnored() throws {
        let contract = try contract(validFrom: "2026-10-01T00:00:00+02:00", gridFee: "0", service: "0", vatPercent: "0")
        let first = november + 4 * quarterHour
        let second = first + quarterHour
        // Revision 0 of the first interval: B's meter was silent and estimated at 1 kWh.
        let estimated = try settle(contract, at: first, [member("A", export: 4000), member("B", import: 1000), member("C", import: 3000)],
                                   estimated: ["B"])
        // Revision 1 with B's real 3 kWh, in two chunks (A and B; C).
        let revised = try settle(contract, at: first, issueMembers, revision: 1, chunkSize: 2)
        #expect(revised.count == 2)
        // The second interval stays estimated for C.
        let still = try settle(contract, at: second, [member("A", export: 1000), member("C", import: 500)], estimated: ["C"])
        // Outside 2026-11 (Vienna): the quarter-hour before it, and the first one of December.
        let before = try settle(contract, at: november - quarterHour, [member("B", import: 9_999_000)])
        let after = try settle(contract, at: utc("2026-11-30T23:00Z"), [member("B", import: 9_999_000)])

        let records = before + estimated + revised + still + after
        for order in [records, records.reversed()] {
            let statement = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: order)
            let b = try statement.invoice(for: "B")
            let c = try statement.invoice(for: "C")
            #expect(b.energy.imported.wh == 3000)
            #expect(b.energyCharge.decimal == "0.68")
            #expect(b.intervals.settled == 2 && b.intervals.estimated == 0)
            #expect(c.intervals.estimated == 1)
            // C: 0.68 in the first interval; in the second 0.5 kWh, all shared at p_mid 0.19: 0.095.
            // The column: B 0.68 + C 0.775 = 1.455 → 1.46 (half to even); floors 0.68 + 0.77, the cent
            // left goes to C's remainder.
            #expect(c.energy.imported.wh == 3500 && c.energy.fromCommunity.wh == 2500)
            #expect(c.energyCharge.decimal == "0.78")
            #expect(statement.invoices.reduce(Int64(0)) { $0 + $1.energyCharge.minorUnits } == 146)
        }
    }

    @Test func billSharingIsOneBillForThePeriodNotASumOfIntervals() throws {
        let contract = try contract(mechanism: "bill-sharing", gridFee: "0", service: "0", vatPercent: "0")
        // Surplus: A exports 5 kWh, B imports 1 → the community earns e·4 kWh = 0.32, paid to A.
        let surplus = [member("A", export: 5000), member("B", import: 1000), member("C")]
        // Deficit: B imports 3 kWh, C 1 → the community pays r·4 kWh = 1.20: B 0.90, C 0.30.
        let deficit = [member("A"), member("B", import: 3000), member("C", import: 1000)]
        let records = try settle(contract, at: november, surplus) + settle(contract, at: november + quarterHour, deficit)
        let perInterval = records.flatMap(\.lines).filter { $0.memberID == "B" }.reduce(Int64(0)) { $0 + $1.energyCharge }
        #expect(perInterval == 900_000)

        let statement = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: records)
        // Over the period: B = 1.20 − 0.32 = 0.88, paid pro rata to import (D = 5 kWh): B 4/5 → 0.704,
        // C 1/5 → 0.176, nobody is paid for export. Rounded as a column: 0.88; floors 0.70 + 0.17;
        // the cent left goes to C's larger remainder (0.6 > 0.4).
        let tariff = try DeployedContract(contract).tariff(forIntervalStartingAt: november)
        let period = try BillSharing.settle([
            SettlementInterval(tariff: tariff, members: surplus), SettlementInterval(tariff: tariff, members: deficit),
        ])
        let expected = try MoneyRounding.round(period.members.map(\.energyCharge), toUnitsOf: 100)
        #expect(statement.invoices.map { Int128($0.energyCharge.minorUnits) } == expected)
        #expect(statement.invoices.map(\.energyCharge.decimal) == ["0.00", "0.70", "0.18"])
        #expect(statement.invoices.map(\.energyCredit.minorUnits) == [0, 0, 0])
        // Grid-only: B 1.20, C 0.30, A 0.40 of credit.
        #expect(statement.invoices.map(\.baselineTotal.decimal) == ["-0.40", "1.20", "0.30"])
        #expect(try statement.invoice(for: "A").energy.toCommunity.wh == 1000)
    }

    @Test func periodBoundsAreInTheContractTimeZoneAndADSTMonthHas2980QuarterHours() throws {
        let contract = try contract(validFrom: "2026-10-01T00:00:00+02:00")
        let lastOfOctober = utc("2026-10-31T22:45Z")
        let records = try settle(contract, at: lastOfOctober, [member("A", import: 1000)])
            + settle(contract, at: november, [member("A", import: 2000)])
        // 2026-10 in Vienna: 31 days, clocks go back on the 25th (one 25-hour day): 31·96 + 4.
        let october = try PeriodStatement(periodID: "2026-10", contracts: [contract], settlements: records).invoice(for: "A")
        #expect(october.intervals.inPeriod == 2980)
        #expect(october.periodStartMillis == utc("2026-09-30T22:00Z") && october.periodEndMillis == november)
        #expect(october.energy.imported.wh == 1000)
        // 2026-10-31T23:00Z is midnight of November 1st in Vienna.
        let novemberInvoice = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: records).invoice(for: "A")
        #expect(novemberInvoice.intervals.inPeriod == 2880)
        #expect(novemberInvoice.energy.imported.wh == 2000)
    }

    @Test func aContractChangeMidPeriodCountsBothAndIssuesUnderTheLaterOne() throws {
        let first = try contract(vatPercent: "20")
        let second = try contract(version: 2, validFrom: "2026-11-16T00:00:00+01:00", vatPercent: "10")
        let middle = utc("2026-11-15T23:00Z")
        let records = try settle(first, at: november, issueMembers) + settle(second, at: middle, issueMembers)
        let statement = try PeriodStatement(periodID: "2026-11", contracts: [first, second], settlements: records)
        let b = try statement.invoice(for: "B")
        #expect(b.contractVersion == 2 && b.vatRate == "0.1")
        #expect(b.energyCharge.decimal == "1.36" && b.intervals.settled == 2 && b.intervals.inPeriod == 2880)
        // Records must have been settled under the contract in force: the first contract's
        // settlement of an interval after the 16th contradicts the chain.
        let wrong = try settle(first, at: middle + quarterHour, issueMembers)
        let message = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [first, second], settlements: records + wrong) }
        #expect(message.contains("was settled under contract sunny-hill v1, but sunny-hill v2 is in force then"))
    }
}
