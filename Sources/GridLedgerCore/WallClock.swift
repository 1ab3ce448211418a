/// A source of wall-clock time in UTC milliseconds, injected wherever a capture time is taken so
/// that tests (and trace replay) control time.
public protocol WallClock: Sendable {
    func nowMillis() -> Int64

    /// Waits until the clock reads `millis` or later, or until `limit` of real time has passed,
    /// whichever comes first; returns early when the task is cancelled. Loops that wait for a due
    /// time (the poller) sleep through this, so a clock that jumps (trace replay) wakes them when
    /// it gets there instead of after a real-time sleep.
    func sleep(untilMillis millis: Int64, limit: Duration) async
}

extension WallClock {
    /// Sleeps in real time for the distance to `millis` as this clock reads it now, at most `limit`.
    public func sleep(untilMillis millis: Int64, limit: Duration) async {
        let wait = min(Duration.milliseconds(max(0, millis - nowMillis())), limit)
        guard wait > .zero else { return }
        try? await Task.sleep(for: wait)
    }
}
