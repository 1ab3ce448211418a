public import LedgerCore
public import Traces

/// Who is who in a replay, taken from a trace's meter ids, and which instants are replayed.
///
/// A meter id `<household>:<name>` (as `gridledger community generate` and the importers write
/// them, e.g. `h01:grid`, `h01:pv`) becomes meter `name` of household `household`; every
/// household is one community member with one gateway of the same id. A meter id without `:` is a
/// household with a single meter named `grid`. The meter's role is its name when that is `grid`,
/// `pv`, `battery` or `load`, and `grid` otherwise.
///
/// The replay moves the clock in steps of `stepMillis` from `fromMillis` to `toMillis` (both
/// included); every meter is polled once per step, at the step's instant.
public struct ReplayPlan: Sendable {
    public struct Meter: Sendable, Hashable {
        /// The meter's id in the trace.
        public var traceID: String
        /// Its name at its gateway: the bus it is on (one simulated device per bus).
        public var name: String
        public var role: MeterRole
        public var samples: [TraceSample]
    }

    public struct Household: Sendable, Hashable {
        /// Member id and gateway id alike.
        public var id: String
        public var meters: [Meter]
    }

    public var households: [Household]
    public var fromMillis: Int64
    public var toMillis: Int64
    public var stepMillis: Int64

    public var meterCount: Int { households.reduce(0) { $0 + $1.meters.count } }
    /// Steps of the replay, the first at `fromMillis` and the last at `toMillis`.
    public var stepCount: Int { Int((toMillis - fromMillis) / stepMillis) + 1 }

    /// Bounds that keep a replay within what one process can run: about 9 descriptors per
    /// household, all below 1024 because libmodbus and libmosquitto wait with select().
    public static let maximumHouseholds = 100
    public static let maximumMeters = 1000
    public static let maximumSteps = 1_000_000
    public static let smallestStepMillis: Int64 = 1000

    /// - Parameters:
    ///   - fromMillis: first replayed instant; default the trace's first sample.
    ///   - toMillis: last replayed instant; default the trace's last sample. Moved back onto the
    ///     step grid that starts at `fromMillis`.
    ///   - stepMillis: poll step; default the trace's resolution (the shortest distance between
    ///     two samples of one meter).
    public init(trace: ParsedTrace, fromMillis: Int64? = nil, toMillis: Int64? = nil, stepMillis: Int64? = nil) throws(ReplayError) {
        guard let span = trace.span, !trace.samples.isEmpty else { throw ReplayError("the trace has no samples") }
        var byMeter: [String: [TraceSample]] = [:]
        for sample in trace.samples { byMeter[sample.meterID, default: []].append(sample) }
        guard byMeter.count <= Self.maximumMeters else {
            throw ReplayError("the trace has \(byMeter.count) meters; a replay runs at most \(Self.maximumMeters)")
        }

        let step = stepMillis ?? Self.resolution(of: byMeter)
        guard step >= Self.smallestStepMillis else {
            throw ReplayError("the poll step must be at least \(Self.smallestStepMillis / 1000) s (the trace's resolution is \(step) ms; give --step)")
        }
        let from = fromMillis ?? span.lowerBound
        let requestedTo = toMillis ?? span.upperBound
        guard requestedTo >= from else {
            throw ReplayError("the replay would end (\(TraceTime.text(millis: requestedTo))) before it starts (\(TraceTime.text(millis: from)))")
        }
        guard from <= span.upperBound, requestedTo >= span.lowerBound else {
            throw ReplayError("\(TraceTime.text(millis: from)) … \(TraceTime.text(millis: requestedTo)) is outside the trace (\(TraceTime.text(millis: span.lowerBound)) … \(TraceTime.text(millis: span.upperBound)))")
        }
        let steps = (requestedTo - from) / step
        guard steps < Int64(Self.maximumSteps) else {
            throw ReplayError("\(steps + 1) steps of \(step / 1000) s; a replay runs at most \(Self.maximumSteps) (shorten it with --from/--to or take a longer --step)")
        }

        var households: [String: [Meter]] = [:]
        for (traceID, samples) in byMeter {
            let (household, name) = Self.split(traceID)
            households[household, default: []].append(Meter(traceID: traceID, name: name, role: MeterRole(rawValue: name) ?? .grid, samples: samples))
        }
        guard households.count <= Self.maximumHouseholds else {
            throw ReplayError("the trace has \(households.count) households; one replay runs at most \(Self.maximumHouseholds) (libmodbus and libmosquitto wait with select(), which cannot watch more than 1024 descriptors in one process)")
        }
        for (household, meters) in households {
            guard meters.count <= 16 else { throw ReplayError("household '\(household)' has \(meters.count) meters; at most 16") }
            let names = meters.map(\.name)
            guard Set(names).count == names.count else { throw ReplayError("household '\(household)' has two meters named the same after ':' was replaced") }
        }
        self.households = households.map { Household(id: $0.key, meters: $0.value.sorted { $0.name < $1.name }) }.sorted { $0.id < $1.id }
        self.fromMillis = from
        self.toMillis = from + steps * step
        self.stepMillis = step
    }

    /// `h01:grid` → (`h01`, `grid`); `pv-1` → (`pv-1`, `grid`); further colons in the name
    /// become `.` (a bus name is one part of the meter id).
    static func split(_ traceID: String) -> (household: String, name: String) {
        guard let colon = traceID.firstIndex(of: ":") else { return (traceID, "grid") }
        let household = String(traceID[..<colon])
        let name = String(traceID[traceID.index(after: colon)...]).replacingColons()
        return (household.isEmpty ? "household" : household, name.isEmpty ? "grid" : name)
    }

    /// The shortest distance between two consecutive samples of one meter.
    static func resolution(of byMeter: [String: [TraceSample]]) -> Int64 {
        var shortest = Int64.max
        for samples in byMeter.values {
            for (a, b) in zip(samples, samples.dropFirst()) { shortest = min(shortest, b.millis - a.millis) }
        }
        return shortest == .max ? 900_000 : shortest
    }

    /// Meters whose trace starts after the replay does: their registers stand at their first
    /// sample until it comes (worth a warning).
    public var metersStartingLate: [String] {
        households.flatMap(\.meters).filter { ($0.samples.first?.millis ?? .max) > fromMillis }.map(\.traceID).sorted()
    }
}

extension String {
    fileprivate func replacingColons() -> String { String(map { $0 == ":" ? "." : $0 }) }
}

/// Why a replay cannot start or did not finish, in one line.
public struct ReplayError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
