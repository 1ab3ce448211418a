import ArgumentParser
import Contracts
import Foundation
import Invoicing
import LedgerCore
import LedgerStore
import Settlement

/// `gridledger invoice`: one member's bill for one billing period, from the chain.
struct InvoiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoice",
        abstract: "Print a member's invoice for a billing period, derived from the chain's settlements.",
        discussion: """
            The invoice is computed from what the chain records, nothing else: the deployed
            contracts and the settlement events (the latest revision of every interval). Energy
            by source, the energy charge and credit, the community grid fee, the service fee, VAT,
            the total, and what the same energy would have cost on grid prices alone ("you saved").
            Rules (rounding to the minor unit, VAT, bill sharing): docs/INVOICES.md.

            An invoice of a period with intervals not yet settled is marked provisional.
            `gridledger verify` checks that the settlements themselves re-derive from the readings.

            Examples:
              gridledger invoice --db ledger.db --member alice --period 2026-11
              gridledger invoice --export chain.glchain --member alice --period 2026-11 --format csv > alice-2026-11.csv
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, csv
    }

    @Option(help: ArgumentHelp("The aggregator's database (read-only).", valueName: "FILE")) var db: String?
    @Option(help: ArgumentHelp("A chain export made by `gridledger export`.", valueName: "FILE")) var export: String?
    @Option(help: "The member id.") var member: String
    @Option(help: "The billing period, YYYY-MM (in the contract's time zone).") var period: String
    @Option(help: "text, json or csv.") var format: Format = .text

    func validate() throws {
        guard (db == nil) != (export == nil) else { throw ValidationError("give exactly one of --db or --export") }
        do { _ = try BillingPeriod.widestBounds(id: period) } catch { throw ValidationError("--period: \(error.reason)") }
    }

    func run() throws {
        let window = try BillingPeriod.widestBounds(id: period)
        var documents: [[UInt8]] = []
        var payloads: [[UInt8]] = []
        do {
            if let db {
                let store = try open(db, access: .readOnly)
                documents = try store.deployedContractDocuments()
                payloads = try store.settlementPayloads(fromMillis: window.lowerBound, toMillis: window.upperBound)
            } else if let export {
                guard let data = FileManager.default.contents(atPath: export) else { throw OperatorFailure("cannot read \(export)") }
                var reader = try ChainExport.Reader(Array(data))
                while let block = try reader.next() {
                    for bytes in block.events {
                        switch try LedgerEvent(decoding: bytes) {
                        case .contractDeployed(let document): documents.append(document)
                        case .settlement(let payload):
                            // Undecodable payloads are kept: the statement reports them.
                            let start = try? SettlementRecord(decoding: payload).intervalStartMillis
                            if start.map(window.contains) ?? true { payloads.append(payload) }
                        default: break
                        }
                    }
                }
            }
        } catch let error as OperatorFailure {
            throw error
        } catch {
            throw OperatorFailure("\(error)")
        }
        let invoice: Invoice
        do {
            invoice = try PeriodStatement(periodID: period, contractDocuments: documents, settlementPayloads: payloads).invoice(for: member)
        } catch {
            throw OperatorFailure("\(error)")
        }
        switch format {
        case .json: print(invoice.json())
        case .csv: print(invoice.csv(), terminator: "")
        case .text: print(invoice.text())
        }
    }
}
