/// The local clock the household profile follows: H0 describes days and quarter hours of local
/// time, so an evening peak stays at 19:00 on the wall clock across the change to summer time.
///
/// ```swift
/// LocalClock.centralEuropean.offsetMinutes(atMillis: 1_780_272_000_000)        // 120 (CEST)
/// LocalClock.centralEuropean.localMidnightMillis(year: 2026, month: 6, day: 1)  // 1_780_264_800_000
/// ```
public enum LocalClock: Sendable, Hashable {
    /// A fixed offset from UTC in minutes (east positive), −840…840, a multiple of 15.
    case fixed(offsetMinutes: Int)
    /// Central European Time, UTC+1, with summer time UTC+2 from 01:00 UTC on the last Sunday of
    /// March to 01:00 UTC on the last Sunday of October (EU Directive 2000/84/EC).
    case centralEuropean

    /// UTC itself.
    public static let utc = LocalClock.fixed(offsetMinutes: 0)

    /// The offset from UTC, in minutes, in force at the UTC instant `millis`.
    public func offsetMinutes(atMillis millis: Int64) -> Int {
        switch self {
        case .fixed(let offset):
            return offset
        case .centralEuropean:
            let day = Int(floorDivide(millis, CivilDate.millisPerDay))
            let year = CivilDate.date(days: day).year
            let start = Int64(Self.lastSunday(year: year, month: 3)) * CivilDate.millisPerDay + 3_600_000
            let end = Int64(Self.lastSunday(year: year, month: 10)) * CivilDate.millisPerDay + 3_600_000
            return millis >= start && millis < end ? 120 : 60
        }
    }

    /// The UTC instant of local midnight starting a date (these clocks never skip or repeat
    /// midnight).
    public func localMidnightMillis(year: Int, month: Int, day: Int) -> Int64 {
        utcMillis(localMillis: Int64(CivilDate.days(year: year, month: month, day: day)) * CivilDate.millisPerDay)
    }

    /// The UTC instant at which the local clock reads `localMillis` (milliseconds since
    /// 1970-01-01T00:00 on the local clock). A time repeated when summer time ends gives the first
    /// of the two instants; a time skipped when it starts gives the instant an hour later on the
    /// clock.
    public func utcMillis(localMillis: Int64) -> Int64 {
        switch self {
        case .fixed(let offset):
            return localMillis - Int64(offset) * 60_000
        case .centralEuropean:
            for offset in [120, 60] where offsetMinutes(atMillis: localMillis - Int64(offset) * 60_000) == offset {
                return localMillis - Int64(offset) * 60_000
            }
            return localMillis - 3_600_000
        }
    }

    /// What the local clock reads at the UTC instant `millis`.
    public func localMillis(atMillis millis: Int64) -> Int64 {
        millis + Int64(offsetMinutes(atMillis: millis)) * 60_000
    }

    /// Whether the clock is usable: a fixed offset within ±14 h and a multiple of 15 minutes.
    var problem: String? {
        guard case .fixed(let offset) = self else { return nil }
        guard (-840...840).contains(offset), offset % 15 == 0 else {
            return "offset \(offset) minutes: must be a multiple of 15 minutes within ±14:00"
        }
        return nil
    }

    static func lastSunday(year: Int, month: Int) -> Int {
        let last = CivilDate.days(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month))
        return last - CivilDate.weekday(days: last)
    }
}

func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
