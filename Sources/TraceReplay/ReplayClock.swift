public import GridLedgerCore
import Synchronization

/// The virtual clock of a replay: it reads the trace's time and moves only when the replay
/// advances it, one poll step at a time. Within a step time stands still, so every meter polled
/// in the step is read at exactly the step's instant, and a run gives the same readings whatever
/// the machine's speed. Everything of the pipeline that takes a capture or block time (simulated
/// meters, agents, aggregator) reads this one clock.
///
/// Sleepers (the agents' pollers) wake when the clock reaches their due time or their task is
/// cancelled; the real-time `limit` does not apply, because real time says nothing about when
/// the replay will move on.
public final class ReplayClock: WallClock {
    private struct Sleeper {
        var untilMillis: Int64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var nowMillis: Int64
        var nextToken = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state: Mutex<State>

    public init(startMillis: Int64) {
        state = Mutex(State(nowMillis: startMillis))
    }

    public func nowMillis() -> Int64 { state.withLock { $0.nowMillis } }

    /// Moves the clock to `millis` (never back) and wakes every sleeper due by then.
    public func advance(toMillis millis: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.nowMillis = max(state.nowMillis, millis)
            let now = state.nowMillis
            let due = state.sleepers.filter { $0.value.untilMillis <= now }
            for token in due.keys { state.sleepers[token] = nil }
            return due.map(\.value.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(untilMillis millis: Int64, limit: Duration) async {
        let token = state.withLock { state -> Int in
            state.nextToken += 1
            return state.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.nowMillis >= millis || Task.isCancelled { return true }
                    state.sleepers[token] = Sleeper(untilMillis: millis, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: token) }
            sleeper?.continuation.resume()
        }
    }
}
