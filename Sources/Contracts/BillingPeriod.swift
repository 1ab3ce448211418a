public import YAMLConfiguration
/// One billing period: a calendar month in the contract's time zone, from local midnight of
/// the 1st (inclusive) to local midnight of the next month's 1st (exclusive), in UTC ms.
///
/// ```swift
/// let november = try BillingPeriod(id: "2026-11", calendar: calendar)
/// november.startMillis   // 2026-10-31T23:00:00Z in Europe/Vienna
/// november.endMillis     // 2026-11-30T23:00:00Z
/// ```
public struct BillingPeriod: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The calendar year, 1…9999.
    public let year: Int
    /// The month, 1…12.
    public let month: Int
    /// The first instant of the period (UTC ms).
    public let startMillis: Int64
    /// The first instant after the period (UTC ms).
    public let endMillis: Int64

    init(year: Int, month: Int, startMillis: Int64, endMillis: Int64) {
        self.year = year
        self.month = month
        self.startMillis = startMillis
        self.endMillis = endMillis
    }

    /// The period `id` (`"YYYY-MM"`, e.g. `"2026-11"`) in `calendar`'s time zone; throws with
    /// the reason for a malformed id.
    public init(id: String, calendar: ContractCalendar) throws(ContractError) {
        self = try calendar.period(id: id)
    }

    /// `"YYYY-MM"`, e.g. `"2026-11"`: sorts like the periods themselves.
    public var id: String {
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + twoDigits(Int64(month))
    }

    /// The id, e.g. `"2026-11"`.
    public var description: String { id }

    /// Checks and splits a period id: exactly four digits of year (0001…9999), `-`, and two
    /// digits of month (01…12).
    public static func parseID(_ id: String) throws(ContractError) -> (year: Int, month: Int) {
        let bytes = Array(id.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"), let year = digits(0..<4), let month = digits(5..<7) else {
            throw .calendar("billingPeriod", "'\(id)' is not a billing period id: expected YYYY-MM, e.g. 2026-11")
        }
        guard year >= 1 else { throw .calendar("billingPeriod", "'\(id)': year 0000 does not exist (0001…9999)") }
        guard (1...12).contains(month) else {
            throw .calendar("billingPeriod", "'\(id)': month \(month) is not 01…12")
        }
        return (year, month)
    }

    /// Every instant the period `id` covers in some time zone (UTC−12 … UTC+14): where to look
    /// for its settlements before the contract, and with it the time zone, is known.
    public static func widestBounds(id: String) throws(ContractError) -> Range<Int64> {
        let (year, month) = try parseID(id)
        let next = month == 12 ? (year + 1, 1) : (year, month + 1)
        let start = CivilDate.days(year: Int64(year), month: Int64(month), day: 1) * CivilDate.millisPerDay
        let end = CivilDate.days(year: Int64(next.0), month: Int64(next.1), day: 1) * CivilDate.millisPerDay
        return (start - 14 * CivilDate.millisPerHour)..<(end + 12 * CivilDate.millisPerHour)
    }

    /// Orders by start.
    public static func < (lhs: BillingPeriod, rhs: BillingPeriod) -> Bool {
        (lhs.year, lhs.month, lhs.startMillis) < (rhs.year, rhs.month, rhs.startMillis)
    }
}
