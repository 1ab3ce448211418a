import SyntheticCommunity
import Testing

/// The BDEW H0 table, its calendar and the dynamisation polynomial.
@Suite("H0 profile")
struct H0ProfileTests {
    @Test func tableHas864PositiveValues() {
        var count = 0
        for season in H0Profile.Season.allCases {
            for dayType in H0Profile.DayType.allCases {
                let day = H0Profile.day(season: season, dayType: dayType)
                #expect(day.count == 96)
                #expect(day.allSatisfy { $0 > 0 && $0 < 250 }, "\(season) \(dayType)")
                count += day.count
            }
        }
        #expect(count == 864)
    }

    /// Values at both ends of each published column (W per 1 000 kWh/a), as in the BDEW table.
    @Test func spotValuesMatchThePublishedTable() {
        #expect(H0Profile.watts(season: .winter, dayType: .saturday, quarterHour: 0) == 70.8)
        #expect(H0Profile.watts(season: .winter, dayType: .workday, quarterHour: 76) == 184.7)  // 19:00
        #expect(H0Profile.watts(season: .summer, dayType: .sunday, quarterHour: 48) == 213.7)  // 12:00, the table's maximum
        #expect(H0Profile.watts(season: .transition, dayType: .workday, quarterHour: 95) == 86.6)
        #expect(H0Profile.watts(season: .winter, dayType: .workday, quarterHour: 14) == 38.3)  // 03:30, the minimum
    }

    @Test func aWinterWorkdayEveningPeaksAboveThreeInTheMorning() {
        let day = H0Profile.day(season: .winter, dayType: .workday)
        let evening = day[72..<84].max()!  // 18:00–21:00
        let night = day[12]  // 03:00–03:15
        #expect(evening > 4 * night)
        #expect(day.firstIndex(of: day.max()!) == 78)  // 19:30
    }

    /// F(t) = −3.92e-10·t⁴ + 3.2e-7·t³ − 7.02e-5·t² + 2.1e-3·t + 1.24, worked by hand:
    /// - t = 1:   1.24 + 0.0021 − 0.0000702 + 0.00000032 − 0.000000000392 = 1.242030119608
    /// - t = 100: 1.24 + 0.21 − 0.702 + 0.32 − 0.0392 = 1.0288
    /// - t = 200: 1.24 + 0.42 − 2.808 + 2.56 − 0.6272 = 0.7848
    /// - t = 365: 1.24 + 0.7665 − 9.352395 + 15.56068 − 6.957569045 = 1.257215955
    @Test func dynamisationPolynomial() {
        let cases: [(Int, Double)] = [(1, 1.242030119608), (100, 1.0288), (200, 0.7848), (365, 1.257215955)]
        for (day, expected) in cases {
            #expect(abs(H0Profile.dynamisationFactor(dayOfYear: day) - expected) < 1e-12, "day \(day)")
        }
        // Lowest in high summer (day 202, 21 July), as households use less then.
        let lowest = (1...365).min { H0Profile.dynamisationFactor(dayOfYear: $0) < H0Profile.dynamisationFactor(dayOfYear: $1) }!
        #expect(lowest == 202)
    }

    /// A whole year of the table sums to about 1 000 kWh for 1 000 kWh/a: 998.26 kWh in 2026
    /// before dynamisation, 997.12 kWh after (weekdays only; each varies by year with the
    /// calendar, up to 1 001.4 in 2028). Tolerance ±1 %.
    @Test func aYearSumsToAbout1000KWh() {
        for year in [2025, 2026, 2028] {
            var plain = 0.0
            var dynamic = 0.0
            let days = year == 2028 ? 366 : 365
            var month = 1
            var day = 1
            for dayOfYear in 1...days {
                let season = H0Profile.season(month: month, day: day)
                let type = H0Profile.dayType(year: year, month: month, day: day, holidays: .none)
                let energy = H0Profile.day(season: season, dayType: type).reduce(0, +) / 4 / 1000  // kWh
                plain += energy
                dynamic += energy * H0Profile.dynamisationFactor(dayOfYear: dayOfYear)
                day += 1
                if day > Self.daysInMonth(year, month) { day = 1; month += 1 }
            }
            #expect((990...1010).contains(plain), "\(year): \(plain) kWh")
            #expect((990...1010).contains(dynamic), "\(year): \(dynamic) kWh")
            if year == 2026 {
                #expect(abs(plain - 998.26275) < 0.001)
                #expect(abs(dynamic - 997.1177) < 0.001)
            }
        }
    }

    @Test func seasonsFollowTheBDEWDates() {
        let cases: [((Int, Int), H0Profile.Season)] = [
            ((1, 1), .winter), ((3, 20), .winter), ((3, 21), .transition), ((5, 14), .transition), ((5, 15), .summer),
            ((9, 14), .summer), ((9, 15), .transition), ((10, 31), .transition), ((11, 1), .winter), ((12, 31), .winter),
        ]
        for ((month, day), season) in cases {
            #expect(H0Profile.season(month: month, day: day) == season, "\(month)-\(day)")
        }
    }

    @Test func dayTypesWithGermanHolidays() {
        // 2026: Easter Sunday 5 April.
        let cases: [((Int, Int), H0Profile.DayType, H0Profile.DayType)] = [
            ((6, 1), .workday, .workday),  // Monday
            ((6, 6), .saturday, .saturday),
            ((6, 7), .sunday, .sunday),
            ((4, 3), .workday, .sunday),  // Good Friday
            ((4, 6), .workday, .sunday),  // Easter Monday
            ((5, 14), .workday, .sunday),  // Ascension
            ((5, 25), .workday, .sunday),  // Whit Monday
            ((10, 3), .saturday, .sunday),  // German Unity Day, a Saturday
            ((12, 24), .workday, .saturday),  // a Thursday: Saturday profile
            ((12, 25), .workday, .sunday),
            ((12, 31), .workday, .saturday),
        ]
        for ((month, day), plain, german) in cases {
            #expect(H0Profile.dayType(year: 2026, month: month, day: day, holidays: .none) == plain, "\(month)-\(day)")
            #expect(H0Profile.dayType(year: 2026, month: month, day: day, holidays: .germany) == german, "\(month)-\(day)")
        }
        // Easter in other years: 20 April 2025 (Good Friday 18 April), 31 March 2024 (Easter Monday 1 April).
        #expect(H0Profile.isGermanHoliday(year: 2025, month: 4, day: 18))
        #expect(!H0Profile.isGermanHoliday(year: 2025, month: 4, day: 17))
        #expect(H0Profile.isGermanHoliday(year: 2024, month: 4, day: 1))
        // 24 December on a Sunday stays a Sunday (2023).
        #expect(H0Profile.dayType(year: 2023, month: 12, day: 24, holidays: .germany) == .sunday)
    }

    /// Hour-by-month sums of the dynamised H0 for 2025 with the nationwide German holidays, as
    /// published by github.com/kralo/stromdaten-deutschland-standardlastprofile
    /// (`data-exported/h0_dyn_1999_stdlast_Monat.csv`, computed there from the BDEW values): an
    /// independent check of the transcribed values. January and February use only the winter
    /// columns (all three day types), July only the summer ones, October only the transition ones.
    /// A value off by 1 W in a winter column moves an hour's sum by 0.03 % or more.
    @Test func matchesPublishedMonthlySumsFor2025() {
        for (month, published) in Self.published2025.sorted(by: { $0.key < $1.key }) {
            var sums = [Double](repeating: 0, count: 24)
            for day in 1...Self.daysInMonth(2025, month) {
                let season = H0Profile.season(month: month, day: day)
                let type = H0Profile.dayType(year: 2025, month: month, day: day, holidays: .germany)
                let values = H0Profile.day(season: season, dayType: type)
                let factor = H0Profile.dynamisationFactor(dayOfYear: Self.dayOfYear(2025, month, day))
                for hour in 0..<24 { sums[hour] += values[(4 * hour)..<(4 * hour + 4)].reduce(0, +) * factor }
            }
            let ratios = zip(sums, published).map { $0 / $1 }
            // July's level is 0.03 % off (a rounding of F there), October's 0.4 %: compare their
            // hours relative to the month's mean ratio.
            let reference = month == 7 || month == 10 ? ratios.reduce(0, +) / 24 : 1
            let tolerance = month == 10 ? 0.001 : 0.00025
            for (hour, ratio) in ratios.enumerated() {
                #expect(abs(ratio / reference - 1) < tolerance, "month \(month) hour \(hour): \(ratio)")
            }
        }
    }

    static let published2025: [Int: [Double]] = [
        1: [
            9727.7, 7223.1, 6331.7, 6069.5, 6053.9, 6937.1,
            12018.3, 17158.2, 19331.1, 19887.5, 20134.3, 21225.0,
            22920.1, 21926.9, 19198.6, 17354.9, 17171.3, 20946.1,
            26429.7, 29243.7, 25999.2, 21620.4, 18189.2, 13725.3,
        ],
        2: [
            8503.9, 6325.2, 5547.2, 5320.9, 5310.0, 6093.0,
            10589.7, 15152.1, 17042.4, 17448.8, 17588.3, 18491.6,
            19998.1, 19205.2, 16869.7, 15276.1, 15141.0, 18488.0,
            23298.8, 25729.4, 22837.1, 18968.5, 15975.2, 12081.2,
        ],
        7: [
            7505.2, 5620.7, 4950.8, 4663.2, 4801.5, 5557.5,
            8542.0, 11446.2, 13293.7, 14417.3, 14513.7, 15029.2,
            16363.1, 15487.1, 13340.6, 12039.5, 11503.9, 12130.1,
            13992.0, 16150.9, 16253.0, 15244.4, 14105.5, 11049.5,
        ],
        10: [
            8521.4, 6326.7, 5492.7, 5259.6, 5310.4, 6083.4,
            9816.8, 13917.1, 16040.2, 17168.1, 17528.8, 18155.4,
            19766.2, 18603.8, 16095.9, 14450.1, 13525.3, 14689.4,
            18023.4, 21043.0, 20313.0, 18543.0, 16344.7, 12289.0,
        ],
    ]

    static func dayOfYear(_ year: Int, _ month: Int, _ day: Int) -> Int {
        (1..<month).reduce(0) { $0 + daysInMonth(year, $1) } + day
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
