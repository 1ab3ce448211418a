import Foundation

/// The offset of a time zone from UTC at a given instant: the one question `ContractCalendar`
/// asks of a time zone. Everything else (civil dates, weekdays, month boundaries) is integer
/// arithmetic in `ContractCalendar`.
///
/// Tests inject `FixedUTCOffset`; contracts use `TimeZoneOffsetRules`.
public protocol UTCOffsetRules: Sendable {
    /// Seconds to add to UTC to get local time at the instant `millis` (ms since 1970-01-01
    /// UTC), e.g. 3600 for Vienna in winter, 7200 in summer, −18000 for New York in winter.
    func offsetSeconds(atUTCMillis millis: Int64) -> Int
}

/// A zone that is always `seconds` ahead of UTC (negative: behind).
///
/// ```swift
/// let calendar = try ContractCalendar(rules: FixedUTCOffset(seconds: 3600), timeZone: "UTC+01:00", intervalMinutes: 15)
/// ```
public struct FixedUTCOffset: UTCOffsetRules, Hashable {
    /// The constant offset in seconds.
    public let seconds: Int

    /// A constant offset of `seconds`.
    public init(seconds: Int) { self.seconds = seconds }

    /// Always `seconds`.
    public func offsetSeconds(atUTCMillis millis: Int64) -> Int { seconds }
}

/// An IANA time zone's offsets, from Foundation's `TimeZone` (`secondsFromGMT(for:)`), which
/// reads the tz database; used for nothing else.
public struct TimeZoneOffsetRules: UTCOffsetRules {
    /// The IANA name it was made from, e.g. `"Europe/Vienna"`.
    public let identifier: String
    private let zone: TimeZone

    /// The rules of the IANA zone `identifier`, or `nil` when the tz database does not know it.
    /// Only names of letters, digits, `/`, `_`, `-` and `+` are looked up, so that
    /// abbreviations with other spellings (`"GMT+01:00"`) are not accepted as zone names.
    public init?(identifier: String) {
        guard !identifier.isEmpty, identifier.utf8.count <= 64,
            identifier.utf8.allSatisfy({ byte in
                isASCIILetterOrDigit(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            }),
            let zone = TimeZone(identifier: identifier)
        else { return nil }
        self.identifier = identifier
        self.zone = zone
    }

    /// The offset at `millis`, asked at the whole second (tz transitions fall on whole seconds),
    /// so that no fractional `Date` can land a millisecond on the wrong side of a transition.
    public func offsetSeconds(atUTCMillis millis: Int64) -> Int {
        let seconds = floorDivide(millis, 1000)
        return zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
    }
}

func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}
