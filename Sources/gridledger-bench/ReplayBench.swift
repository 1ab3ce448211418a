import Foundation
import GridLedgerTestSupport
import Logging
import SyntheticCommunity
import TraceReplay
import Traces

/// Replay speed: a generated community replayed through the whole pipeline (simulated meters,
/// agents, mosquitto, aggregator), as `gridledger replay --as-fast-as-possible` does it, and where
/// the time goes.
enum ReplayBench {
    static func run(runs: Int, median: ([Double]) -> Double) async throws {
        let households = Int(ProcessInfo.processInfo.environment["GL_BENCH_REPLAY_HOUSEHOLDS"] ?? "") ?? 100
        let spec = CommunitySpec(
            seed: 42, households: households, pvHouseholds: households * 2 / 5, batteries: households / 5,
            startMillis: 1_780_264_800_000, days: 1, pvMeters: true)  // 2026-06-01 00:00 in Central Europe
        let community = try generateCommunity(spec)
        let trace = ParsedTrace(samples: community.samples, meters: Array(Set(community.samples.map(\.meterID))).sorted(), rowsRead: community.samples.count)
        let plan = try ReplayPlan(trace: trace)
        let contract = ReplayContract.midMarket(validFromMillis: plan.fromMillis, timeZone: "Europe/Berlin")
        var logger = Logger(label: "bench.replay")
        logger.logLevel = .error
        print("replay: \(households) households, \(plan.meterCount) meters, \(plan.stepCount) steps of 15 min (one day), as fast as possible")
        var rates: [Double] = []
        for run in 1...runs {
            let directory = try TemporaryDirectory(prefix: "bench-replay")
            let outcome = try await Replay.run(
                plan: plan,
                options: ReplayOptions(profilesDirectory: TestEnvironment.profilesDirectory.path, contractDocument: Array(contract.utf8), workDirectory: directory.path("work")),
                logger: logger)
            let meterHours = Double(plan.meterCount) * Double(plan.toMillis - plan.fromMillis) / 3_600_000
            let rate = meterHours / outcome.progress.wallSeconds
            rates.append(rate)
            let steps = Double(plan.stepCount)
            let phases = outcome.stepTimes
            let work = outcome.work
            print(String(format: "  run %d: %.2f s, %.0f meter-hours/s, %d records, %d blocks, %d refused; per step: polling+signing %.1f ms, publish→commit %.1f ms, confirm %.1f ms",
                         run, outcome.progress.wallSeconds, rate, outcome.progress.recordsCommitted, outcome.progress.blocks, outcome.progress.refused,
                         phases.pollingSeconds * 1000 / steps, phases.committingSeconds * 1000 / steps, phases.confirmingSeconds * 1000 / steps))
            print(String(format: "         busy (s, summed over concurrent agents, including waits for a core): modbus %.2f, signing %.2f, outbox %.2f, authentication %.2f, settlement %.2f, commit %.2f",
                         work.modbusSeconds, work.signingSeconds, work.outboxSeconds, work.authenticationSeconds, work.settlementSeconds, work.commitSeconds))
        }
        print(String(format: "replay speed, median of %d: %.0f simulated meter-hours per wall second (%.1f s per simulated day of %d meters)",
                     runs, median(rates), Double(plan.meterCount) * 24 / median(rates), plan.meterCount))
    }
}
