import GridLedgerCore
import Testing
import TraceReplay

@Suite struct ReplayClockTests {
    @Test func aSleeperWakesWhenTheClockReachesItsTimeNotBefore() async {
        let clock = ReplayClock(startMillis: 1000)
        let woke = Task { await clock.sleep(untilMillis: 5000, limit: .seconds(1)); return clock.nowMillis() }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(toMillis: 4999)
        #expect(clock.sleeperCount == 1, "not due yet")
        clock.advance(toMillis: 5000)
        #expect(await woke.value == 5000)
        #expect(clock.sleeperCount == 0)
    }

    @Test func aSleepAlreadyDueReturnsAtOnce() async {
        let clock = ReplayClock(startMillis: 7000)
        await clock.sleep(untilMillis: 7000, limit: .seconds(1))
        await clock.sleep(untilMillis: 10, limit: .seconds(1))
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingASleeperWakesIt() async {
        let clock = ReplayClock(startMillis: 0)
        let sleeper = Task { await clock.sleep(untilMillis: 1_000_000, limit: .seconds(1)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        sleeper.cancel()
        await sleeper.value
        #expect(clock.sleeperCount == 0)
        #expect(clock.nowMillis() == 0)
    }

    @Test func theClockNeverGoesBack() {
        let clock = ReplayClock(startMillis: 100)
        clock.advance(toMillis: 50)
        #expect(clock.nowMillis() == 100)
        clock.advance(toMillis: 200)
        #expect(clock.nowMillis() == 200)
    }
}
