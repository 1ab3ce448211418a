/// Capped exponential backoff for a meter that stopped answering, in milliseconds of an
/// injected clock. Pure: the poller asks `isDue(at:)` and reports outcomes.
public struct Backoff: Sendable, Hashable {
    public var initialDelayMillis: Int64
    public var maximumDelayMillis: Int64
    public private(set) var consecutiveFailures = 0
    public private(set) var nextAttemptMillis: Int64 = .min

    public init(initialDelayMillis: Int64 = 1_000, maximumDelayMillis: Int64 = 60_000) {
        precondition(initialDelayMillis > 0 && maximumDelayMillis >= initialDelayMillis)
        self.initialDelayMillis = initialDelayMillis
        self.maximumDelayMillis = maximumDelayMillis
    }

    public func isDue(at nowMillis: Int64) -> Bool { nowMillis >= nextAttemptMillis }

    /// The delay after the current number of failures: initial · 2^(n−1), capped.
    public var currentDelayMillis: Int64 {
        guard consecutiveFailures > 0 else { return 0 }
        let doublings = min(consecutiveFailures - 1, 40)
        let delay = initialDelayMillis.multipliedReportingOverflow(by: Int64(1) << doublings)
        return delay.overflow ? maximumDelayMillis : min(delay.partialValue, maximumDelayMillis)
    }

    public mutating func recordFailure(at nowMillis: Int64) {
        consecutiveFailures += 1
        nextAttemptMillis = nowMillis + currentDelayMillis
    }

    public mutating func recordSuccess() {
        consecutiveFailures = 0
        nextAttemptMillis = .min
    }
}
