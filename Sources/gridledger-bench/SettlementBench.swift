import BillingCore
import Crypto
import Foundation
import GridLedgerCore
import GridLedgerRecords
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

    /// `members` members (a third prosumers), one grid meter each.
    static func registry(members: Int) throws -> Registry {
        var registry = Registry()
        try registry.apply(.addGatewayKey(gatewayID: "gw", publicKey: Array(repeating: 2, count: 32), validFromMillis: 0))
        for index in 0..<members {
            let id = "member-\(index)"
            try registry.apply(.addMember(Member(id: id, role: index % 3 == 0 ? .prosumer : .consumer, name: id)))
            try registry.apply(.addMeter(RegisteredMeter(meterID: "gw:grid:\(index)", gatewayID: "gw", memberID: id, role: .grid, tariffGroup: "standard")))
        }
        return registry
    }

    /// Every meter's registers at `millis`, `step` quarter hours in: prosumers export, the others import.
    static func samples(members: Int, atMillis millis: Int64, step: Int64) -> [MeterSample] {
        (0..<members).map { index in
            let importWh = Int64(index % 3 == 0 ? 1_000 : 1_000 + step * Int64(50 + index % 400))
            let exportWh = Int64(index % 3 == 0 ? 500 + step * Int64(100 + index % 700) : 0)
            return MeterSample(meterID: "gw:grid:\(index)", counters: CounterSample(millis: millis, importWh: importWh, exportWh: exportWh))
        }
    }

    static func interval(runs: Int, median: ([Double]) -> Double) throws {
        let members = Int(ProcessInfo.processInfo.environment["GL_BENCH_MEMBERS"] ?? "") ?? 10_000
        let registry = try registry(members: members)
        // Readings one minute before and one after each boundary: every boundary value is interpolated.
        func samples(atMillis millis: Int64, step: Int64) -> [MeterSample] { Self.samples(members: members, atMillis: millis, step: step) }
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

extension SettlementBench {
    /// Verification's share of billing (issue 5): a month of quarter hours for GL_BENCH_MONTH_MEMBERS
    /// [1000] members, mid-market rate, one block per quarter hour holding every meter's reading a
    /// minute after the boundary. The aggregator's runner writes the settlements into the blocks
    /// (not timed); the timed part is `SettlementVerifier.verify` over all blocks, from decoded
    /// reading records to byte-for-byte comparison, as `gridledger verify` runs it after the
    /// chain verifier. Days: GL_BENCH_DAYS [30].
    static func month(runs: Int, median: ([Double]) -> Double) throws {
        let environment = ProcessInfo.processInfo.environment
        let members = Int(environment["GL_BENCH_MONTH_MEMBERS"] ?? "") ?? 1_000
        let days = Int(environment["GL_BENCH_DAYS"] ?? "") ?? 30
        let registry = try registry(members: members)
        let quarter: Int64 = 900_000
        let steps = Int64(days) * 96
        let key = Curve25519.Signing.PrivateKey()
        let terms = Terms(mechanism: .midMarketRate)

        // The aggregator's side: blocks with their settlement events.
        var runner = SettlementRunner()
        runner.deploy(terms)
        var blocks: [Block] = []
        var previous = ReadingRecord.zeroHash
        var settlementCount = 0
        for step in 0...steps {
            let time = step * quarter + 60_000
            var events: [[UInt8]] = step == 0 ? [try LedgerEvent.contractDeployed(document: Array("bench".utf8)).encoded()] : []
            for record in runner.apply(samples: samples(members: members, atMillis: time, step: step), registry: registry, blockTimeMillis: time) {
                events.append(try LedgerEvent.settlement(payload: try record.encoded()).encoded())
                settlementCount += 1
            }
            let block = try Block.mint(height: UInt64(step), previousHash: previous, timeMillis: time, records: [], events: events, key: key)
            previous = block.header.hash
            blocks.append(block)
        }
        guard runner.failures.isEmpty else { throw BenchError("settlement failed: \(runner.failures.prefix(3))") }

        print("settlement: re-derive \(days) days of 15-minute settlements for \(members) members (mid-market rate) in verification")
        var times: [Double] = []
        for _ in 0..<runs {
            var verifier = SettlementVerifier(parse: { _ in terms })
            var elapsed = Duration.zero
            for (step, block) in blocks.enumerated() {
                // The chain verifier hands over decoded records; making them is not the settlement's cost.
                let records = try samples(members: members, atMillis: block.header.timeMillis, step: Int64(step)).map { sample in
                    try ReadingRecord(
                        gatewayID: "gw", meterID: sample.meterID, sequence: UInt64(step + 1), captureTimeMillis: sample.counters.millis,
                        flags: [.clockSynchronized], profileID: "bench", status: .complete, previousHash: ReadingRecord.zeroHash,
                        values: [
                            Measurement(.energyActiveImportTotal, ScaledValue(sample.counters.importWh, exponent: 0)),
                            Measurement(.energyActiveExportTotal, ScaledValue(sample.counters.exportWh, exponent: 0)),
                        ])
                }
                let started = ContinuousClock.now
                try verifier.verify(block, records: records, registry: registry)
                elapsed += ContinuousClock.now - started
            }
            guard verifier.settlementCount == settlementCount else { throw BenchError("re-derived \(verifier.settlementCount) of \(settlementCount)") }
            times.append(elapsed.seconds)
        }
        let seconds = median(times)
        let readings = Double(blocks.count * members)
        print(String(format: "  %.2f s median (runs: %@): %d settlement records (%.0f/s), %d member-intervals (%.0f/s), %.0f readings/s",
                     seconds, times.map { String(format: "%.2f", $0) }.joined(separator: ", "), settlementCount, Double(settlementCount) / seconds,
                     Int(steps) * members, Double(Int(steps) * members) / seconds, readings / seconds))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
