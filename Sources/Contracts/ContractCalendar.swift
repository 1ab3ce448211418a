public import YAMLConfiguration
/// Settlement intervals and billing periods in a contract's time zone.
///
/// **Intervals are aligned to the UTC epoch**: interval k is `[k·I, (k+1)·I)` in UTC
/// milliseconds, I = `intervalMillis`. Every offset the tz database uses today is a multiple of
/// 15 minutes, so these intervals are also aligned to local quarter-hours (and to local 5-,
/// 10-, 20-, 30- or 60-minute boundaries when the offset is a multiple of the interval). A zone
/// whose offset is not a multiple of the interval (60-minute intervals in Asia/Kolkata, UTC+05:30)
/// is refused when the calendar is made for a contract, and again at use by `checkAlignment`.
///
/// The time zone is asked only one question, its UTC offset at an instant (`UTCOffsetRules`).
/// Civil dates, weekdays, local midnights and month boundaries are integer arithmetic, so results
/// never depend on the process's locale or calendar settings.
///
/// ```swift
/// let calendar = try ContractCalendar(contract: contract)
/// let november = try calendar.period(id: "2026-11")        // local midnight Nov 1 … Dec 1
/// calendar.intervals(from: november.startMillis, to: november.endMillis).count   // 2880
/// calendar.localDate(atUTCMillis: november.startMillis)    // 2026-11-01, sun, minute 0
/// ```
public struct ContractCalendar: Sendable {
    /// The time zone's name as given, e.g. `"Europe/Vienna"`.
    public let timeZone: String
    /// The settlement interval in minutes, one of `allowedIntervalMinutes`.
    public let intervalMinutes: Int
    /// The settlement interval in milliseconds.
    public let intervalMillis: Int64
    /// Where UTC offsets come from.
    public let rules: any UTCOffsetRules

    /// The settlement intervals a contract may use, in minutes: each divides an hour, so
    /// intervals never straddle a local hour.
    public static let allowedIntervalMinutes = [5, 10, 15, 20, 30, 60]
    /// How far past the first instant `init(timeZone:intervalMinutes:checkingOffsetsFrom:)`
    /// samples a zone's offsets: 20 years, weekly.
    public static let offsetCheckYears = 20

    /// A calendar over injected offset rules, e.g. `FixedUTCOffset` in tests. Checks only that
    /// the interval is allowed; call `checkAlignment(atUTCMillis:)` for the offsets.
    public init(rules: any UTCOffsetRules, timeZone: String, intervalMinutes: Int) throws(ContractError) {
        guard Self.allowedIntervalMinutes.contains(intervalMinutes) else {
            throw .calendar(
                "settlementIntervalMinutes",
                "\(intervalMinutes) is not an allowed settlement interval (allowed: "
                    + Self.allowedIntervalMinutes.map(String.init).joined(separator: ", ") + " minutes)")
        }
        self.rules = rules
        self.timeZone = timeZone
        self.intervalMinutes = intervalMinutes
        self.intervalMillis = Int64(intervalMinutes) * CivilDate.millisPerMinute
    }

    /// The calendar of the IANA zone `timeZone` with `intervalMinutes`-minute intervals; refuses
    /// an unknown zone, and a zone whose offset, sampled weekly for `offsetCheckYears` years from
    /// `checkingOffsetsFrom` (UTC ms), is ever not a multiple of the interval.
    public init(timeZone: String, intervalMinutes: Int, checkingOffsetsFrom firstMillis: Int64) throws(ContractError) {
        guard let rules = TimeZoneOffsetRules(identifier: timeZone) else {
            throw .calendar("timeZone", Self.unknownZoneReason(timeZone))
        }
        try self.init(rules: rules, timeZone: timeZone, intervalMinutes: intervalMinutes)
        let week = 7 * CivilDate.millisPerDay
        let samples = Self.offsetCheckYears * 366 / 7 + 1
        for sample in 0...samples {
            try checkAlignment(atUTCMillis: firstMillis + Int64(sample) * week)
        }
    }

    /// The calendar of `contract`: its time zone and settlement interval, with the offsets
    /// checked from its `validFromMillis`.
    public init(contract: Contract) throws(ContractError) {
        try self.init(
            timeZone: contract.timeZone, intervalMinutes: contract.settlementIntervalMinutes,
            checkingOffsetsFrom: contract.validFromMillis)
    }

    static func unknownZoneReason(_ name: String) -> String {
        "unknown time zone '\(name)' (expected an IANA name such as Europe/Vienna or America/New_York)"
    }

    // MARK: Offsets

    /// The zone's offset from UTC at `millis`, in milliseconds.
    public func offsetMillis(atUTCMillis millis: Int64) -> Int64 {
        Int64(rules.offsetSeconds(atUTCMillis: millis)) * 1000
    }

    /// Throws when the zone's offset at `millis` is not a multiple of the interval, so that UTC-
    /// aligned intervals would not start on local interval boundaries there.
    public func checkAlignment(atUTCMillis millis: Int64) throws(ContractError) {
        let offset = offsetMillis(atUTCMillis: millis)
        guard offset % intervalMillis == 0 else {
            throw .calendar(
                "timeZone",
                "\(timeZone) is UTC\(Self.offsetText(offset)) at \(Self.timestampText(millis)), not a multiple of the "
                    + "\(intervalMinutes)-minute settlement interval, so intervals would not start on local "
                    + "\(intervalMinutes)-minute boundaries; choose an interval that divides the offset")
        }
    }

    // MARK: Intervals

    /// The start of the settlement interval holding `millis`: ⌊millis / I⌋·I.
    public func intervalStart(containing millis: Int64) -> Int64 {
        floorDivide(millis, intervalMillis) * intervalMillis
    }

    /// The settlement intervals that start in the half-open range `[from, to)`, as their start
    /// instants; empty when `to ≤ from`.
    public func intervals(from: Int64, to: Int64) -> SettlementIntervals {
        let first = ceilingDivide(from, intervalMillis) * intervalMillis
        let count = to > first ? ceilingDivide(to - first, intervalMillis) : 0
        return SettlementIntervals(firstStart: first, intervalMillis: intervalMillis, count: Int(count))
    }

    // MARK: Local dates

    /// The local date, weekday and minute of the day at the instant `millis`.
    public func localDate(atUTCMillis millis: Int64) -> LocalDateTime {
        let offset = offsetMillis(atUTCMillis: millis)
        let local = millis + offset
        let days = floorDivide(local, CivilDate.millisPerDay)
        let date = CivilDate.date(days: days)
        return LocalDateTime(
            year: Int(date.year), month: Int(date.month), day: Int(date.day), weekday: CivilDate.weekday(days: days),
            minuteOfDay: Int((local - days * CivilDate.millisPerDay) / CivilDate.millisPerMinute),
            offsetSeconds: Int(offset / 1000))
    }

    /// The first instant (UTC ms) of the local date `year-month-day`: usually local 00:00, or the
    /// end of a transition when a zone skips midnight. Throws for a date that does not exist.
    public func localMidnight(year: Int, month: Int, day: Int) throws(ContractError) -> Int64 {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CivilDate.daysInMonth(year: Int64(year), month: Int64(month))).contains(Int64(day))
        else {
            throw .calendar("date", "\(year)-\(month)-\(day) is not a date (years 1…9999)")
        }
        return firstInstant(onLocalDay: CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)))
    }

    /// The earliest UTC instant u whose local time u + offset(u) is at or after local midnight
    /// of day `days`.
    ///
    /// The offset is piecewise constant. The transitions within two days either side are found
    /// by sampling every six hours and bisecting to the second (tz transitions fall on whole
    /// seconds); within each constant piece local time increases with u, so the first piece with
    /// a solution holds the earliest one.
    func firstInstant(onLocalDay days: Int64) -> Int64 {
        let local = days * CivilDate.millisPerDay
        let hour: Int64 = 3600
        let low = floorDivide(local, 1000) - 48 * hour  // seconds
        let high = floorDivide(local, 1000) + 48 * hour
        func offset(_ second: Int64) -> Int64 { Int64(rules.offsetSeconds(atUTCMillis: second * 1000)) * 1000 }

        // Pieces as (first second, offset in ms), in time order.
        var pieces: [(start: Int64, offset: Int64)] = [(low, offset(low))]
        func bisect(_ a: Int64, _ offsetA: Int64, _ b: Int64, _ offsetB: Int64) {
            guard offsetA != offsetB else { return }
            if b - a == 1 {
                pieces.append((b, offsetB))
                return
            }
            let middle = a + (b - a) / 2
            let offsetMiddle = offset(middle)
            bisect(a, offsetA, middle, offsetMiddle)
            bisect(middle, offsetMiddle, b, offsetB)
        }
        var previous = low
        var previousOffset = pieces[0].offset
        while previous < high {
            let next = min(previous + 6 * hour, high)
            let nextOffset = offset(next)
            bisect(previous, previousOffset, next, nextOffset)
            (previous, previousOffset) = (next, nextOffset)
        }
        for (index, piece) in pieces.enumerated() {
            let start = piece.start * 1000
            let end = index + 1 < pieces.count ? pieces[index + 1].start * 1000 : Int64.max
            let candidate = max(start, local - piece.offset)
            if candidate < end { return candidate }
        }
        return local - (pieces.last?.offset ?? 0)
    }

    // MARK: Billing periods

    /// The billing period (a local calendar month) holding the instant `millis`.
    public func period(containing millis: Int64) -> BillingPeriod {
        let date = localDate(atUTCMillis: millis)
        return period(year: date.year, month: date.month)
    }

    /// The billing period with `id`, e.g. `"2026-11"`; throws for a malformed id.
    public func period(id: String) throws(ContractError) -> BillingPeriod {
        let (year, month) = try BillingPeriod.parseID(id)
        return period(year: year, month: month)
    }

    /// The billing period after `period`.
    public func period(after period: BillingPeriod) -> BillingPeriod {
        period.month == 12 ? self.period(year: period.year + 1, month: 1) : self.period(year: period.year, month: period.month + 1)
    }

    /// Local midnight of the 1st to local midnight of the next 1st; `year` is 1…9999 (checked by
    /// the callers: `parseID` and `localDate`'s range).
    func period(year: Int, month: Int) -> BillingPeriod {
        let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
        return BillingPeriod(
            year: year, month: month,
            startMillis: firstInstant(onLocalDay: CivilDate.days(year: Int64(year), month: Int64(month), day: 1)),
            endMillis: firstInstant(onLocalDay: CivilDate.days(year: Int64(nextYear), month: Int64(nextMonth), day: 1)))
    }

    // MARK: Text

    /// `+05:30`, `-05:00`, `+00:00`.
    static func offsetText(_ offsetMillis: Int64) -> String {
        let minutes = abs(offsetMillis) / CivilDate.millisPerMinute
        let seconds = abs(offsetMillis) / 1000 % 60
        var text = (offsetMillis < 0 ? "-" : "+") + twoDigits(minutes / 60) + ":" + twoDigits(minutes % 60)
        if seconds != 0 { text += ":" + twoDigits(seconds) }
        return text
    }

    /// `2026-11-01T00:00:00Z` (milliseconds when not zero).
    static func timestampText(_ millis: Int64) -> String {
        let days = floorDivide(millis, CivilDate.millisPerDay)
        let date = CivilDate.date(days: days)
        let ofDay = millis - days * CivilDate.millisPerDay
        var text = "\(date.year)-" + twoDigits(date.month) + "-" + twoDigits(date.day) + "T"
        text += twoDigits(ofDay / CivilDate.millisPerHour) + ":" + twoDigits(ofDay / CivilDate.millisPerMinute % 60) + ":"
        text += twoDigits(ofDay / 1000 % 60)
        if ofDay % 1000 != 0 {
            let milliseconds = ofDay % 1000
            text += "." + (milliseconds < 100 ? "0" : "") + (milliseconds < 10 ? "0" : "") + String(milliseconds)
        }
        return text + "Z"
    }
}

/// ⌈a / b⌉ for b > 0, without forming a + b − 1.
func ceilingDivide(_ a: Int64, _ b: Int64) -> Int64 {
    floorDivide(a, b) + (floorModulo(a, b) == 0 ? 0 : 1)
}

func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }

/// A local date and time of day in a contract's time zone.
public struct LocalDateTime: Sendable, Hashable, CustomStringConvertible {
    /// The local year (proleptic Gregorian).
    public let year: Int
    /// 1…12.
    public let month: Int
    /// 1…31.
    public let day: Int
    /// The local day of the week.
    public let weekday: Weekday
    /// Whole minutes since local midnight, 0…1439.
    public let minuteOfDay: Int
    /// The UTC offset that maps the instant to this local time, in seconds.
    public let offsetSeconds: Int

    /// A local date and time; not validated (the calendar makes them).
    public init(year: Int, month: Int, day: Int, weekday: Weekday, minuteOfDay: Int, offsetSeconds: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.weekday = weekday
        self.minuteOfDay = minuteOfDay
        self.offsetSeconds = offsetSeconds
    }

    /// `2026-11-01 sun 17:00 +01:00`.
    public var description: String {
        "\(year)-" + twoDigits(Int64(month)) + "-" + twoDigits(Int64(day)) + " \(weekday) "
            + twoDigits(Int64(minuteOfDay / 60)) + ":" + twoDigits(Int64(minuteOfDay % 60)) + " "
            + ContractCalendar.offsetText(Int64(offsetSeconds) * 1000)
    }
}

/// The start instants of consecutive settlement intervals (UTC ms), as a collection.
public struct SettlementIntervals: RandomAccessCollection, Sendable, Hashable {
    /// The first interval's start; meaningless when empty.
    public let firstStart: Int64
    /// The interval length in milliseconds.
    public let intervalMillis: Int64
    /// The number of intervals.
    public let count: Int

    /// `count` intervals of `intervalMillis` from `firstStart`.
    public init(firstStart: Int64, intervalMillis: Int64, count: Int) {
        self.firstStart = firstStart
        self.intervalMillis = intervalMillis
        self.count = count
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// `count`.
    public var endIndex: Int { count }
    /// The start of interval `position`.
    public subscript(position: Int) -> Int64 { firstStart + Int64(position) * intervalMillis }
}
