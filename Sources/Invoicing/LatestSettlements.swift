import BillingCore
import Contracts
import Settlement

/// One settled interval of a billing period: its latest revision, the lines of all its chunks.
struct SettledInterval {
    let startMillis: Int64
    /// The contract it was settled under.
    let entry: ContractTimeline.Entry
    /// The first chunk's record: tariff, mechanism, demand and supply (the same in every chunk).
    let header: SettlementRecord
    /// Every member's line, in chunk order.
    let lines: [SettlementLine]

    /// Whether the interval belongs to a bill-sharing settlement of the period.
    var isBillSharing: Bool { header.mechanism == SettlementRecord.code(of: .billSharing) }
}

/// Picks the latest revision of every interval of a period out of the chain's settlement records
/// and checks that it agrees with itself and with the deployed contracts.
enum LatestSettlements {
    /// The period's settled intervals in time order.
    ///
    /// Every record must name a deployed contract. Of the records whose interval starts in
    /// `[period.startMillis, period.endMillis)`, only the highest revision of each interval is
    /// kept, and it must be complete (every chunk once, lines adding up to the recorded demand and
    /// supply), settled under the contract in force at its start, on that contract's interval grid
    /// with its mechanism, and in `currency`.
    static func select(
        _ records: [SettlementRecord], period: BillingPeriod, timeline: ContractTimeline, currency: String
    ) throws(InvoiceError) -> [SettledInterval] {
        var latest: [Int64: (revision: UInt16, records: [SettlementRecord])] = [:]
        for record in records {
            guard timeline.byHash[record.contractHash] != nil else {
                throw .unknownContract(hash: hexText(record.contractHash), intervalStartMillis: record.intervalStartMillis)
            }
            guard record.intervalStartMillis >= period.startMillis, record.intervalStartMillis < period.endMillis else { continue }
            if let current = latest[record.intervalStartMillis] {
                if record.revision < current.revision { continue }
                if record.revision == current.revision {
                    latest[record.intervalStartMillis]?.records.append(record)
                    continue
                }
            }
            latest[record.intervalStartMillis] = (record.revision, [record])
        }
        var intervals: [SettledInterval] = []
        intervals.reserveCapacity(latest.count)
        for start in latest.keys.sorted() {
            guard let chunks = latest[start]?.records else { continue }
            intervals.append(try interval(start: start, chunks: chunks, timeline: timeline, currency: currency))
        }
        return intervals
    }

    /// Checks and joins the chunks of one interval's latest revision.
    private static func interval(
        start: Int64, chunks: [SettlementRecord], timeline: ContractTimeline, currency: String
    ) throws(InvoiceError) -> SettledInterval {
        let sorted = chunks.sorted { $0.chunk < $1.chunk }
        let first = sorted[0]
        let place = "interval starting \(utcText(start)) (revision \(first.revision))"
        guard let entry = timeline.byHash[first.contractHash] else {
            throw .unknownContract(hash: hexText(first.contractHash), intervalStartMillis: start)
        }
        guard let inForce = timeline.inForce(at: start), inForce.contract.hash == entry.contract.hash else {
            let other = timeline.inForce(at: start).map { "\($0.name) is" } ?? "no contract is"
            throw .inconsistentSettlement("\(place) was settled under contract \(entry.name), but \(other) in force then")
        }
        guard entry.contract.currency == currency else {
            throw .mixedCurrencies(invoiceCurrency: currency, contract: entry.name, currency: entry.contract.currency)
        }
        let contract = entry.contract
        guard first.intervalMillis == contract.intervalMillis, start % contract.intervalMillis == 0 else {
            throw .inconsistentSettlement(
                "\(place) is \(first.intervalMillis) ms long, not on the \(contract.settlementIntervalMinutes)-minute grid of \(entry.name)")
        }
        guard first.mechanism == SettlementRecord.code(of: contract.mechanism) else {
            throw .inconsistentSettlement("\(place) has mechanism code \(first.mechanism), \(entry.name) is \(contract.mechanism.name)")
        }
        let count = Int(first.chunkCount)
        guard sorted.count == count, sorted.enumerated().allSatisfy({ Int($0.element.chunk) == $0.offset }) else {
            throw .inconsistentSettlement(
                "\(place) has chunks \(sorted.map { String($0.chunk) }.joined(separator: ", ")), expected each of 0..<\(count) once")
        }
        var lines: [SettlementLine] = []
        var members = Set<String>()
        var demand: Int128 = 0
        var supply: Int128 = 0
        for record in sorted {
            guard record.contractHash == first.contractHash, record.chunkCount == first.chunkCount,
                  record.intervalMillis == first.intervalMillis, record.mechanism == first.mechanism,
                  record.retail == first.retail, record.feedIn == first.feedIn, record.gridFee == first.gridFee,
                  record.communityPrice == first.communityPrice, record.demandWh == first.demandWh, record.supplyWh == first.supplyWh
            else {
                throw .inconsistentSettlement("the chunks of the \(place) disagree on the contract, tariff or totals")
            }
            for line in record.lines {
                guard members.insert(line.memberID).inserted else {
                    throw .inconsistentSettlement("member '\(line.memberID)' has two lines in the \(place)")
                }
                demand = try add(demand, Int128(line.importWh))
                supply = try add(supply, Int128(line.exportWh))
                lines.append(line)
            }
        }
        guard demand == Int128(first.demandWh), supply == Int128(first.supplyWh) else {
            throw .inconsistentSettlement(
                "the lines of the \(place) add up to \(demand) Wh imported and \(supply) Wh exported, the record says "
                    + "\(first.demandWh) and \(first.supplyWh)")
        }
        return SettledInterval(startMillis: start, entry: entry, header: first, lines: lines)
    }
}

/// `2026-11-01T00:00:00Z` (seconds; milliseconds are never part of an interval start).
func utcText(_ millis: Int64) -> String {
    let dayMillis: Int64 = 86_400_000
    let days = millis >= 0 ? millis / dayMillis : (millis - dayMillis + 1) / dayMillis
    let ofDay = millis - days * dayMillis
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shifted = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shifted + 2) / 5 + 1
    let month = shifted < 10 ? shifted + 3 : shifted - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
    let seconds = ofDay / 1000
    return "\(year)-\(two(month))-\(two(day))T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))Z"
}
