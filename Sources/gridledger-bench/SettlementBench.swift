import BillingCore
import Foundation
import LedgerCore
import Settlement

/// Settlement figures (issue 5): one 15-minute interval for many members through the runner that
/// the aggregator and the verifier share (boundary values, mechanism, balanced rounding, record
/// encoding). Knob: GL_BENCH_MEMBERS [10000].
enum SettlementBench {
    struct Terms: SettlementTerms {
        var hash: [UInt8] = Array(repeating: 1, count: 32)
        var contractID = "bench"
        var version = 1
        var validFromMillis: Int64 = 0
        var intervalMillis: Int64 = 900_000
        var mechanism: Mechanism
        var memberIDs: [String]? = nil
        var estimateAfterMillis: Int64 = 3_600_000
        func tariff(forIntervalStartingAt millis: Int64) throws -> IntervalTariff {
            try IntervalTariff(retail: Price("0.30"), feedIn: Price("0.08"), gridFee: Price("0.02"), communityPrice: Price("0.15"))
        }
    }

    static func interval(runs: Int, median: ([Double]) -> Double) throws {
        let members = Int(ProcessInfo.processInfo.environment["GL_BENCH_MEMBERS"] ?? "") ?? 10_000
        var registry = Registry()
        try registry.apply(.addGatewayKey(gatewayID: "gw", publicKey: Array(repeating: 2, count: 32), validFromMillis: 0))
        for index in 0..<members {
            let id = "member-\(index)"
            try registry.apply(.addMember(Member(id: id, role: index % 3 == 0 ? .prosumer : .consumer, name: id)))
            try registry.apply(.addMeter(RegisteredMeter(meterID: "gw:grid:\(index)", gatewayID: "gw", memberID: id, role: .grid, tariffGroup: "standard")))
        }
        // Readings one minute before and one after each boundary: every boundary value is interpolated.
        func samples(atMillis millis: Int64, step: Int64) -> [MeterSample] {
            (0..<members).map { index in
                let importWh = Int64(index % 3 == 0 ? 1_000 : 1_000 + step * Int64(50 + index % 400))
                let exportWh = Int64(index % 3 == 0 ? 500 + step * Int64(100 + index % 700) : 0)
                return MeterSample(meterID: "gw:grid:\(index)", counters: CounterSample(millis: millis, importWh: importWh, exportWh: exportWh))
            }
        }
        print("settlement: one 15-minute interval, \(members) members (one grid meter each, a third exporting), runner.apply of the settling block")
        for mechanism in [Mechanism.gridOnly, .midMarketRate, .supplyDemandRatio, .dynamicKeys] {
            var times: [Double] = []
            var lines = 0
            var bytes = 0
            for _ in 0..<runs {
                var runner = SettlementRunner()
                runner.deploy(Terms(mechanism: mechanism))
                _ = runner.apply(samples: samples(atMillis: -60_000, step: 0), registry: registry, blockTimeMillis: 0)
                let settling = samples(atMillis: 960_000, step: 1)
                let started = ContinuousClock.now
                let records = runner.apply(samples: settling, registry: registry, blockTimeMillis: 960_000)
                let encoded = try records.map { try $0.encoded() }
                times.append((ContinuousClock.now - started).seconds * 1000)
                lines = records.reduce(0) { $0 + $1.lines.count }
                bytes = encoded.reduce(0) { $0 + $1.count }
                guard runner.failures.isEmpty, lines == members else { throw BenchError("settlement failed: \(runner.failures.prefix(3))") }
            }
            print(String(format: "  %@: %.1f ms median (runs: %@), %d lines in %d bytes", mechanism.name, median(times),
                         times.map { String(format: "%.1f", $0) }.joined(separator: ", "), lines, bytes))
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
