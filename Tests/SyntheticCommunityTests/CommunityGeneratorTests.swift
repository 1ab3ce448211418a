import SyntheticCommunity
import Testing
import Traces

/// The community model end to end: determinism, meters and registers, H0 totals, PV, batteries,
/// and the spec's bounds.
@Suite("Community generator")
struct CommunityGeneratorTests {
    static let june1 = LocalClock.centralEuropean.localMidnightMillis(year: 2026, month: 6, day: 1)

    static func spec(seed: UInt64 = 42, households: Int = 10, pv: Int = 4, batteries: Int = 2, days: Int = 1,
                     resolution: Int = 15, pvMeters: Bool = true, noise: Bool = true) -> CommunitySpec {
        CommunitySpec(seed: seed, households: households, pvHouseholds: pv, batteries: batteries, startMillis: june1, days: days,
                      resolutionMinutes: resolution, pvMeters: pvMeters, noise: noise)
    }

    static func byMeter(_ samples: [TraceSample]) -> [String: [TraceSample]] {
        Dictionary(grouping: samples, by: \.meterID)
    }

    @Test func sameSeedSameTraceDifferentSeedDifferentTrace() throws {
        let first = try generateCommunity(Self.spec())
        let again = try generateCommunity(Self.spec())
        #expect(first == again)
        let other = try generateCommunity(Self.spec(seed: 43))
        #expect(first.samples.count == other.samples.count)
        #expect(first.samples != other.samples)
        #expect(first.summary.households.map(\.annualConsumptionKWh) != other.summary.households.map(\.annualConsumptionKWh))
    }

    /// A pinned result, so an unintended change to the model or its random streams shows up here
    /// (update it on purpose, with a note in docs/COMMUNITY.md, when the model changes).
    @Test func pinnedResultForSeed42() throws {
        let trace = try generateCommunity(Self.spec())
        let summary = trace.summary
        #expect(summary.households.map(\.annualConsumptionKWh) == Self.pinnedAnnual)
        #expect([summary.importWh, summary.exportWh, summary.shareableWh] == Self.pinnedTotals)
    }

    static let pinnedAnnual = [2510, 4360, 2070, 4600, 5170, 5480, 3050, 3190, 2330, 4350]
    static let pinnedTotals: [Int64] = [59365, 109674, 27474]

    @Test func metersRowsAndOrder() throws {
        let trace = try generateCommunity(Self.spec(households: 12, pv: 5, batteries: 2))
        let ids = Set(trace.samples.map(\.meterID))
        #expect(ids.count == 17)
        #expect(ids.contains("h01:grid") && ids.contains("h12:grid"))
        #expect(ids.filter { $0.hasSuffix(":pv") }.count == 5)
        #expect(trace.samples.count == 17 * 97)
        #expect(trace.samples.first?.millis == Self.june1)
        #expect(trace.samples.last?.millis == Self.june1 + 86_400_000)
        let keys = trace.samples.map { ($0.millis, $0.meterID) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }, "sorted by time, then meter, without duplicates")
        #expect(trace.samples.prefix(17).allSatisfy { $0.importWh == 0 && $0.exportWh == 0 })
        // Three-digit numbers for 100 households.
        let large = try CommunityGenerator(Self.spec(households: 100, pv: 0, batteries: 0))
        #expect(large.households.first?.gridMeterID == "h001:grid")
        #expect(large.households.last?.gridMeterID == "h100:grid")
        // Without PV meters only grid meters.
        let gridOnly = try generateCommunity(Self.spec(pvMeters: false))
        #expect(Set(gridOnly.samples.map(\.meterID)).allSatisfy { $0.hasSuffix(":grid") })
        #expect(gridOnly.samples.count == 10 * 97)
    }

    @Test func pvAndBatteriesGoToTheRightNumberOfHouseholds() throws {
        for seed in UInt64(1)...20 {
            let generator = try CommunityGenerator(Self.spec(seed: seed, households: 9, pv: 5, batteries: 3))
            let households = generator.households
            #expect(households.filter { $0.pv != nil }.count == 5)
            #expect(households.filter { $0.battery != nil }.count == 3)
            #expect(households.allSatisfy { $0.battery == nil || $0.pv != nil })
            for household in households {
                #expect((2000...5500).contains(household.annualConsumptionKWh) && household.annualConsumptionKWh % 10 == 0)
                if let pv = household.pv {
                    #expect((3...10).contains(pv.peakKW) && (pv.peakKW * 2).rounded() == pv.peakKW * 2)
                    #expect((0.8...1).contains(pv.orientationFactor))
                }
                if let battery = household.battery {
                    #expect((3...20).contains(battery.capacityKWh) && (2...10).contains(battery.powerKW))
                }
            }
        }
    }

    /// Registers never decrease, and a grid meter never imports and exports in the same step.
    @Test func registersNeverDecreaseAndNeverBothGrow() throws {
        for resolution in [1, 5, 15] {
            let trace = try generateCommunity(Self.spec(seed: 7, households: 8, pv: 6, batteries: 3, days: resolution == 1 ? 1 : 3, resolution: resolution))
            var importedWithoutPV = 0
            var exported = 0
            let withoutPV = Set(trace.summary.households.filter { $0.pv == nil }.map(\.gridMeterID))
            for (meter, samples) in Self.byMeter(trace.samples) {
                for (a, b) in zip(samples, samples.dropFirst()) {
                    #expect(b.importWh >= a.importWh && b.exportWh >= a.exportWh, "\(meter) at \(b.millis)")
                    if meter.hasSuffix(":grid") {
                        #expect(b.importWh == a.importWh || b.exportWh == a.exportWh, "\(meter) at \(b.millis): both grew")
                        // The sign of the power agrees with the register that moved.
                        if b.importWh > a.importWh { #expect(b.powerW! > 0) }
                        if b.exportWh > a.exportWh { #expect(b.powerW! < 0) }
                    } else {
                        #expect(b.importWh == 0 && b.powerW! <= 0)
                    }
                }
                if withoutPV.contains(meter), samples.last!.importWh > 0 { importedWithoutPV += 1 }
                if meter.hasSuffix(":grid"), samples.last!.exportWh > 0 { exported += 1 }
            }
            // The test means something: houses without PV imported, PV houses exported in June.
            #expect(importedWithoutPV == 2 && exported >= 3, "resolution \(resolution)")
        }
    }

    /// One household, no noise, no PV, a whole year in 15-minute steps: the grid meter imports
    /// the dynamised H0 profile scaled to the annual consumption, ±1 % (2026: 997.1 kWh per
    /// 1 000 kWh/a on weekdays alone; the holidays and the clock changes move it slightly).
    @Test func aQuietYearImportsTheAnnualConsumption() throws {
        let start = LocalClock.centralEuropean.localMidnightMillis(year: 2026, month: 1, day: 1)
        let spec = CommunitySpec(seed: 3, households: 1, startMillis: start, days: 365, noise: false)
        let trace = try generateCommunity(spec)
        let annual = Double(trace.summary.households[0].annualConsumptionKWh) * 1000
        let imported = Double(trace.summary.totals[0].importWh)
        #expect(trace.summary.totals[0].exportWh == 0)
        #expect(abs(imported / annual - 0.997) < 0.01, "\(imported) Wh for \(annual) Wh/a")
        #expect(abs(imported - trace.summary.totals[0].loadWh) <= 1)
        #expect(trace.samples.last!.importWh == trace.summary.totals[0].importWh)
    }

    /// Without noise the first quarter hour of Monday 1 June 2026 (local time, CEST) is the
    /// summer-workday value at 00:00, 86.3 W per 1 000 kWh/a, times F(152) = 0.851830192128.
    @Test func quietLoadIsTheScaledProfileInLocalTime() throws {
        let trace = try generateCommunity(Self.spec(seed: 9, households: 3, pv: 0, batteries: 0, noise: false))
        for household in trace.summary.households {
            let expected = Double(household.annualConsumptionKWh) / 1000 * 86.3 * 0.851830192128
            let first = trace.samples.first { $0.meterID == household.gridMeterID }!
            #expect(first.millis == Self.june1)
            #expect(first.powerW == Int64(expected.rounded()))
        }
    }

    /// A trace follows the local clock: a day with a clock change has 23 or 25 hours, and on
    /// 29 March 2026 the profile jumps from 01:45 to 03:00 with the clock.
    @Test func clockChangeDaysHave23Or25Hours() throws {
        for (month, day, steps) in [(3, 29, 92), (10, 25, 100), (6, 1, 96)] {
            let start = LocalClock.centralEuropean.localMidnightMillis(year: 2026, month: month, day: day)
            let spec = CommunitySpec(seed: 1, households: 1, startMillis: start, noise: false)
            #expect(spec.stepCount == steps)
            #expect(try generateCommunity(spec).samples.count == steps + 1)
        }
        let start = LocalClock.centralEuropean.localMidnightMillis(year: 2026, month: 3, day: 29)  // 28 March 23:00 UTC
        let trace = try generateCommunity(CommunitySpec(seed: 1, households: 1, startMillis: start, days: 2, noise: false))
        let scale = Double(trace.summary.households[0].annualConsumptionKWh) / 1000 * H0Profile.dynamisationFactor(dayOfYear: 88)
        func expected(_ quarterHour: Int) -> Int64 {
            Int64((scale * H0Profile.watts(season: .transition, dayType: .sunday, quarterHour: quarterHour)).rounded())
        }
        // Row n carries the power of step n − 1; step 7 starts at 00:45 UTC (01:45 CET), step 8
        // at 01:00 UTC (03:00 CEST).
        #expect(trace.samples[8].powerW == expected(7))
        #expect(trace.samples[9].powerW == expected(12))
        #expect(trace.samples.last!.millis == start + 47 * 3_600_000)
    }

    @Test func finerResolutionKeepsTheEnergy() throws {
        var totals: [Int64] = []
        for resolution in [1, 5, 15] {
            let trace = try generateCommunity(Self.spec(households: 2, pv: 0, batteries: 0, resolution: resolution, noise: false))
            totals.append(trace.summary.importWh)
            #expect(trace.samples.count == 2 * (1440 / resolution + 1))
        }
        #expect(totals.max()! - totals.min()! <= 2, "\(totals)")
    }

    static func pvPower(_ trace: CommunityTrace) -> [(millis: Int64, watts: Int64)] {
        let meter = trace.summary.households.first { $0.pvMeterID != nil }!.pvMeterID!
        return trace.samples.filter { $0.meterID == meter }.dropFirst().map { ($0.millis, -$0.powerW!) }
    }

    static func quietPV(year: Int, month: Int, day: Int, longitude: Double = CommunitySpec.defaultLongitude) throws -> CommunityTrace {
        let start = LocalClock.utc.localMidnightMillis(year: year, month: month, day: day)
        return try generateCommunity(CommunitySpec(seed: 5, households: 1, pvHouseholds: 1, startMillis: start, days: 1,
                                                   resolutionMinutes: 5, longitude: longitude, pvMeters: true, noise: false))
    }

    /// PV is zero at night, peaks at solar noon (12:00 UTC − 4 min per degree east, ± the
    /// equation of time), and a June day yields far more than a December day.
    @Test func pvFollowsTheSun() throws {
        let june = try Self.quietPV(year: 2026, month: 6, day: 21)
        let power = Self.pvPower(june)
        // Vienna: night before 02:00 and after 20:00 UTC.
        #expect(power.filter { $0.millis % 86_400_000 <= 7_200_000 || $0.millis % 86_400_000 > 72_000_000 }.allSatisfy { $0.watts == 0 })
        #expect(power.contains { $0.watts > 0 })
        let peak = power.max { $0.watts < $1.watts }!
        // The row's power is the step ending at its instant: the step's middle is 2.5 min earlier.
        let peakMinute = Double(peak.millis % 86_400_000) / 60_000 - 2.5
        let noon = 720 - 4 * CommunitySpec.defaultLongitude  // 654.4 min = 10:54 UTC
        #expect(abs(peakMinute - noon) <= 10, "peak at \(peakMinute) min")

        // 4 minutes per degree: New York's noon is 6 hours later.
        let west = Self.pvPower(try Self.quietPV(year: 2026, month: 6, day: 21, longitude: -73.6))
        let westPeak = Double(west.max { $0.watts < $1.watts }!.millis % 86_400_000) / 60_000 - 2.5
        #expect(abs(westPeak - peakMinute - 360) <= 10, "\(westPeak) vs \(peakMinute)")

        let december = try Self.quietPV(year: 2026, month: 12, day: 21)
        let summer = june.summary.totals[0].pvWh
        let winter = december.summary.totals[0].pvWh
        let peakKW = june.summary.households[0].pv!.peakKW * june.summary.households[0].pv!.orientationFactor
        // Plausible clear-day yields for Vienna: about 7 kWh/kWp in June, 2 in December.
        #expect((5...9).contains(summer / 1000 / peakKW), "\(summer) Wh")
        #expect((1...3.5).contains(winter / 1000 / peakKW), "\(winter) Wh")
        #expect(summer > 2 * winter)
        // The PV meter counts the generation.
        let meter = june.summary.households[0].pvMeterID!
        let last = june.samples.last { $0.meterID == meter }!
        #expect(abs(Double(last.exportWh) - summer) <= 1)
    }

    @Test func cloudsReduceTheYieldAndVaryIt() throws {
        let quiet = try generateCommunity(Self.spec(seed: 11, households: 4, pv: 4, batteries: 0, days: 30, noise: false))
        let cloudy = try generateCommunity(Self.spec(seed: 11, households: 4, pv: 4, batteries: 0, days: 30))
        #expect(cloudy.summary.pvWh < 0.9 * quiet.summary.pvWh)
        #expect(cloudy.summary.pvWh > 0.2 * quiet.summary.pvWh)
    }

    /// The battery stays within 0…capacity, is used, and its energy balances:
    /// final − initial = η·charged − discharged/η; the grid meter balances the house.
    @Test func batteriesStayWithinBoundsAndBalance() throws {
        let trace = try generateCommunity(Self.spec(seed: 21, households: 6, pv: 6, batteries: 6, days: 7, resolution: 5))
        let steps = Double(trace.summary.totals.count * 7 * 288)
        var cycled = 0
        for (household, totals) in zip(trace.summary.households, trace.summary.totals) {
            let battery = try #require(household.battery)
            let capacity = battery.capacityKWh * 1000
            #expect(totals.stateOfChargeMinWh >= 0)
            #expect(totals.stateOfChargeMaxWh <= capacity)
            #expect(totals.stateOfChargeMinWh <= totals.stateOfChargeEndWh && totals.stateOfChargeEndWh <= totals.stateOfChargeMaxWh)
            if totals.stateOfChargeMaxWh - totals.stateOfChargeMinWh > capacity / 2 { cycled += 1 }
            let stored = battery.efficiency * totals.chargedWh - totals.dischargedWh / battery.efficiency
            #expect(abs(totals.stateOfChargeEndWh - battery.initialKWh * 1000 - stored) < 1e-6 * capacity)
            let net = totals.loadWh - totals.pvWh + totals.chargedWh - totals.dischargedWh
            #expect(abs(Double(totals.importWh - totals.exportWh) - net) <= 2 + steps * 0.0005, "\(household.gridMeterID)")
            #expect(totals.chargedWh > 0 && totals.dischargedWh > 0)
        }
        #expect(cycled >= 3)
        // Batteries cut the grid exchange of the same houses.
        let without = try generateCommunity(Self.spec(seed: 21, households: 6, pv: 6, batteries: 0, days: 7, resolution: 5))
        #expect(trace.summary.importWh < without.summary.importWh)
        #expect(trace.summary.exportWh < without.summary.exportWh)
        #expect(trace.summary.selfSufficiency > without.summary.selfSufficiency)
    }

    @Test func refusesSpecsOutOfBounds() {
        let start = Self.june1
        let cases: [(CommunitySpec, String)] = [
            (CommunitySpec(seed: 1, households: 0, startMillis: start), "households"),
            (CommunitySpec(seed: 1, households: 10_001, startMillis: start), "households"),
            (CommunitySpec(seed: 1, households: 3, pvHouseholds: 4, startMillis: start), "pv"),
            (CommunitySpec(seed: 1, households: 3, pvHouseholds: 2, batteries: 3, startMillis: start), "batteries"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, days: 0), "days"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, days: 367), "days"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, resolutionMinutes: 10), "resolution"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, latitude: 91), "latitude"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, latitude: .nan), "latitude"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, longitude: -181), "longitude"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start, clock: .fixed(offsetMinutes: 50)), "clock"),
            (CommunitySpec(seed: 1, households: 3, startMillis: start + 60_000), "start"),
            (CommunitySpec(seed: 1, households: 3, startMillis: -900_000), "start"),
            (CommunitySpec(seed: 1, households: 10_000, startMillis: start, days: 30), "size"),
        ]
        for (spec, field) in cases {
            #expect(throws: CommunityError.self, "\(field)") { try spec.validate() }
            do {
                _ = try CommunityGenerator(spec)
                Issue.record("\(field): accepted")
            } catch {
                #expect(error.field == field, "\(error)")
                #expect(!error.reason.isEmpty)
            }
        }
        let size = CommunitySpec(seed: 1, households: 10_000, startMillis: start, days: 30)
        #expect(throws: CommunityError(field: "size", reason: "the trace would have 28810000 rows (10000 meters × 2881 instants), more than the trace format's 10000000: fewer households or days, or a coarser resolution")) {
            try size.validate()
        }
        // The largest community on one day is fine.
        #expect(throws: Never.self) { try CommunitySpec(seed: 1, households: 10_000, startMillis: start).validate() }
    }
}
