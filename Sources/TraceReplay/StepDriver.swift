import GridLedgerCore
import GridLedgerAgent
import GridLedgerAggregator
import Traces

/// Moves the replay clock step by step: a step is done when every meter has been polled at its
/// instant and every record of it is signed, committed in a block and confirmed to its gateway.
/// Only then (and, at a given speed, not before its real time) does the clock move on.
struct StepDriver {
    let plan: ReplayPlan
    let options: ReplayOptions
    let clock: ReplayClock
    let agents: [Agent]
    let aggregator: Aggregator
    let started: ContinuousClock.Instant

    /// Counters over all agents and the aggregator.
    struct Tally: Hashable {
        var polled = 0
        var signed = 0
        var unattributed = 0
        var confirmed = 0
        var committed = 0
        var refused = 0

        /// Every poll so far is signed (or counted as not attributable), every signed record is
        /// committed or refused, and confirmed back to its gateway or refused.
        func settled(expectedPolls: Int) -> Bool { phase(expectedPolls: expectedPolls) == .done }

        /// How far the step has come.
        func phase(expectedPolls: Int) -> StepPhase {
            if polled < expectedPolls || signed + unattributed < polled { return .polling }
            if committed + refused < signed { return .committing }
            if confirmed + refused < signed { return .confirming }
            return .done
        }
    }

    func tally() -> Tally {
        var tally = Tally()
        for agent in agents {
            let counters = agent.metrics.snapshot
            tally.polled += counters.readingsPolled
            tally.signed += counters.recordsSigned
            tally.unattributed += counters.readingsUnattributed
            tally.confirmed += counters.recordsConfirmed
        }
        tally.committed = aggregator.metrics.committedRecordCount
        tally.refused = aggregator.metrics.refusalCounts.values.reduce(0, +)
        return tally
    }

    func snapshot(step: Int) -> ReplayProgress {
        let elapsed = ContinuousClock.now - started
        return ReplayProgress(
            simulatedMillis: clock.nowMillis(), step: step, steps: plan.stepCount, recordsCommitted: aggregator.metrics.committedRecordCount,
            blocks: aggregator.metrics.blockHeight + 1, refused: aggregator.metrics.refusalCounts.values.reduce(0, +),
            wallSeconds: elapsed.secondsValue)
    }

    /// Runs every step; reports progress about once a second (and after the last step).
    /// `afterFirstStep` checks what the first step established (the meters' ids).
    func drive(
        progress: @Sendable (ReplayProgress) -> Void, afterFirstStep: () throws -> Void
    ) async throws -> (step: Int, pacingSeconds: Double, times: StepTimes) {
        let meters = plan.meterCount
        var lastReport = ContinuousClock.now
        var pacing = Duration.zero
        var times = StepTimes()
        for step in 0..<plan.stepCount {
            let instant = plan.fromMillis + Int64(step) * plan.stepMillis
            if case .speed(let factor) = options.pace {
                let due = started + .milliseconds((instant - plan.fromMillis) / factor)
                let now = ContinuousClock.now
                if due > now {
                    pacing += due - now
                    try await Task.sleep(until: due, clock: .continuous)
                }
            }
            clock.advance(toMillis: instant)
            times.merge(try await waitUntilSettled(expectedPolls: meters * (step + 1), instant: instant))
            if step == 0 { try afterFirstStep() }
            if ContinuousClock.now - lastReport >= .seconds(1) || step == plan.stepCount - 1 {
                lastReport = ContinuousClock.now
                progress(snapshot(step: step + 1))
            }
        }
        return (plan.stepCount, pacing.secondsValue, times)
    }

    /// Waits for the step to be done; returns the real time each phase took.
    private func waitUntilSettled(expectedPolls: Int, instant: Int64) async throws -> StepTimes {
        var last = tally()
        var lastChange = ContinuousClock.now
        var spins = 0
        var times = StepTimes()
        var phaseStarted = ContinuousClock.now
        var phase = last.phase(expectedPolls: expectedPolls)
        while phase != .done {
            try Task.checkCancellation()
            // Mostly a few hundred microseconds: yield first, sleep once it takes longer.
            if spins < 50 { await Task.yield() } else { try await Task.sleep(for: .microseconds(500)) }
            spins += 1
            let now = tally()
            if now != last {
                last = now
                lastChange = ContinuousClock.now
                let next = now.phase(expectedPolls: expectedPolls)
                if next != phase {
                    times.add(ContinuousClock.now - phaseStarted, to: phase)
                    phaseStarted = ContinuousClock.now
                    phase = next
                }
            } else if ContinuousClock.now - lastChange > options.stallTimeout {
                throw ReplayError(stallReport(now, expectedPolls: expectedPolls, instant: instant))
            }
        }
        times.add(ContinuousClock.now - phaseStarted, to: phase)
        return times
    }

    private func stallReport(_ tally: Tally, expectedPolls: Int, instant: Int64) -> String {
        var lines = ["no progress for \(options.stallTimeout) at step \(TraceTime.text(millis: instant)):",
                     "polled \(tally.polled)/\(expectedPolls), signed \(tally.signed), committed \(tally.committed), confirmed \(tally.confirmed), refused \(tally.refused)"]
        for agent in agents {
            let counters = agent.metrics.snapshot
            for meter in counters.meters.values where meter.polls < expectedPolls / max(1, plan.meterCount) || meter.failed > 0 {
                lines.append("meter \(meter.meterID ?? meter.name): \(meter.polls) polls, \(meter.failed) failed, \(meter.modbusErrors) Modbus errors")
            }
            if !counters.mqttConnected { lines.append("gateway \(agent.topics.gatewayID): not connected to the broker") }
        }
        if !aggregator.metrics.refusalCounts.isEmpty { lines.append("refusals: \(aggregator.metrics.refusalCounts.sorted { $0.key < $1.key })") }
        return lines.joined(separator: "\n  ")
    }
}

/// The phases of a step, in order.
enum StepPhase: Hashable {
    /// Meters read over Modbus, readings signed and stored in the gateways' outboxes.
    case polling
    /// Published, through the broker, verified and committed in a block.
    case committing
    /// The aggregator's confirmations back at the gateways.
    case confirming
    case done
}

/// Real time spent in each phase of the steps, summed.
public struct StepTimes: Sendable, Hashable {
    public var pollingSeconds = 0.0
    public var committingSeconds = 0.0
    public var confirmingSeconds = 0.0

    mutating func add(_ duration: Duration, to phase: StepPhase) {
        let seconds = duration.secondsValue
        switch phase {
        case .polling: pollingSeconds += seconds
        case .committing: committingSeconds += seconds
        case .confirming: confirmingSeconds += seconds
        case .done: break
        }
    }

    mutating func merge(_ other: StepTimes) {
        pollingSeconds += other.pollingSeconds
        committingSeconds += other.committingSeconds
        confirmingSeconds += other.confirmingSeconds
    }
}
