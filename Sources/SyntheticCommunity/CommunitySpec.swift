import Traces

/// What to generate: how many households, which of them with PV and batteries, when, how finely,
/// and where (for the sun). The same spec gives the same trace, byte for byte (docs/COMMUNITY.md).
///
/// ```swift
/// let spec = CommunitySpec(
///     seed: 42, households: 10, pvHouseholds: 4, batteries: 2,
///     startMillis: LocalClock.centralEuropean.localMidnightMillis(year: 2026, month: 6, day: 1), days: 1)
/// let trace = try generateCommunity(spec)
/// trace.samples.count  // 970: 10 grid meters × 97 instants (00:00 … 24:00)
/// ```
public struct CommunitySpec: Sendable, Hashable {
    /// Seeds every random choice and all noise.
    public var seed: UInt64
    /// Households (one grid meter each), 1…10 000.
    public var households: Int
    /// Households with rooftop PV, 0…`households`, chosen from the seed.
    public var pvHouseholds: Int
    /// PV households that also have a battery, 0…`pvHouseholds`.
    public var batteries: Int
    /// First instant, UTC milliseconds, a multiple of the resolution (usually a local midnight:
    /// `LocalClock.localMidnightMillis`).
    public var startMillis: Int64
    /// Length of the trace in local days, 1…366: it ends when the local clock reads the start's
    /// time `days` later (23 or 25 hours for a day with a clock change).
    public var days: Int
    /// Step between samples: 1, 5 or 15 minutes.
    public var resolutionMinutes: Int
    /// Latitude, degrees north (−90…90), for the sun's path.
    public var latitude: Double
    /// Longitude, degrees east (−180…180), for the time of solar noon.
    public var longitude: Double
    /// The local clock the household profile follows.
    public var clock: LocalClock
    /// Public holidays that take the Sunday profile.
    public var holidays: H0Profile.Holidays
    /// Whether each PV household also gets a generation meter `hNN:pv`.
    public var pvMeters: Bool
    /// Whether loads and clouds are noisy; off gives the bare H0 profile (with dynamisation) and a
    /// clear sky every day, for checks.
    public var noise: Bool

    /// Vienna, the default site: 48.2° N.
    public static let defaultLatitude = 48.2
    /// Vienna, the default site: 16.4° E.
    public static let defaultLongitude = 16.4
    /// The accepted household counts.
    public static let householdRange = 1...10_000
    /// The accepted lengths in days.
    public static let dayRange = 1...366
    /// The accepted resolutions in minutes.
    public static let resolutions = [1, 5, 15]

    public init(
        seed: UInt64, households: Int, pvHouseholds: Int = 0, batteries: Int = 0, startMillis: Int64, days: Int = 1,
        resolutionMinutes: Int = 15, latitude: Double = defaultLatitude, longitude: Double = defaultLongitude,
        clock: LocalClock = .centralEuropean, holidays: H0Profile.Holidays = .germany, pvMeters: Bool = false, noise: Bool = true
    ) {
        self.seed = seed
        self.households = households
        self.pvHouseholds = pvHouseholds
        self.batteries = batteries
        self.startMillis = startMillis
        self.days = days
        self.resolutionMinutes = resolutionMinutes
        self.latitude = latitude
        self.longitude = longitude
        self.clock = clock
        self.holidays = holidays
        self.pvMeters = pvMeters
        self.noise = noise
    }

    /// The last instant, UTC milliseconds: the start's local time, `days` later.
    public var endMillis: Int64 {
        clock.utcMillis(localMillis: clock.localMillis(atMillis: startMillis) + Int64(days) * 86_400_000)
    }

    /// Steps of `resolutionMinutes` in the trace.
    public var stepCount: Int { Int((endMillis - startMillis) / (Int64(resolutionMinutes) * 60_000)) }

    /// Meters in the trace: one per household, plus one per PV household with `pvMeters`.
    public var meterCount: Int { households + (pvMeters ? pvHouseholds : 0) }

    /// Rows of the trace: every meter at the start and after every step.
    public var rowCount: Int { meterCount * (stepCount + 1) }

    /// Refuses a spec outside the documented bounds, naming the field.
    public func validate() throws(CommunityError) {
        func check(_ condition: Bool, _ field: String, _ reason: @autoclosure () -> String) throws(CommunityError) {
            if !condition { throw CommunityError(field: field, reason: reason()) }
        }
        try check(Self.householdRange.contains(households), "households", "\(households) is not in 1…10000")
        try check((0...households).contains(pvHouseholds), "pv", "\(pvHouseholds) PV households: must be 0…\(households) (the number of households)")
        try check((0...pvHouseholds).contains(batteries), "batteries", "\(batteries) batteries: must be 0…\(pvHouseholds) (batteries go to PV households)")
        try check(Self.dayRange.contains(days), "days", "\(days) is not in 1…366")
        try check(Self.resolutions.contains(resolutionMinutes), "resolution", "\(resolutionMinutes) minutes: must be 1, 5 or 15")
        try check(latitude.isFinite && (-90...90).contains(latitude), "latitude", "\(latitude) is not in −90…90 degrees")
        try check(longitude.isFinite && (-180...180).contains(longitude), "longitude", "\(longitude) is not in −180…180 degrees")
        if let problem = clock.problem { throw CommunityError(field: "clock", reason: problem) }
        let stepMillis = Int64(resolutionMinutes) * 60_000
        try check(startMillis >= TraceTime.earliestMillis && startMillis <= TraceTime.latestMillis - Int64(Self.dayRange.upperBound) * 86_400_000,
                  "start", "\(startMillis) ms is outside 1970…9998")
        try check(startMillis % stepMillis == 0, "start", "\(TraceTime.text(millis: startMillis)) is not on a \(resolutionMinutes)-minute boundary")
        try check((endMillis - startMillis) % stepMillis == 0, "start", "the span from \(TraceTime.text(millis: startMillis)) to \(TraceTime.text(millis: endMillis)) is not a whole number of \(resolutionMinutes)-minute steps")
        let limit = TraceLimits.trace.maximumRows
        try check(rowCount <= limit, "size",
                  "the trace would have \(rowCount) rows (\(meterCount) meters × \(stepCount + 1) instants), more than the trace format's \(limit): fewer households or days, or a coarser resolution")
    }
}

/// Why a spec was refused: the field (`households`, `pv`, `batteries`, `days`, `resolution`,
/// `latitude`, `longitude`, `clock`, `start`, `size`) and the reason.
public struct CommunityError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
