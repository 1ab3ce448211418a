import BillingCore
import Contracts
import LedgerCore
import Testing
@testable import Settlement

/// Days with a daylight-saving change in the contract's time zone, through the runner: every
/// quarter hour of the local day is settled once (92 on the spring day, 100 on the autumn day),
/// and time-of-use windows follow local time across the change.
@Suite("Settlement on daylight-saving days")
struct DaylightSavingTests {
    static let minute: Int64 = 60_000

    static func contract(validFrom: String) throws -> DeployedContract {
        let document = """
            contract: gridledger-contract/v1
            id: dst
            version: 1
            validFrom: \(validFrom)
            currency: EUR
            minorUnitDigits: 2
            timeZone: Europe/Vienna
            settlementIntervalMinutes: 15
            billingPeriod: month
            members: all
            mechanism:
              kind: mid-market-rate
            prices:
              retail:
                default: "0.30"
                windows:
                  - { days: [mon, tue, wed, thu, fri, sat, sun], from: "17:00", to: "21:00", price: "0.35" }
              feedIn: "0.08"
            """
        return try DeployedContract(Contract.parse(Array(document.utf8), file: "dst.yaml"))
    }

    static func registry() throws -> Registry {
        var registry = Registry()
        try registry.apply(.addMember(Member(id: "alice", role: .prosumer, name: "Alice")))
        try registry.apply(.addMember(Member(id: "bob", role: .consumer, name: "Bob")))
        try registry.apply(.addGatewayKey(gatewayID: "gw", publicKey: Array(repeating: 1, count: 32), validFromMillis: 0))
        try registry.apply(.addMeter(RegisteredMeter(meterID: "ga", gatewayID: "gw", memberID: "alice", role: .grid, tariffGroup: "standard")))
        try registry.apply(.addMeter(RegisteredMeter(meterID: "gb", gatewayID: "gw", memberID: "bob", role: .grid, tariffGroup: "standard")))
        return registry
    }

    /// Settles the local day `[start, end)` from readings every 5 minutes (one block per hour of
    /// readings); returns the interval starts settled inside the day and those at 0.35 €/kWh.
    static func settleDay(validFrom: String, start: Int64, end: Int64) throws -> (starts: [Int64], peak: [Int64]) {
        let registry = try registry()
        var runner = SettlementRunner()
        let terms = try contract(validFrom: validFrom)
        #expect(runner.refusal(of: terms, blockTimeMillis: start) == nil)
        runner.deploy(terms)
        var records: [SettlementRecord] = []
        var time = start
        var samples: [MeterSample] = []
        var step: Int64 = 0
        while time <= end + 15 * minute {
            samples.append(MeterSample(meterID: "ga", counters: CounterSample(millis: time, importWh: 1000 + step * 10, exportWh: step * 25)))
            samples.append(MeterSample(meterID: "gb", counters: CounterSample(millis: time, importWh: 5000 + step * 30, exportWh: 0)))
            if samples.count >= 24 {
                records += runner.apply(samples: samples, registry: registry, blockTimeMillis: time)
                samples = []
            }
            time += 5 * minute
            step += 1
        }
        records += runner.apply(samples: samples, registry: registry, blockTimeMillis: time)
        #expect(runner.failures.isEmpty, "\(runner.failures)")
        let inDay = records.filter { $0.intervalStartMillis >= start && $0.intervalStartMillis < end }
        #expect(inDay.allSatisfy { $0.revision == 0 && $0.lines.allSatisfy { !$0.estimated } })
        return (inDay.map(\.intervalStartMillis), inDay.filter { $0.retail == 350_000 }.map(\.intervalStartMillis))
    }

    @Test func theAutumnDayHas100QuarterHoursAndThePeakFollowsLocalTime() throws {
        // 2026-10-25 in Vienna: 00:00 CEST = 2026-10-24T22:00Z; clocks go back at 03:00 CEST;
        // the day ends at 00:00 CET = 2026-10-25T23:00Z: 25 hours.
        let start: Int64 = 1_792_879_200_000
        let end = start + 25 * 60 * Self.minute
        let (starts, peak) = try Self.settleDay(validFrom: "2026-10-25T00:00:00+02:00", start: start, end: end)
        #expect(starts.count == 100)
        #expect(starts == Array(stride(from: start, to: end, by: Int(15 * Self.minute))))
        // 17:00–21:00 CET is 16:00–20:00 UTC.
        #expect(peak.count == 16)
        #expect(peak.first == start + 18 * 60 * Self.minute)
    }

    @Test func theSpringDayHas92QuarterHoursAndThePeakFollowsLocalTime() throws {
        // 2026-03-29 in Vienna: 00:00 CET = 2026-03-28T23:00Z; clocks go forward at 02:00 CET;
        // the day ends at 00:00 CEST = 2026-03-29T22:00Z: 23 hours.
        let start: Int64 = 1_774_738_800_000
        let end = start + 23 * 60 * Self.minute
        let (starts, peak) = try Self.settleDay(validFrom: "2026-03-29T00:00:00+01:00", start: start, end: end)
        #expect(starts.count == 92)
        // 17:00–21:00 CEST is 15:00–19:00 UTC, 16 hours after the day's start.
        #expect(peak.count == 16)
        #expect(peak.first == start + 16 * 60 * Self.minute)
    }
}
