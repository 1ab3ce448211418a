import Contracts
import Foundation
import Invoicing
import LedgerCore
import LedgerStore
import MeterSimulator
import TraceReplay
import Traces

/// What `gridledger replay` reports at the end: the run, the chain's verification, every
/// member's energy and invoices (per billing period), the community's self-sufficiency, and
/// whether the energy billed equals the trace's register differences to the Wh.
struct ReplaySummary {
    let plan: ReplayPlan
    let outcome: ReplayOutcome
    let verdict: ChainVerdict
    let statements: [PeriodStatement]
    /// The settled span: from the contract's first interval to the last interval end reached.
    let settledFromMillis: Int64
    let settledToMillis: Int64
    /// Per member: grid energy the trace's registers say crossed the connection point over the
    /// settled span, and what the invoices bill.
    let traceCheck: [(memberID: String, traceImportWh: Int64, traceExportWh: Int64, billedImportWh: Int64, billedExportWh: Int64)]

    var isValid: Bool { verdict.isValid && outcome.refusals.isEmpty }

    init(plan: ReplayPlan, outcome: ReplayOutcome, contractDocument: [UInt8]) throws {
        self.plan = plan
        self.outcome = outcome
        verdict = try ChainVerdict.verify(database: outcome.databaseFile, pinnedKey: outcome.aggregatorPublicKey, futureToleranceMillis: 120_000)
        let store = try open(outcome.databaseFile, access: .readOnly)
        let contract = try Contract.parse(contractDocument)
        let calendar = try ContractCalendar(contract: contract)
        settledFromMillis = max(contract.validFromMillis, plan.fromMillis)
        settledToMillis = plan.toMillis / contract.intervalMillis * contract.intervalMillis
        let documents = try store.deployedContractDocuments()
        var statements: [PeriodStatement] = []
        for periodID in Self.periodIDs(from: settledFromMillis, to: max(settledFromMillis, settledToMillis - 1), calendar: calendar) {
            let window = try BillingPeriod.widestBounds(id: periodID)
            let payloads = try store.settlementPayloads(fromMillis: window.lowerBound, toMillis: window.upperBound)
            guard !payloads.isEmpty else { continue }
            statements.append(try PeriodStatement(periodID: periodID, contractDocuments: documents, settlementPayloads: payloads))
        }
        self.statements = statements

        var check: [(String, Int64, Int64, Int64, Int64)] = []
        for household in plan.households {
            var traceImport: Int64 = 0
            var traceExport: Int64 = 0
            for meter in household.meters where meter.role == .grid {
                guard let playback = TracePlayback(samples: meter.samples) else { continue }
                let first = playback.state(atMillis: settledFromMillis)
                let last = playback.state(atMillis: settledToMillis)
                traceImport += last.importWh - first.importWh
                traceExport += last.exportWh - first.exportWh
            }
            let invoices = statements.compactMap { try? $0.invoice(for: household.id) }
            check.append((household.id, traceImport, traceExport, invoices.reduce(0) { $0 + $1.energy.imported.wh }, invoices.reduce(0) { $0 + $1.energy.exported.wh }))
        }
        traceCheck = check
    }

    /// The `YYYY-MM` periods (in the contract's zone) from the one holding `from` to the one
    /// holding `to`.
    static func periodIDs(from: Int64, to: Int64, calendar: ContractCalendar) -> [String] {
        let first = calendar.localDate(atUTCMillis: from)
        let last = calendar.localDate(atUTCMillis: to)
        var ids: [String] = []
        var (year, month) = (first.year, first.month)
        while (year, month) <= (last.year, last.month), ids.count < 1200 {
            ids.append(String(format: "%04d-%02d", year, month))
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
        }
        return ids
    }

    struct MemberEnergy {
        var memberID: String
        var importedWh: Int64 = 0
        var exportedWh: Int64 = 0
        var fromCommunityWh: Int64 = 0
        var toCommunityWh: Int64 = 0
    }

    /// Energy per member over every period of the replay.
    var memberEnergy: [MemberEnergy] {
        plan.households.map { household in
            var energy = MemberEnergy(memberID: household.id)
            for statement in statements {
                guard let invoice = try? statement.invoice(for: household.id) else { continue }
                energy.importedWh += invoice.energy.imported.wh
                energy.exportedWh += invoice.energy.exported.wh
                energy.fromCommunityWh += invoice.energy.fromCommunity.wh
                energy.toCommunityWh += invoice.energy.toCommunity.wh
            }
            return energy
        }
    }

    /// Share of the members' imports that came from the community, and of their exports that
    /// stayed in it (parts per thousand, for exact text).
    var community: (importedWh: Int64, exportedWh: Int64, sharedWh: Int64) {
        let energy = memberEnergy
        return (energy.reduce(0) { $0 + $1.importedWh }, energy.reduce(0) { $0 + $1.exportedWh }, energy.reduce(0) { $0 + $1.fromCommunityWh })
    }

    var traceMatches: Bool {
        traceCheck.allSatisfy { $0.traceImportWh == $0.billedImportWh && $0.traceExportWh == $0.billedExportWh }
    }
}
