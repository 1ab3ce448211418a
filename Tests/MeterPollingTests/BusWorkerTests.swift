import DeviceProfiles
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import ModbusCore
import Testing

@Suite("Bus worker")
struct BusWorkerTests {
    @Test("a dead meter backs off without slowing the live ones")
    func deadMeterBacksOff() async throws {
        let sdm630 = try catalog.profile("eastron-sdm630")
        let line = FakeLine(devices: [1: sdm630Device(strict: false), 2: sdm630Device(strict: false)])
        let backoff = Backoff(initialDelayMillis: 1000, maximumDelayMillis: 8000)
        let sessions = [1, 2, 3].map { MeterSession(name: "m\($0)", unit: UInt8($0), choice: .profile(sdm630), pollIntervalMillis: 1000, backoff: backoff) }
        let bus = BusWorker(name: "rs485", reader: line, sessions: sessions)
        let clock = ManualClock(0)
        var polls: [UInt8: [ReadingStatus]] = [:]
        for _ in 0..<20 {
            for polled in await bus.pollDueMeters(clock: clock) { polls[polled.unit, default: []].append(polled.reading.status) }
            clock.advance(millis: 1000)
        }
        #expect(polls[1] == Array(repeating: .complete, count: 20))
        #expect(polls[2] == Array(repeating: .complete, count: 20))
        // Unit 3 is tried at t = 0, 1, 3, 7, 15 s (backoff 1, 2, 4, 8 s): 5 times in 20 s.
        #expect(polls[3] == Array(repeating: .failed, count: 5))
        let stats = await bus.sessions()
        #expect(stats[2].stats.failed == 5)
        #expect(stats[0].stats.complete == 20)
    }

    @Test func pollIntervalsAreHonoured() async throws {
        let sdm630 = try catalog.profile("eastron-sdm630")
        let line = FakeLine(devices: [1: sdm630Device(strict: false), 2: sdm630Device(strict: false)])
        let bus = BusWorker(name: "b", reader: line, sessions: [
            MeterSession(name: "fast", unit: 1, choice: .profile(sdm630), pollIntervalMillis: 1000),
            MeterSession(name: "slow", unit: 2, choice: .profile(sdm630), pollIntervalMillis: 5000),
        ])
        let clock = ManualClock(0)
        var count: [String: Int] = [:]
        for _ in 0..<10 {
            for polled in await bus.pollDueMeters(clock: clock) { count[polled.meter, default: 0] += 1 }
            clock.advance(millis: 1000)
        }
        #expect(count["fast"] == 10)
        #expect(count["slow"] == 2)
        #expect(await bus.nextDueMillis() == 10_000)
    }
}
