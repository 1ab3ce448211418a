/// A source of wall-clock time in UTC milliseconds, injected wherever a capture time is taken so
/// that tests (and trace replay) control time.
public protocol WallClock: Sendable {
    func nowMillis() -> Int64
}

