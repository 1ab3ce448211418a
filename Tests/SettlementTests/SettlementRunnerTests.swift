import BillingCore
import LedgerCore
import Testing
@testable import Settlement

/// Terms without a YAML document, for the runner's own rules.
struct TestTerms: SettlementTerms {
    var hash: [UInt8] = Array(repeating: 7, count: 32)
    var contractID = "test"
    var version = 1
    var validFromMillis: Int64 = 0
    var intervalMillis: Int64 = 15 * 60_000
    var mechanism: Mechanism = .gridOnly
    var memberIDs: [String]? = nil
    var estimateAfterMillis: Int64 = 60 * 60_000
    var retail = "0.30"
    var feedIn = "0.08"

    func tariff(forIntervalStartingAt millis: Int64) throws -> IntervalTariff {
        try IntervalTariff(retail: Price(retail), feedIn: Price(feedIn))
    }
}

@Suite("Settlement runner")
struct SettlementRunnerTests {
    let minute: Int64 = 60_000

    /// alice (prosumer, grid meter ga) and bob (consumer, grid meter gb; pv meter pb is not settled).
    func registry() throws -> Registry {
        var registry = Registry()
        try registry.apply(.addMember(Member(id: "alice", role: .prosumer, name: "Alice")))
        try registry.apply(.addMember(Member(id: "bob", role: .consumer, name: "Bob")))
        try registry.apply(.addMember(Member(id: "ops", role: .operator, name: "Ops")))
        try registry.apply(.addGatewayKey(gatewayID: "gw", publicKey: Array(repeating: 1, count: 32), validFromMillis: 0))
        try registry.apply(.addMeter(RegisteredMeter(meterID: "ga", gatewayID: "gw", memberID: "alice", role: .grid, tariffGroup: "standard")))
        try registry.apply(.addMeter(RegisteredMeter(meterID: "gb", gatewayID: "gw", memberID: "bob", role: .grid, tariffGroup: "standard")))
        try registry.apply(.addMeter(RegisteredMeter(meterID: "pb", gatewayID: "gw", memberID: "bob", role: .pv, tariffGroup: "standard")))
        return registry
    }

    func sample(_ meter: String, _ minutes: Int64, import importWh: Int64, export exportWh: Int64 = 0) -> MeterSample {
        MeterSample(meterID: meter, counters: CounterSample(millis: minutes * minute, importWh: importWh, exportWh: exportWh))
    }

    @Test func anIntervalSettlesOnceEveryMeterHasReportedPastItsEnd() throws {
        let registry = try registry()
        var runner = SettlementRunner()
        #expect(runner.refusal(of: TestTerms(), blockTimeMillis: 0) == nil)
        runner.deploy(TestTerms())
        var records = runner.apply(samples: [sample("ga", 0, import: 1000), sample("gb", 0, import: 500), sample("pb", 0, import: 9)],
                                   registry: registry, blockTimeMillis: 1 * minute)
        #expect(records.isEmpty)
        // Past the end, but bob's meter has not reported past 15 min yet: wait.
        records = runner.apply(samples: [sample("ga", 8, import: 1080), sample("ga", 16, import: 1160, export: 0), sample("gb", 10, import: 700)], registry: registry, blockTimeMillis: 16 * minute)
        #expect(records.isEmpty)
        records = runner.apply(samples: [sample("gb", 20, import: 900)], registry: registry, blockTimeMillis: 20 * minute)
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.intervalStartMillis == 0 && record.revision == 0 && record.chunkCount == 1)
        // alice: 1000 → 1160 over 16 min, at 15 min 1150; bob: 700 → 900 from 10 to 20 min, at 15 min 800.
        #expect(record.lines.map(\.memberID) == ["alice", "bob"])
        #expect(record.lines.map(\.importWh) == [150, 300])
        #expect(record.lines.allSatisfy { !$0.estimated })
        // Grid only at 0.30/kWh: 0.045 and 0.09, in micro-units.
        #expect(record.lines.map(\.energyCharge) == [45_000, 90_000])
        #expect(record.lines.map(\.baselineCharge) == [45_000, 90_000])
        let bytes = try record.encoded()
        #expect(try SettlementRecord(decoding: bytes) == record)
    }

    @Test func aMeterThatNeverReportedHoldsItsIntervalsUntilTheDeadline() throws {
        let registry = try registry()
        var runner = SettlementRunner()
        runner.deploy(TestTerms())
        // Only alice's meter reports: a contract deployed before the gateways deliver (or a meter
        // still offline) must not settle bob's intervals as if he had used nothing.
        var records = runner.apply(
            samples: [sample("ga", 0, import: 1000), sample("ga", 10, import: 1100), sample("ga", 16, import: 1160)], registry: registry, blockTimeMillis: 16 * minute)
        #expect(records.isEmpty)
        records = runner.apply(samples: [], registry: registry, blockTimeMillis: 74 * minute)
        #expect(records.isEmpty, "the deadline is end + 60 min = 75 min")
        records = runner.apply(samples: [], registry: registry, blockTimeMillis: 75 * minute)
        let record = try #require(records.first)
        #expect(record.intervalStartMillis == 0)
        #expect(record.lines.map(\.memberID) == ["alice", "bob"])
        #expect(record.lines.map(\.importWh) == [150, 0])
        #expect(record.lines.map(\.estimated) == [false, true])
    }

    @Test func aSilentMeterIsEstimatedAfterTheDeadlineAndRevisedWhenItsDataArrives() throws {
        let registry = try registry()
        var runner = SettlementRunner()
        runner.deploy(TestTerms())
        _ = runner.apply(samples: [sample("ga", 0, import: 1000), sample("gb", 0, import: 500)], registry: registry, blockTimeMillis: 0)
        // alice keeps reporting; bob's gateway is offline after minute 5.
        _ = runner.apply(samples: [sample("gb", 5, import: 550)], registry: registry, blockTimeMillis: 5 * minute)
        var settled: [SettlementRecord] = []
        for minutes in stride(from: Int64(10), through: 75, by: 5) {
            settled += runner.apply(samples: [sample("ga", minutes, import: 1000 + minutes * 10)], registry: registry, blockTimeMillis: minutes * minute)
        }
        // At 75 min the first interval (0–15, deadline 75) is settled with bob estimated: nothing since his last reading.
        #expect(settled.map(\.intervalStartMillis) == [0])
        let first = try #require(settled.first)
        #expect(first.lines.map(\.importWh) == [150, 50])
        #expect(first.lines.map(\.estimated) == [false, true])
        // bob comes back at 80 min with 1350 Wh: interpolation gives 15 min → 550 + 800·10/75 = 656.
        let later = runner.apply(samples: [sample("ga", 80, import: 1800), sample("gb", 80, import: 1350)], registry: registry, blockTimeMillis: 80 * minute)
        let revision = try #require(later.first { $0.intervalStartMillis == 0 })
        #expect(revision.revision == 1)
        #expect(revision.lines.map(\.importWh) == [150, 156])
        // Interpolated across a 75-minute gap: still marked, but with real data on both sides.
        #expect(revision.lines[1].estimated)
        // Every interval up to 75 min is now settled, and bob's energies add up to his register difference.
        let latest = Dictionary(grouping: settled + later, by: \.intervalStartMillis).mapValues { $0.max { $0.revision < $1.revision }! }
        #expect(latest.keys.sorted() == stride(from: Int64(0), to: 75 * minute, by: Int(15 * minute)).map { $0 })
        // Register at 75 min: 550 + ⌊800·70/75⌋ = 1296.
        #expect(latest.values.reduce(0) { $0 + $1.lines[1].importWh } == 1296 - 500)
    }

    @Test func sameBlocksGiveTheSameBytes() throws {
        let registry = try registry()
        func run() throws -> [[UInt8]] {
            var runner = SettlementRunner()
            runner.deploy(TestTerms(mechanism: .midMarketRate))
            var out: [[UInt8]] = []
            for minutes in stride(from: Int64(0), through: 120, by: 3) {
                let samples = [sample("ga", minutes, import: 1000 + minutes * 3, export: minutes * 17), sample("gb", minutes, import: 500 + minutes * 11)]
                out += try runner.apply(samples: samples, registry: registry, blockTimeMillis: minutes * minute).map { try $0.encoded() }
            }
            return out
        }
        let first = try run()
        #expect(first.count == 8)
        #expect(try run() == first)
    }

    @Test func deploymentsThatWouldRewriteHistoryAreRefused() throws {
        var runner = SettlementRunner()
        #expect(runner.refusal(of: TestTerms(validFromMillis: 15 * minute), blockTimeMillis: 0) != nil)
        runner.deploy(TestTerms())
        // Meters that never report hold each interval until its deadline (end + 60 min here).
        _ = runner.apply(samples: [], registry: try registry(), blockTimeMillis: 180 * minute)
        #expect(runner.nextIntervalStart == 120 * minute)
        #expect(runner.refusal(of: TestTerms(hash: Array(repeating: 8, count: 32), version: 2, validFromMillis: 60 * minute), blockTimeMillis: 180 * minute)?.contains("settled") == true)
        #expect(runner.refusal(of: TestTerms(hash: Array(repeating: 8, count: 32), version: 1, validFromMillis: 180 * minute), blockTimeMillis: 180 * minute)?.contains("version") == true)
        #expect(runner.refusal(of: TestTerms(hash: Array(repeating: 8, count: 32), version: 2, validFromMillis: 180 * minute), blockTimeMillis: 180 * minute) == nil)
        // Further back than the readings kept (40 days) is refused even before any contract.
        let fresh = SettlementRunner()
        let day: Int64 = 1_440 * minute
        #expect(fresh.refusal(of: TestTerms(), blockTimeMillis: 41 * day)?.contains("no longer kept") == true)
        #expect(fresh.refusal(of: TestTerms(), blockTimeMillis: 39 * day) == nil)
    }
}
