public import BillingCore

/// What the settlement runner needs of a contract (``Contracts/Contract`` conforms).
public protocol SettlementTerms: Sendable {
    /// SHA-256 of the contract document: its identity in settlement records.
    var hash: [UInt8] { get }
    var contractID: String { get }
    var version: Int { get }
    /// First instant the contract applies (UTC ms).
    var validFromMillis: Int64 { get }
    var intervalMillis: Int64 { get }
    var mechanism: Mechanism { get }
    /// The members it settles; `nil`: every prosumer and consumer with a grid meter.
    var memberIDs: [String]? { get }
    /// How long after an interval's end a meter that has not reported is estimated.
    var estimateAfterMillis: Int64 { get }
    /// The tariff of the interval starting at `millis` (time-of-use windows resolved).
    func tariff(forIntervalStartingAt millis: Int64) throws -> IntervalTariff
}

/// One meter reading's registers as the settlement needs them.
public struct MeterSample: Sendable, Hashable {
    public var meterID: String
    public var counters: CounterSample

    public init(meterID: String, counters: CounterSample) {
        self.meterID = meterID
        self.counters = counters
    }
}

/// Why an interval could not be settled (recorded by the runner, reported by the aggregator's
/// log and the verifier alike: the chain then has no settlement for it).
public struct SettlementFailure: Sendable, Hashable, CustomStringConvertible {
    public var intervalStartMillis: Int64
    public var reason: String

    public var description: String { "interval starting \(intervalStartMillis): \(reason)" }
}
