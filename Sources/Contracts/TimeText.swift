/// `"HH:MM"` as minutes after midnight, `"24:00"` as 1440; `nil` for anything else.
func minutesOfDay(_ text: String) -> Int? {
    let bytes = Array(text.utf8)
    guard bytes.count == 5, bytes[2] == UInt8(ascii: ":") else { return nil }
    func digit(_ index: Int) -> Int? {
        let byte = bytes[index]
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }
    guard let h1 = digit(0), let h2 = digit(1), let m1 = digit(3), let m2 = digit(4) else { return nil }
    let hours = h1 * 10 + h2
    let minutes = m1 * 10 + m2
    if hours == 24, minutes == 0 { return 1440 }
    guard hours < 24, minutes < 60 else { return nil }
    return hours * 60 + minutes
}

/// An RFC 3339 timestamp with an offset (`Z` or `±HH:MM`) and at most millisecond precision, as
/// UTC milliseconds, or why not.
func rfc3339Millis(_ text: String) throws(Refusal) -> Int64 {
    let bytes = Array(text.utf8)
    let general = "'\(text)' is not an RFC 3339 timestamp with an offset, e.g. 2026-11-01T00:00:00+01:00 or 2026-10-31T23:00:00Z"
    func number(_ range: Range<Int>) -> Int64? {
        guard range.upperBound <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[range] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
    func byte(_ index: Int, is characters: String) -> Bool {
        index < bytes.count && characters.utf8.contains(bytes[index])
    }
    guard let year = number(0..<4), byte(4, is: "-"), let month = number(5..<7), byte(7, is: "-"),
        let day = number(8..<10), byte(10, is: "Tt"), let hour = number(11..<13), byte(13, is: ":"),
        let minute = number(14..<16), byte(16, is: ":"), let second = number(17..<19)
    else { throw Refusal(general) }
    var index = 19
    var millis: Int64 = 0
    if byte(index, is: ".") {
        index += 1
        var digits = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            digits += 1
            if digits <= 3 {
                millis = millis * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            } else {
                throw Refusal("'\(text)' is more precise than a millisecond (at most 3 fractional digits of a second)")
            }
            index += 1
        }
        guard digits > 0 else { throw Refusal(general) }
        for _ in digits..<3 { millis *= 10 }
    }
    var offsetMinutes: Int64 = 0
    if byte(index, is: "Zz"), index + 1 == bytes.count {
        offsetMinutes = 0
    } else if byte(index, is: "+-"), index + 6 == bytes.count, let offsetHours = number(index + 1..<index + 3),
        byte(index + 3, is: ":"), let offsetMinute = number(index + 4..<index + 6)
    {
        guard offsetHours <= 23, offsetMinute <= 59 else { throw Refusal("'\(text)' has an offset out of range") }
        offsetMinutes = (offsetHours * 60 + offsetMinute) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
    } else {
        throw Refusal(general)
    }
    guard year >= 1, (1...12).contains(month), (1...CivilDate.daysInMonth(year: year, month: month)).contains(day) else {
        throw Refusal("'\(text)': \(String(text.prefix(10))) is not a calendar date")
    }
    guard hour <= 23, minute <= 59 else { throw Refusal("'\(text)': the time of day is out of range") }
    guard second <= 59 else { throw Refusal("'\(text)': leap seconds (:60) are not supported") }
    let days = CivilDate.days(year: year, month: month, day: day)
    let local = days * CivilDate.millisPerDay + hour * CivilDate.millisPerHour + minute * CivilDate.millisPerMinute
        + second * 1000 + millis
    return local - offsetMinutes * CivilDate.millisPerMinute
}

/// Why a piece of text was refused, to be attached to the node it came from.
struct Refusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
