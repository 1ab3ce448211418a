import BillingCore
import Contracts

/// The deployed contracts in chain order, and which one is in force when.
///
/// The rule is the settlement runner's: at an instant t the contract in force is the one with the
/// latest `validFrom ≤ t`; of several with that `validFrom`, the one deployed last.
struct ContractTimeline {
    /// A deployed contract with its calendar.
    struct Entry {
        let contract: Contract
        let calendar: ContractCalendar

        /// `id vN`, for messages.
        var name: String { "\(contract.id) v\(contract.version)" }
    }

    /// A stretch of time during which one contract is in force: `[from, to)` in UTC ms.
    struct Stretch {
        let from: Int64
        let to: Int64
        let entry: Entry
    }

    /// In chain order.
    let entries: [Entry]
    /// Contract hash → the entry with that hash.
    let byHash: [[UInt8]: Entry]
    /// In time order, covering everything from the earliest `validFrom` on.
    let stretches: [Stretch]

    init(_ contracts: [Contract]) throws(InvoiceError) {
        var entries: [Entry] = []
        var byHash: [[UInt8]: Entry] = [:]
        for contract in contracts {
            let calendar: ContractCalendar
            do {
                calendar = try ContractCalendar(contract: contract)
            } catch {
                throw .invalidContract("\(contract.id) v\(contract.version)", error)
            }
            let entry = Entry(contract: contract, calendar: calendar)
            entries.append(entry)
            byHash[contract.hash] = entry
        }
        // The winner at each distinct validFrom: a stable sort keeps chain order among equals,
        // and the last of them wins.
        let ordered = entries.enumerated().sorted {
            ($0.element.contract.validFromMillis, $0.offset) < ($1.element.contract.validFromMillis, $1.offset)
        }
        var stretches: [Stretch] = []
        for (position, item) in ordered.enumerated() {
            let from = item.element.contract.validFromMillis
            if position + 1 < ordered.count, ordered[position + 1].element.contract.validFromMillis == from { continue }
            let to = position + 1 < ordered.count ? ordered[position + 1].element.contract.validFromMillis : Int64.max
            stretches.append(Stretch(from: from, to: to, entry: item.element))
        }
        self.entries = entries
        self.byHash = byHash
        self.stretches = stretches
    }

    /// The contract in force at `millis`, if any.
    func inForce(at millis: Int64) -> Entry? {
        stretches.last { $0.from <= millis }?.entry
    }

    /// The contract an invoice for `periodID` is issued under, and the period in its time zone:
    /// the contract in force at the period's last instant, each contract's period taken in its
    /// own zone.
    func issuing(periodID: String) throws(InvoiceError) -> (entry: Entry, period: BillingPeriod) {
        do {
            _ = try BillingPeriod.parseID(periodID)
        } catch {
            throw .malformedPeriodID(periodID, error)
        }
        var chosen: (entry: Entry, period: BillingPeriod)?
        for entry in entries {
            let period: BillingPeriod
            do {
                period = try entry.calendar.period(id: periodID)
            } catch {
                throw .malformedPeriodID(periodID, error)
            }
            guard entry.contract.validFromMillis < period.endMillis else { continue }
            if let current = chosen, entry.contract.validFromMillis < current.entry.contract.validFromMillis { continue }
            chosen = (entry, period)
        }
        guard let chosen else { throw .noContract(periodID: periodID) }
        return chosen
    }

    /// How many settlement intervals start in `[from, to)` while a contract is in force, each
    /// stretch counted on its own contract's interval grid.
    func intervalCount(from: Int64, to: Int64) -> Int {
        var count = 0
        for stretch in stretches {
            let start = max(from, stretch.from)
            let end = min(to, stretch.to)
            guard start < end else { continue }
            count += stretch.entry.calendar.intervals(from: start, to: end).count
        }
        return count
    }
}
