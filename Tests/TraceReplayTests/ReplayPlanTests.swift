import LedgerCore
import Testing
import TraceReplay
import Traces

@Suite struct ReplayPlanTests {
    static let minute: Int64 = 60_000

    static func trace(_ meters: [String], every step: Int64 = 15 * minute, count: Int = 5, start: Int64 = 1_780_272_000_000) -> ParsedTrace {
        var samples: [TraceSample] = []
        for index in 0..<count {
            for (number, meter) in meters.enumerated() {
                samples.append(TraceSample(millis: start + Int64(index) * step, meterID: meter, importWh: Int64(index * 10 + number), exportWh: 0))
            }
        }
        return ParsedTrace(samples: samples, meters: meters, rowsRead: samples.count)
    }

    @Test func householdsAndRolesComeFromTheMeterIDs() throws {
        let plan = try ReplayPlan(trace: Self.trace(["h02:grid", "h01:pv", "h01:grid", "solo", "h03:heat:pump"]))
        #expect(plan.households.map(\.id) == ["h01", "h02", "h03", "solo"])
        #expect(plan.households[0].meters.map(\.name) == ["grid", "pv"])
        #expect(plan.households[0].meters.map(\.role) == [.grid, .pv])
        #expect(plan.households[2].meters.map(\.name) == ["heat.pump"], "a further ':' cannot be part of a bus name")
        #expect(plan.households[2].meters[0].role == .grid, "an unknown name is a grid meter")
        #expect(plan.households[3].meters.map(\.name) == ["grid"])
        #expect(plan.meterCount == 5)
    }

    @Test func theStepIsTheTraceResolutionAndTheEndFallsOnItsGrid() throws {
        let start: Int64 = 1_780_272_000_000
        let plan = try ReplayPlan(trace: Self.trace(["a:grid"], every: 15 * Self.minute, count: 9, start: start))
        #expect(plan.stepMillis == 15 * Self.minute)
        #expect(plan.fromMillis == start && plan.toMillis == start + 8 * 15 * Self.minute && plan.stepCount == 9)

        let shifted = try ReplayPlan(trace: Self.trace(["a:grid"], count: 9, start: start), fromMillis: start + 5 * Self.minute, stepMillis: 10 * Self.minute)
        #expect(shifted.stepMillis == 10 * Self.minute)
        #expect(shifted.toMillis == start + 115 * Self.minute, "the last step on the 10-minute grid from 00:05 before 02:00")
        #expect(shifted.stepCount == 12)
    }

    @Test func badSpansAndStepsAreRefusedWithTheReason() {
        let trace = Self.trace(["a:grid"])
        let start: Int64 = 1_780_272_000_000
        #expect(throws: ReplayError.self) { try ReplayPlan(trace: trace, stepMillis: 500) }
        do {
            _ = try ReplayPlan(trace: trace, fromMillis: start + 3_600_000, toMillis: start)
            Issue.record("a backwards span was accepted")
        } catch {
            #expect(error.description.contains("before it starts"))
        }
        do {
            _ = try ReplayPlan(trace: trace, fromMillis: start + 86_400_000, toMillis: start + 2 * 86_400_000)
            Issue.record("a span outside the trace was accepted")
        } catch {
            #expect(error.description.contains("outside the trace"))
        }
        do {
            _ = try ReplayPlan(trace: ParsedTrace(samples: [], meters: [], rowsRead: 0))
            Issue.record("an empty trace was accepted")
        } catch {
            #expect(error.description == "the trace has no samples")
        }
    }

    @Test func aMeterStartingAfterTheReplayIsNamed() throws {
        var trace = Self.trace(["a:grid"])
        trace.samples.append(TraceSample(millis: 1_780_272_000_000 + 30 * Self.minute, meterID: "b:grid", importWh: 5, exportWh: 0))
        trace.samples.sort { $0.millis < $1.millis }
        let plan = try ReplayPlan(trace: trace)
        #expect(plan.metersStartingLate == ["b:grid"])
    }
}
