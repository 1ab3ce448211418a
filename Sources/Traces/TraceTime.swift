/// RFC 3339 timestamps as UTC milliseconds, and back.
///
/// ```swift
/// TraceTime.millis(rfc3339: "2026-06-01T02:15:00+02:00")  // 1_780_272_900_000
/// TraceTime.text(millis: 1_780_272_900_000)              // "2026-06-01T00:15:00Z"
/// ```
public enum TraceTime {
    /// 1970-01-01T00:00:00Z, the earliest instant a trace holds.
    public static let earliestMillis: Int64 = 0
    /// 9999-12-31T23:59:59.999Z, the latest instant a trace holds.
    public static let latestMillis: Int64 = 253_402_300_799_999

    /// `millis` as RFC 3339 in UTC: `2026-06-01T00:15:00Z`, with `.250` milliseconds only when
    /// they are not zero. Instants outside 1970…9999 are clamped.
    public static func text(millis: Int64) -> String {
        let clamped = min(max(millis, earliestMillis), latestMillis)
        let days = clamped / millisPerDay
        var rest = clamped % millisPerDay
        let (year, month, day) = civil(fromDays: days)
        let hour = rest / 3_600_000
        rest %= 3_600_000
        let minute = rest / 60_000
        rest %= 60_000
        let second = rest / 1000
        let milli = rest % 1000
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if milli != 0 { text += ".\(pad(milli, 3))" }
        return text + "Z"
    }

    /// An RFC 3339 timestamp (`Z` or a `±HH:MM` offset, at most 3 fractional digits of a second)
    /// as UTC milliseconds; nil when it is not one or lies outside 1970…9999.
    public static func millis(rfc3339 text: String) -> Int64? {
        try? parse(Array(text.utf8)[...], compactOffset: false)
    }

    static let millisPerDay: Int64 = 86_400_000

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)`; with `compactOffset` also `±HHMM` (the
    /// local column of Open Power System Data files).
    static func parse(_ bytes: ArraySlice<UInt8>, compactOffset: Bool) throws(Refusal) -> Int64 {
        // Offsets from the start of the field, without copying it.
        let b = FieldBytes(bytes)
        let general = "\(shown(bytes)) is not an RFC 3339 timestamp such as 2026-06-01T00:15:00Z or 2026-06-01T02:15:00+02:00"
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[(bytes.startIndex + range.lowerBound)..<(bytes.startIndex + range.upperBound)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is characters: String) -> Bool {
            index < b.count && characters.utf8.contains(b[index])
        }
        guard let year = number(0..<4), byte(4, is: "-"), let month = number(5..<7), byte(7, is: "-"),
            let day = number(8..<10), byte(10, is: "Tt"), let hour = number(11..<13), byte(13, is: ":"),
            let minute = number(14..<16), byte(16, is: ":"), let second = number(17..<19)
        else { throw Refusal(general) }
        var index = 19
        var milli: Int64 = 0
        if byte(index, is: ".") {
            index += 1
            var digits = 0
            while index < b.count, b[index] >= UInt8(ascii: "0"), b[index] <= UInt8(ascii: "9") {
                digits += 1
                guard digits <= 3 else {
                    throw Refusal("\(shown(bytes)) is more precise than a millisecond (at most 3 fractional digits)")
                }
                milli = milli * 10 + Int64(b[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard digits > 0 else { throw Refusal(general) }
            for _ in digits..<3 { milli *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if byte(index, is: "Zz"), index + 1 == b.count {
            offsetMinutes = 0
        } else if byte(index, is: "+-") {
            let hours: Int64?
            let minutes: Int64?
            if index + 6 == b.count, byte(index + 3, is: ":") {
                hours = number(index + 1..<index + 3)
                minutes = number(index + 4..<index + 6)
            } else if compactOffset, index + 5 == b.count {
                hours = number(index + 1..<index + 3)
                minutes = number(index + 3..<index + 5)
            } else {
                throw Refusal(general)
            }
            guard let hours, let minutes else { throw Refusal(general) }
            guard hours <= 23, minutes <= 59 else { throw Refusal("\(shown(bytes)) has an offset out of range") }
            offsetMinutes = (hours * 60 + minutes) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            throw Refusal(general)
        }
        guard year >= 1, (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day) else {
            throw Refusal("\(shown(bytes)): \(String(decoding: bytes.prefix(10), as: UTF8.self)) is not a calendar date")
        }
        guard hour <= 23, minute <= 59 else { throw Refusal("\(shown(bytes)): the time of day is out of range") }
        guard second <= 59 else { throw Refusal("\(shown(bytes)): leap seconds (:60) are not supported") }
        let local = days(year: year, month: month, day: day) * millisPerDay + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli
        let utc = local - offsetMinutes * 60_000
        guard utc >= earliestMillis, utc <= latestMillis else {
            throw Refusal("\(shown(bytes)) is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z")
        }
        return utc
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A field's bytes indexed from 0.
    struct FieldBytes {
        let bytes: ArraySlice<UInt8>
        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
        var count: Int { bytes.count }
        subscript(index: Int) -> UInt8 { bytes[bytes.startIndex + index] }
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
