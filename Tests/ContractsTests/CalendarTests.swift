import BillingCore
import Testing

@testable import Contracts

@Suite struct CalendarTests {
    static let november2026 = utc("2026-10-31T23:00:00Z")
    static let vienna = try! ContractCalendar(timeZone: "Europe/Vienna", intervalMinutes: 15, checkingOffsetsFrom: november2026)
    static let newYork = try! ContractCalendar(
        timeZone: "America/New_York", intervalMinutes: 15, checkingOffsetsFrom: utc("2026-01-01T05:00:00Z"))

    /// Intervals in the local day `year-month-day` (month and day below their last value).
    func intervalsOnLocalDay(_ calendar: ContractCalendar, _ year: Int, _ month: Int, _ day: Int) throws -> Int {
        let start = try calendar.localMidnight(year: year, month: month, day: day)
        let end = try calendar.localMidnight(year: year, month: month, day: day + 1)
        return calendar.intervals(from: start, to: end).count
    }

    @Test func viennaDaysHave92_96Or100QuarterHours() throws {
        #expect(try intervalsOnLocalDay(Self.vienna, 2026, 3, 29) == 92)  // CET → CEST
        #expect(try intervalsOnLocalDay(Self.vienna, 2026, 10, 25) == 100)  // CEST → CET
        #expect(try intervalsOnLocalDay(Self.vienna, 2026, 3, 28) == 96)
        #expect(try intervalsOnLocalDay(Self.vienna, 2026, 7, 15) == 96)
        #expect(try intervalsOnLocalDay(Self.vienna, 2026, 11, 10) == 96)
    }

    @Test func newYorkDaysHave92Or100QuarterHours() throws {
        #expect(try intervalsOnLocalDay(Self.newYork, 2026, 3, 8) == 92)
        #expect(try intervalsOnLocalDay(Self.newYork, 2026, 11, 1) == 100)
        #expect(try intervalsOnLocalDay(Self.newYork, 2026, 11, 2) == 96)
        #expect(try Self.newYork.localMidnight(year: 2026, month: 3, day: 8) == utc("2026-03-08T05:00:00Z"))
        #expect(try Self.newYork.localMidnight(year: 2026, month: 3, day: 9) == utc("2026-03-09T04:00:00Z"))
    }

    @Test func localMidnightIsTheFirstInstantOfTheLocalDate() throws {
        #expect(try Self.vienna.localMidnight(year: 2026, month: 11, day: 1) == utc("2026-10-31T23:00:00Z"))
        #expect(try Self.vienna.localMidnight(year: 2026, month: 7, day: 1) == utc("2026-06-30T22:00:00Z"))
        #expect(try Self.vienna.localMidnight(year: 2026, month: 3, day: 29) == utc("2026-03-28T23:00:00Z"))
        #expect(try Self.vienna.localMidnight(year: 2026, month: 3, day: 30) == utc("2026-03-29T22:00:00Z"))
        #expect(throws: ContractError.self) { try Self.vienna.localMidnight(year: 2026, month: 2, day: 29) }
        #expect(throws: ContractError.self) { try Self.vienna.localMidnight(year: 2026, month: 13, day: 1) }
    }

    @Test func aZoneThatSkipsMidnightStartsTheDayAtTheTransition() throws {
        // Chile starts summer time at 24:00 on the first Sunday of September: 2026-09-06 begins at 01:00 local.
        let santiago = try ContractCalendar(
            timeZone: "America/Santiago", intervalMinutes: 15, checkingOffsetsFrom: utc("2026-01-01T00:00:00Z"))
        let start = try santiago.localMidnight(year: 2026, month: 9, day: 6)
        #expect(start == utc("2026-09-06T04:00:00Z"))
        let local = santiago.localDate(atUTCMillis: start)
        #expect((local.year, local.month, local.day, local.minuteOfDay) == (2026, 9, 6, 60))
        #expect(santiago.localDate(atUTCMillis: start - 1).day == 5)
        #expect(try intervalsOnLocalDay(santiago, 2026, 9, 6) == 92)
    }

    @Test func billingPeriodsAreLocalMonths() throws {
        let november = try Self.vienna.period(id: "2026-11")
        #expect(november.id == "2026-11")
        #expect(november.startMillis == utc("2026-10-31T23:00:00Z"))
        #expect(november.endMillis == utc("2026-11-30T23:00:00Z"))
        #expect(Self.vienna.intervals(from: november.startMillis, to: november.endMillis).count == 30 * 96)

        let october = try BillingPeriod(id: "2026-10", calendar: Self.vienna)
        #expect(october.startMillis == utc("2026-09-30T22:00:00Z"))
        #expect(october.endMillis == november.startMillis)
        #expect(Self.vienna.intervals(from: october.startMillis, to: october.endMillis).count == 31 * 96 + 4)

        let march = try Self.vienna.period(id: "2026-03")
        #expect(Self.vienna.intervals(from: march.startMillis, to: march.endMillis).count == 31 * 96 - 4)

        #expect(Self.vienna.period(after: october) == november)
        #expect(Self.vienna.period(after: try Self.vienna.period(id: "2026-12")).id == "2027-01")
        #expect(october < november)
    }

    @Test func periodContainingAnInstantUsesLocalTime() {
        #expect(Self.vienna.period(containing: utc("2026-10-31T22:59:59.999Z")).id == "2026-10")
        #expect(Self.vienna.period(containing: utc("2026-10-31T23:00:00Z")).id == "2026-11")
        #expect(Self.vienna.period(containing: utc("2026-11-30T22:59:59.999Z")).id == "2026-11")
        #expect(Self.vienna.period(containing: utc("2026-11-30T23:00:00Z")).id == "2026-12")
        let december = Self.vienna.period(containing: utc("2026-12-31T22:59:00Z"))
        #expect(december.id == "2026-12")
        #expect(december.endMillis == utc("2026-12-31T23:00:00Z"))
    }

    @Test(arguments: [
        ("2026-13", "month 13 is not 01…12"),
        ("2026-00", "month 0 is not 01…12"),
        ("2026-1", "expected YYYY-MM"),
        ("26-11", "expected YYYY-MM"),
        ("2026/11", "expected YYYY-MM"),
        ("2026-11-01", "expected YYYY-MM"),
        ("", "expected YYYY-MM"),
        ("0000-01", "year 0000 does not exist"),
        ("２026-11", "expected YYYY-MM"),
    ])
    func badPeriodIDsAreRefusedWithAReason(_ id: String, _ reason: String) throws {
        let error = try #require(throws: ContractError.self) { try BillingPeriod(id: id, calendar: Self.vienna) }
        #expect(error.field == "billingPeriod")
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test func intervalsAreAlignedToTheUTCEpochAndHalfOpen() throws {
        let calendar = Self.vienna
        #expect(calendar.intervalStart(containing: 0) == 0)
        #expect(calendar.intervalStart(containing: 899_999) == 0)
        #expect(calendar.intervalStart(containing: 900_000) == 900_000)
        #expect(calendar.intervalStart(containing: -1) == -900_000)
        #expect(Array(calendar.intervals(from: 0, to: 2_700_000)) == [0, 900_000, 1_800_000])
        #expect(Array(calendar.intervals(from: 1, to: 2_700_001)) == [900_000, 1_800_000, 2_700_000])
        #expect(calendar.intervals(from: 900_000, to: 900_000).isEmpty)
        #expect(calendar.intervals(from: 900_000, to: 0).isEmpty)
        #expect(Array(calendar.intervals(from: -900_000, to: 1)) == [-900_000, 0])
    }

    @Test func localDatesFollowTheOffsetOfTheInstant() throws {
        let winter = Self.vienna.localDate(atUTCMillis: utc("2026-11-04T16:00:00Z"))
        #expect((winter.year, winter.month, winter.day) == (2026, 11, 4))
        #expect(winter.weekday == .wednesday)
        #expect(winter.minuteOfDay == 17 * 60)
        #expect(winter.offsetSeconds == 3600)
        #expect(winter.description == "2026-11-04 wed 17:00 +01:00")
        let summer = Self.vienna.localDate(atUTCMillis: utc("2027-07-07T15:00:00Z"))
        #expect(summer.weekday == .wednesday)
        #expect(summer.minuteOfDay == 17 * 60)
        #expect(summer.offsetSeconds == 7200)
        let newYear = Self.newYork.localDate(atUTCMillis: utc("2027-01-01T04:59:00Z"))
        #expect((newYear.year, newYear.month, newYear.day, newYear.minuteOfDay) == (2026, 12, 31, 23 * 60 + 59))
        #expect(newYear.weekday == .thursday)
    }

    @Test func anInjectedFixedOffsetNeedsNoTimeZoneDatabase() throws {
        let calendar = try ContractCalendar(rules: FixedUTCOffset(seconds: -5 * 3600), timeZone: "UTC-05:00", intervalMinutes: 60)
        let epoch = calendar.localDate(atUTCMillis: 0)
        #expect((epoch.year, epoch.month, epoch.day, epoch.minuteOfDay) == (1969, 12, 31, 19 * 60))
        #expect(epoch.weekday == .wednesday)
        #expect(try calendar.localMidnight(year: 1970, month: 1, day: 1) == 5 * 3_600_000)
        let february = try calendar.period(id: "2028-02")
        #expect(calendar.intervals(from: february.startMillis, to: february.endMillis).count == 29 * 24)
        #expect(throws: Never.self) { try calendar.checkAlignment(atUTCMillis: 0) }

        let halfHour = try ContractCalendar(rules: FixedUTCOffset(seconds: 19_800), timeZone: "UTC+05:30", intervalMinutes: 60)
        let error = try #require(throws: ContractError.self) { try halfHour.checkAlignment(atUTCMillis: 0) }
        #expect(error.reason.contains("UTC+05:30 is UTC+05:30"), "\(error)")
        #expect(throws: ContractError.self) {
            try ContractCalendar(rules: FixedUTCOffset(seconds: 0), timeZone: "UTC", intervalMinutes: 7)
        }
    }

    @Test func unknownZonesAreRefused() {
        #expect(throws: ContractError.self) {
            try ContractCalendar(timeZone: "Mars/Olympus_Mons", intervalMinutes: 15, checkingOffsetsFrom: 0)
        }
        #expect(throws: ContractError.self) { try ContractCalendar(timeZone: "", intervalMinutes: 15, checkingOffsetsFrom: 0) }
    }
}

@Suite struct CivilDateTests {
    @Test func daysAndDatesRoundTripFrom1600To2400() {
        var days = CivilDate.days(year: 1600, month: 1, day: 1)
        var weekday = CivilDate.weekday(days: days)
        var mismatches: [String] = []
        for year: Int64 in 1600...2400 {
            for month: Int64 in 1...12 {
                for day in 1...CivilDate.daysInMonth(year: year, month: month) {
                    let date = CivilDate.date(days: days)
                    if CivilDate.days(year: year, month: month, day: day) != days || date != (year, month, day)
                        || CivilDate.weekday(days: days) != weekday
                    {
                        mismatches.append("\(year)-\(month)-\(day)")
                    }
                    days += 1
                    weekday = Weekday(rawValue: weekday.rawValue % 7 + 1)!
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        #expect(days == CivilDate.days(year: 2401, month: 1, day: 1))
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.weekday(days: 0) == .thursday)
        #expect(CivilDate.weekday(days: CivilDate.days(year: 2026, month: 11, day: 1)) == .sunday)
        #expect(CivilDate.days(year: 2000, month: 3, day: 1) == 11_017)
    }

    @Test func timestampsParseToUTCMilliseconds() throws {
        #expect(try rfc3339Millis("1970-01-01T00:00:00Z") == 0)
        #expect(try rfc3339Millis("1970-01-01T01:00:00+01:00") == 0)
        #expect(try rfc3339Millis("1969-12-31T19:00:00-05:00") == 0)
        #expect(try rfc3339Millis("2026-11-01T00:00:00.5+01:00") == 1_793_487_600_500)
        #expect(try rfc3339Millis("2026-11-01t00:00:00.123z") == 1_793_491_200_123)
        #expect(throws: Refusal.self) { try rfc3339Millis("2026-11-01T00:00:00+0100") }
        #expect(throws: Refusal.self) { try rfc3339Millis("2026-11-01 00:00:00Z") }
        #expect(throws: Refusal.self) { try rfc3339Millis("2026-11-01T00:00:60Z") }
        #expect(throws: Refusal.self) { try rfc3339Millis("2026-11-01T00:00:00.Z") }
    }
}
