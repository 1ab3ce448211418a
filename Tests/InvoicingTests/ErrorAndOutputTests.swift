import BillingCore
import Contracts
import Foundation
import Settlement
import Testing

@testable import Invoicing

@Suite("Invoice errors")
struct InvoiceErrorTests {
    let november = utc("2026-10-31T23:00Z")

    @Test func aMalformedPeriodIDPassesTheCalendarsReasonThrough() throws {
        let contract = try contract()
        let records = try settle(contract, at: november, issueMembers)
        let month = invoiceError { _ = try PeriodStatement(periodID: "2026-13", contracts: [contract], settlements: records) }
        #expect(month.contains("malformed billing period id '2026-13'") && month.contains("month 13 is not 01…12"))
        let shape = invoiceError { _ = try PeriodStatement(periodID: "2026/11", contracts: [], settlements: []) }
        #expect(shape.contains("expected YYYY-MM, e.g. 2026-11"))
    }

    @Test func noContractInForceAndNoSettlementAreSaidSo() throws {
        let december = try contract(validFrom: "2026-12-01T00:00:00+01:00")
        let none = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [december], settlements: []) }
        #expect(none.contains("no deployed contract is in force during billing period 2026-11"))
        let contract = try contract()
        let empty = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: []) }
        #expect(empty.contains("no settlement record has an interval in billing period 2026-11"))
        // Records of other periods only: still nothing to invoice.
        let later = try settle(contract, at: utc("2026-12-02T10:00Z"), issueMembers)
        let other = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: later) }
        #expect(other.contains("no settlement record"))
    }

    @Test func anUnknownMemberIsNamed() throws {
        let contract = try contract()
        let statement = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: try settle(contract, at: november, issueMembers))
        let message = invoiceError { _ = try statement.invoice(for: "Z") }
        #expect(message.contains("unknown member 'Z': no settlement line for it in billing period 2026-11"))
    }

    @Test func aRecordOfAnUndeployedContractIsRefused() throws {
        let deployed = try contract()
        let undeployed = try contract(id: "elsewhere", validFrom: "2026-10-01T00:00:00+02:00")
        let records = try settle(deployed, at: november, issueMembers) + settle(undeployed, at: november - 96 * quarterHour, issueMembers)
        let message = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [deployed], settlements: records) }
        #expect(message.contains("names unknown contract hash \(hexText(undeployed.hash))"))
        #expect(message.contains("interval starting 2026-10-30T23:00:00Z"))
    }

    @Test func currenciesMustNotMix() throws {
        let euro = try contract()
        let franc = try contract(id: "sunny-hill-ch", validFrom: "2026-11-16T00:00:00+01:00", currency: "CHF")
        let records = try settle(euro, at: november, issueMembers) + settle(franc, at: utc("2026-11-15T23:00Z"), issueMembers)
        let message = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [euro, franc], settlements: records) }
        #expect(message.contains("mixed currencies: the invoice is in CHF, but intervals of the period were settled under contract sunny-hill v1 in EUR"))
    }

    @Test func theChainsRawBytesGiveTheSameStatementAndBadBytesAreRefused() throws {
        let contract = try contract()
        let records = try settle(contract, at: november, issueMembers)
        let payloads = try records.map { try $0.encoded() }
        let fromBytes = try PeriodStatement(periodID: "2026-11", contractDocuments: [contract.sourceBytes], settlementPayloads: payloads)
        let fromValues = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: records)
        #expect(fromBytes.invoices == fromValues.invoices)
        let payload = invoiceError {
            _ = try PeriodStatement(periodID: "2026-11", contractDocuments: [contract.sourceBytes], settlementPayloads: payloads + [[1, 2, 3]])
        }
        #expect(payload.contains("settlement payload #2 does not decode"))
        let document = invoiceError {
            _ = try PeriodStatement(periodID: "2026-11", contractDocuments: [Array("id: x".utf8)], settlementPayloads: payloads)
        }
        #expect(document.contains("deployed contract #1 cannot be used"))
    }

    @Test func aMissingChunkIsAnInconsistency() throws {
        let contract = try contract()
        let chunks = try settle(contract, at: november, issueMembers, chunkSize: 2)
        let message = invoiceError { _ = try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: [chunks[1]]) }
        #expect(message.contains("inconsistent settlement records") && message.contains("expected each of 0..<2 once"))
    }
}

@Suite("Invoice output")
struct InvoiceOutputTests {
    func exampleInvoice(_ memberID: String) throws -> Invoice {
        let contract = try contract()
        let records = try settle(contract, at: utc("2026-11-03T12:00Z"), issueMembers)
        return try PeriodStatement(periodID: "2026-11", contracts: [contract], settlements: records).invoice(for: memberID)
    }

    /// Splits RFC 4180 CSV (no quoted line breaks here) into rows of fields.
    func parseCSV(_ text: String) -> [[String]] {
        text.split(separator: "\r\n", omittingEmptySubsequences: true).map { line in
            var fields: [String] = []
            var field = ""
            var quoted = false
            var characters = Array(line)[...]
            while let character = characters.popFirst() {
                if quoted {
                    if character == "\"" {
                        if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                    } else {
                        field.append(character)
                    }
                } else if character == "\"" {
                    quoted = true
                } else if character == "," {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(character)
                }
            }
            fields.append(field)
            return fields
        }
    }

    @Test func theCSVLinesAddUpToTheTotalLine() throws {
        let invoice = try exampleInvoice("B")
        let csv = invoice.csv()
        #expect(csv.hasSuffix("\r\n"))
        let rows = parseCSV(csv)
        #expect(rows.first == ["item", "quantity", "unit", "unit price", "amount", "currency"])
        #expect(rows.allSatisfy { $0.count == 6 })
        #expect(rows.map(\.[0]).dropFirst(1).prefix(4) == ["energy from community", "energy from grid", "energy to community", "energy to grid"])
        let byItem = Dictionary(rows.map { ($0[0], $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byItem["energy from community"] == ["energy from community", "2.000", "kWh", "", "", ""])
        #expect(byItem["VAT"] == ["VAT", "3.22", "EUR", "0.2", "0.64", "EUR"])
        #expect(byItem["service fee"] == ["service fee", "1", "period", "2.50", "2.50", "EUR"])
        let total = try #require(byItem["total"])
        #expect(total[4] == invoice.total.decimal && total[4] == "3.86" && total[5] == "EUR")
        // The amounts of the lines between the energies and the total add up to the total.
        let parts = ["energy charge", "energy credit", "community grid fee", "service fee", "VAT"]
        let sum = parts.compactMap { byItem[$0].flatMap { scaledValue($0[4]) } }.reduce(0, +)
        #expect(sum == invoice.total.minorUnits)
        // Negative savings are said, not hidden.
        let savings = try #require(rows.last)
        #expect(savings[0] == "savings (negative: grid-only would have cost less)" && savings[4] == "-2.78")
    }

    @Test func aProducersCreditIsNegativeInTheCSV() throws {
        let rows = parseCSV(try exampleInvoice("A").csv())
        #expect(rows.first { $0[0] == "energy credit" } == ["energy credit", "4.000", "kWh", "", "-0.76", "EUR"])
    }

    @Test func theTextSaysProvisionalAndNegativeSavings() throws {
        let text = try exampleInvoice("B").text()
        #expect(text.contains("PROVISIONAL: 2879 intervals are not settled yet"))
        #expect(text.contains("3.86 EUR"))
        #expect(text.contains("The community cost you more than grid prices by") && text.contains("2.78 EUR"))
    }

    @Test func fieldsAreQuotedOnlyWhenNeeded() {
        #expect(csvField("energy charge") == "energy charge")
        #expect(csvField("a,b") == "\"a,b\"")
        #expect(csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(csvField("two\nlines") == "\"two\nlines\"")
    }

    @Test func theJSONDecodesToAnEqualInvoiceWithSortedKeys() throws {
        let invoice = try exampleInvoice("A")
        let json = invoice.json()
        let decoded = try JSONDecoder().decode(Invoice.self, from: Data(json.utf8))
        #expect(decoded == invoice)
        #expect(json.contains("\"total\" : {\n    \"decimal\" : \"2.24\",\n    \"minorUnits\" : 224\n  }"))
        let keys = ["\"baselineCharge\"", "\"contractHash\"", "\"energy\"", "\"memberID\"", "\"provisional\"", "\"vatRate\""]
        let positions = keys.compactMap { json.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count && positions == positions.sorted())
        #expect(!json.contains("e+") && !json.contains(".0000000"))
    }

    @Test func decodingRefusesAmountsWhoseTextDisagrees() throws {
        let bad = #"{"decimal": "1.23", "minorUnits": 124}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(MoneyAmount.self, from: Data(bad.utf8)) }
        let good = #"{"decimal": "-0.05", "minorUnits": -5}"#
        #expect(try JSONDecoder().decode(MoneyAmount.self, from: Data(good.utf8)) == MoneyAmount(minorUnits: -5, minorUnitDigits: 2))
        #expect(EnergyAmount(wh: 1500).kWh == "1.500" && EnergyAmount(wh: 7).kWh == "0.007")
        #expect(MoneyAmount(minorUnits: 7, minorUnitDigits: 0).decimal == "7")
    }
}
