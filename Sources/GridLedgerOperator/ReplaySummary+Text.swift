import Foundation
import Invoicing
import LedgerCore
import TraceReplay
import Traces

/// Lines `gridledger replay` prints while it runs.
enum ReplayText {
    static func header(plan: ReplayPlan, profile: String, pace: ReplayOptions.Pace) -> String {
        let paceText = switch pace {
        case .asFastAsPossible: "as fast as possible"
        case .speed(let factor): "at \(factor)x"
        }
        return "replay: \(plan.households.count) households, \(plan.meterCount) meters (\(profile)), "
            + "\(TraceTime.text(millis: plan.fromMillis)) … \(TraceTime.text(millis: plan.toMillis)), "
            + "\(plan.stepCount) steps of \(duration(plan.stepMillis)), \(paceText)"
    }

    static func progressLine(_ progress: ReplayProgress, plan: ReplayPlan) -> String {
        let percent = plan.stepCount > 0 ? progress.step * 100 / plan.stepCount : 100
        return "  \(TraceTime.text(millis: progress.simulatedMillis))  \(String(format: "%3d", percent)) %  "
            + "records \(progress.recordsCommitted) (\(Int(progress.recordsPerSecond.rounded()))/s)  "
            + "blocks \(progress.blocks)  refused \(progress.refused)"
    }

    static func duration(_ millis: Int64) -> String {
        if millis % 3_600_000 == 0 { return "\(millis / 3_600_000) h" }
        if millis % 60_000 == 0 { return "\(millis / 60_000) min" }
        return "\(Double(millis) / 1000) s"
    }

    /// Parts of `part` in `whole`, as a percentage with one decimal, exactly rounded half up.
    static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "-" }
        let tenths = (part * 2000 + whole) / (2 * whole)
        return "\(tenths / 10).\(tenths % 10) %"
    }
}

extension ReplaySummary {
    /// Simulated meter-hours per real second: how much faster than the field the pipeline ran.
    var meterHoursPerSecond: Double {
        let hours = Double(plan.meterCount) * Double(plan.toMillis - plan.fromMillis) / 3_600_000
        return outcome.progress.wallSeconds > 0 ? hours / outcome.progress.wallSeconds : 0
    }

    func text(kept directory: String?) -> String {
        let progress = outcome.progress
        var lines: [String] = []
        lines.append("")
        lines.append(String(format: "replayed %@ of %d meters in %.1f s: %d records in %d blocks, %d refused, %d failed polls; %.0f meter-hours per second",
                            ReplayText.duration(plan.toMillis - plan.fromMillis), plan.meterCount, progress.wallSeconds,
                            progress.recordsCommitted, progress.blocks, progress.refused, outcome.failedPolls, meterHoursPerSecond))
        for (code, count) in outcome.refusals.sorted(by: { $0.key < $1.key }) { lines.append("  refused \(count): \(code)") }
        let times = outcome.stepTimes
        lines.append(String(format: "  time per step: %.1f ms polling and signing, %.1f ms publishing to commit, %.1f ms confirming; %.1f s pacing",
                            times.pollingSeconds * 1000 / Double(max(1, plan.stepCount)), times.committingSeconds * 1000 / Double(max(1, plan.stepCount)),
                            times.confirmingSeconds * 1000 / Double(max(1, plan.stepCount)), outcome.pacingSeconds))
        lines.append("")
        if let failure = verdict.failure {
            lines.append("verify: INVALID at \(failure)")
        } else {
            let chain = verdict.chain
            lines.append("verify: valid: \(chain.blockCount) blocks, \(chain.recordCount) records, \(chain.eventCount) events, \(chain.heads.count) meters")
            lines.append("verify: \(verdict.settlements.settlementCount) settlements re-derived byte for byte under \(verdict.settlements.contractCount) contract(s)")
        }
        lines.append("aggregator key \(Hex.encode(outcome.aggregatorPublicKey))")
        lines += blockListing()
        for statement in statements { lines += table(statement) }
        let community = self.community
        lines.append("")
        lines.append("community: self-sufficiency \(ReplayText.percent(community.sharedWh, of: community.importedWh)) "
                     + "(\(EnergyText.kWh(community.sharedWh)) of \(EnergyText.kWh(community.importedWh)) kWh imported came from members), "
                     + "\(ReplayText.percent(community.sharedWh, of: community.exportedWh)) of the \(EnergyText.kWh(community.exportedWh)) kWh exported stayed in the community")
        let mismatches = traceCheck.filter { $0.traceImportWh != $0.billedImportWh || $0.traceExportWh != $0.billedExportWh }
        if mismatches.isEmpty {
            lines.append("trace check: the grid energy billed equals the trace's register differences to the Wh for all \(traceCheck.count) members")
        } else {
            lines.append("trace check: \(mismatches.count) of \(traceCheck.count) members billed otherwise than the trace's registers (profile resolution, or unsettled intervals):")
            for item in mismatches.prefix(10) {
                lines.append("  \(item.memberID): import \(item.billedImportWh) Wh billed, \(item.traceImportWh) Wh in the trace; export \(item.billedExportWh) / \(item.traceExportWh) Wh")
            }
        }
        if let directory { lines.append("state kept in \(directory) (ledger: \(outcome.databaseFile))") }
        return lines.joined(separator: "\n")
    }

    /// The first and last blocks minted: height, trace time, records, events, hash.
    private func blockListing() -> [String] {
        let headers = verdict.headers
        guard !headers.isEmpty else { return [] }
        var lines = ["", "blocks minted: \(headers.count) (height, block time, records, events, hash)"]
        func line(_ header: BlockHeader) -> String {
            "  #\(header.height)  \(TraceTime.text(millis: header.timeMillis))  \(header.recordCount) records  \(header.eventCount) events  "
                + Hex.encode(Array(header.hash.prefix(8)))
        }
        if headers.count <= 8 {
            lines += headers.map(line)
        } else {
            lines += headers.prefix(4).map(line)
            lines.append("  … \(headers.count - 8) more …")
            lines += headers.suffix(4).map(line)
        }
        return lines
    }

    private func table(_ statement: PeriodStatement) -> [String] {
        guard let sample = statement.invoices.first else { return [] }
        var lines = ["", "billing period \(statement.periodID) (\(sample.contractID) v\(sample.contractVersion), \(sample.currency)"
                     + (sample.provisional ? ", provisional: the period is not over" : "") + ")"]
        let header = ["member", "imported kWh", "exported kWh", "from community", "to community", "bill", "grid only", "saved"]
        var rows: [[String]] = [header]
        for invoice in statement.invoices {
            rows.append([
                invoice.memberID, invoice.energy.imported.kWh, invoice.energy.exported.kWh, invoice.energy.fromCommunity.kWh,
                invoice.energy.toCommunity.kWh, invoice.total.decimal, invoice.baselineTotal.decimal, invoice.savings.decimal,
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            lines.append("  " + cells.joined(separator: "  "))
            if index == 0 { lines.append("  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines
    }

    func json(kept directory: String?) throws -> String {
        let progress = outcome.progress
        var object: [String: Any] = [
            "from": TraceTime.text(millis: plan.fromMillis), "to": TraceTime.text(millis: plan.toMillis), "steps": plan.stepCount,
            "stepSeconds": plan.stepMillis / 1000, "households": plan.households.count, "meters": plan.meterCount,
            "wallSeconds": (progress.wallSeconds * 1000).rounded() / 1000, "records": progress.recordsCommitted, "blocks": progress.blocks,
            "refused": outcome.refusals, "polls": outcome.polls, "failedPolls": outcome.failedPolls,
            "meterHoursPerSecond": (meterHoursPerSecond * 10).rounded() / 10,
            "aggregatorKey": Hex.encode(outcome.aggregatorPublicKey), "meterIDs": outcome.meterIDs,
            "valid": verdict.isValid, "settlements": verdict.settlements.settlementCount,
            "traceMatches": traceMatches,
        ]
        if let failure = verdict.failure { object["failure"] = "\(failure)" }
        if let directory { object["workDirectory"] = directory; object["database"] = outcome.databaseFile }
        let community = self.community
        object["community"] = ["importedWh": community.importedWh, "exportedWh": community.exportedWh, "fromCommunityWh": community.sharedWh]
        object["members"] = memberEnergy.map { energy in
            [
                "member": energy.memberID, "importedWh": energy.importedWh, "exportedWh": energy.exportedWh,
                "fromCommunityWh": energy.fromCommunityWh, "toCommunityWh": energy.toCommunityWh,
            ] as [String: Any]
        }
        object["invoices"] = try statements.flatMap { statement in
            try statement.invoices.map { try JSONSerialization.jsonObject(with: Data($0.json().utf8)) }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
