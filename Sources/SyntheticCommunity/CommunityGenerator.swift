public import Traces

/// A synthetic community trace: the samples, sorted by time then meter id, and what was drawn.
public struct CommunityTrace: Sendable, Hashable {
    public var samples: [TraceSample]
    public var summary: CommunitySummary
}

/// Generates the whole trace in memory (at most `TraceLimits.trace.maximumRows` rows; the spec's
/// `validate()` refuses more). `CommunityGenerator.run` streams it instead.
public func generateCommunity(_ spec: CommunitySpec) throws(CommunityError) -> CommunityTrace {
    let generator = try CommunityGenerator(spec)
    var samples: [TraceSample] = []
    samples.reserveCapacity(spec.rowCount)
    let summary = generator.run { sample in samples.append(sample) }
    return CommunityTrace(samples: samples, summary: summary)
}

/// The community model (docs/COMMUNITY.md): households on the BDEW H0 profile scaled to their
/// annual consumption with noise, rooftop PV under a shared, seeded sky, batteries that store PV
/// surplus and cover the load, and a grid meter per household whose integer registers count what
/// crosses the connection point.
///
/// ```swift
/// let generator = try CommunityGenerator(spec)
/// generator.households[0].annualConsumptionKWh  // drawn from the seed
/// let summary = try generator.run { sample in try writer.write(sample) }
/// ```
public struct CommunityGenerator: Sendable {
    public let spec: CommunitySpec
    /// The households, in meter order.
    public let households: [HouseholdInfo]

    /// Validates the spec and draws every household's parameters.
    public init(_ spec: CommunitySpec) throws(CommunityError) {
        try spec.validate()
        self.spec = spec
        let width = max(2, String(spec.households).count)
        func id(_ number: Int) -> String {
            let digits = String(number)
            return "h" + String(repeating: "0", count: width - digits.count) + digits
        }
        // Which households get PV, and which of those a battery: a seeded shuffle, the first
        // `pvHouseholds` get PV, the first `batteries` of those a battery.
        var order = Array(0..<spec.households)
        var picker = SeededRandom(seed: spec.seed, labels: Stream.selection)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, picker.below(i + 1))
        }
        var hasPV = [Bool](repeating: false, count: spec.households)
        var hasBattery = hasPV
        for (rank, index) in order.prefix(spec.pvHouseholds).enumerated() {
            hasPV[index] = true
            hasBattery[index] = rank < spec.batteries
        }
        households = (0..<spec.households).map { index in
            // Every household draws all its parameters, used or not, so that the choice of PV
            // households does not change anyone's consumption.
            var random = SeededRandom(seed: spec.seed, labels: Stream.household, UInt64(index), Stream.parameters)
            let annual = 2000 + 10 * random.below(351)
            let peak = 3.0 + 0.5 * Double(random.below(15))
            let orientation = Double(80 + random.below(21)) / 100
            let ratio = random.uniform(0.8...1.5)
            let capacity = min(20, max(3, (peak * ratio * 2).rounded() / 2))
            let power = min(10, max(2, (capacity * 5).rounded() / 10))
            let number = index + 1
            return HouseholdInfo(
                number: number, gridMeterID: id(number) + ":grid",
                pvMeterID: hasPV[index] && spec.pvMeters ? id(number) + ":pv" : nil,
                annualConsumptionKWh: annual,
                pv: hasPV[index] ? .init(peakKW: peak, orientationFactor: orientation) : nil,
                battery: hasBattery[index] ? .init(capacityKWh: capacity, powerKW: power) : nil)
        }
    }

    /// Labels of the independent random streams.
    enum Stream {
        static let selection: UInt64 = 1
        static let household: UInt64 = 2
        static let weather: UInt64 = 3
        static let parameters: UInt64 = 1
        static let noise: UInt64 = 2
    }

    /// Runs the model and hands every sample to `emit`, in time order and, at each instant, in
    /// meter-id order (`h01:grid`, `h01:pv`, `h02:grid`, …): first every meter at `startMillis`
    /// with its registers at 0, then every meter after each step.
    ///
    /// A row's power is the average net power of the step that ends at its instant (the model's
    /// power is constant over a step); the first row of a meter carries the first step's.
    public func run<E: Error>(_ emit: (TraceSample) throws(E) -> Void) throws(E) -> CommunitySummary {
        let stepMillis = Int64(spec.resolutionMinutes) * 60_000
        let stepSeconds = Double(spec.resolutionMinutes * 60)
        let stepHours = Double(spec.resolutionMinutes) / 60
        let solar = SolarModel(latitude: spec.latitude, longitude: spec.longitude)
        let anyPV = households.contains { $0.pv != nil }
        var weather = Weather(seed: spec.seed, resolutionMinutes: spec.resolutionMinutes, southern: spec.latitude < 0, noisy: spec.noise)
        var states = households.map { HouseholdState($0, seed: spec.seed, resolutionMinutes: spec.resolutionMinutes, noisy: spec.noise) }
        var totals = [HouseholdTotals](repeating: HouseholdTotals(), count: households.count)
        for index in households.indices {
            let soc = states[index].stateOfChargeWh
            totals[index].stateOfChargeMinWh = soc
            totals[index].stateOfChargeMaxWh = soc
        }
        var gridPower = [Int64](repeating: 0, count: households.count)
        var pvPower = gridPower
        var shareableMilliWh: Int64 = 0
        var currentLocalDay = Int.min
        var season = H0Profile.Season.winter
        var dayType = H0Profile.DayType.workday
        var dynamisation = 1.0

        for step in 0..<spec.stepCount {
            let millis = spec.startMillis + Int64(step) * stepMillis
            let local = spec.clock.localMillis(atMillis: millis)
            let localDay = Int(floorDivide(local, CivilDate.millisPerDay))
            if localDay != currentLocalDay {
                currentLocalDay = localDay
                let date = CivilDate.date(days: localDay)
                season = H0Profile.season(month: date.month, day: date.day)
                dayType = H0Profile.dayType(year: date.year, month: date.month, day: date.day, holidays: spec.holidays)
                dynamisation = H0Profile.dynamisationFactor(dayOfYear: CivilDate.dayOfYear(days: localDay))
                weather.startDay(month: date.month)
                for index in states.indices { states[index].startDay() }
            }
            let quarterHour = Int((local - Int64(localDay) * CivilDate.millisPerDay) / 900_000)
            // W per kWh/a of annual consumption.
            let profile = H0Profile.watts(season: season, dayType: dayType, quarterHour: quarterHour) * dynamisation / 1000
            let clearSky = anyPV ? solar.clearSkyWattsPerKWp(atMillis: millis + stepMillis / 2) : 0
            let clearness = weather.step()
            var stepImport: Int64 = 0
            var stepExport: Int64 = 0

            for index in households.indices {
                let household = households[index]
                let loadW = Double(household.annualConsumptionKWh) * profile * states[index].loadFactor()
                var pvW = 0.0
                if let pv = household.pv {
                    pvW = pv.peakKW * clearSky * clearness * pv.orientationFactor
                }
                var chargeW = 0.0
                var dischargeW = 0.0
                if let battery = household.battery {
                    let capacityWh = battery.capacityKWh * 1000
                    let limitW = battery.powerKW * 1000
                    let efficiency = HouseholdInfo.Battery.oneWayEfficiency
                    var soc = states[index].stateOfChargeWh
                    if pvW > loadW {
                        chargeW = min(pvW - loadW, limitW, max(0, capacityWh - soc) / (efficiency * stepHours))
                        soc = min(capacityWh, soc + chargeW * efficiency * stepHours)
                    } else if loadW > pvW {
                        dischargeW = min(loadW - pvW, limitW, soc * efficiency / stepHours)
                        soc = max(0, soc - dischargeW / efficiency * stepHours)
                    }
                    states[index].stateOfChargeWh = soc
                    totals[index].stateOfChargeMinWh = min(totals[index].stateOfChargeMinWh, soc)
                    totals[index].stateOfChargeMaxWh = max(totals[index].stateOfChargeMaxWh, soc)
                    totals[index].stateOfChargeEndWh = soc
                }
                let netW = loadW - pvW + chargeW - dischargeW
                // Integer mWh per step, rounded once; the Wh registers are the floored running
                // sums, so nothing is lost or drifts however many steps there are.
                let netMilliWh = Int64((netW * stepSeconds / 3.6).rounded())
                if netMilliWh > 0 {
                    states[index].importMilliWh += netMilliWh
                    stepImport += netMilliWh
                } else {
                    states[index].exportMilliWh -= netMilliWh
                    stepExport -= netMilliWh
                }
                states[index].pvMilliWh += Int64((pvW * stepSeconds / 3.6).rounded())
                gridPower[index] = Int64(netW.rounded())
                pvPower[index] = -Int64(pvW.rounded())
                totals[index].loadWh += loadW * stepHours
                totals[index].pvWh += pvW * stepHours
                totals[index].chargedWh += chargeW * stepHours
                totals[index].dischargedWh += dischargeW * stepHours
            }
            shareableMilliWh += min(stepImport, stepExport)

            if step == 0 {
                // The starting registers, with the first step's power.
                for index in households.indices {
                    try emitRows(index, at: millis, registers: (0, 0, 0), grid: gridPower[index], pv: pvPower[index], emit)
                }
            }
            for index in households.indices {
                let state = states[index]
                try emitRows(index, at: millis + stepMillis, registers: (state.importMilliWh, state.exportMilliWh, state.pvMilliWh),
                             grid: gridPower[index], pv: pvPower[index], emit)
            }
        }
        for index in households.indices {
            totals[index].importWh = states[index].importMilliWh / 1000
            totals[index].exportWh = states[index].exportMilliWh / 1000
        }
        return CommunitySummary(households: households, totals: totals, shareableWh: shareableMilliWh / 1000)
    }

    private func emitRows<E: Error>(
        _ index: Int, at millis: Int64, registers: (importMilliWh: Int64, exportMilliWh: Int64, pvMilliWh: Int64),
        grid: Int64, pv: Int64, _ emit: (TraceSample) throws(E) -> Void
    ) throws(E) {
        let household = households[index]
        try emit(TraceSample(millis: millis, meterID: household.gridMeterID,
                             importWh: registers.importMilliWh / 1000, exportWh: registers.exportMilliWh / 1000, powerW: grid))
        if let pvMeterID = household.pvMeterID {
            try emit(TraceSample(millis: millis, meterID: pvMeterID, importWh: 0, exportWh: registers.pvMilliWh / 1000, powerW: pv))
        }
    }
}

/// Per-step correlation of the noise processes: a lag-one correlation per quarter hour of 0.5
/// (load) and 0.8 (clouds), taken to the 1/3 and 1/15 power for 5- and 1-minute steps
/// (precomputed, so no library function decides the numbers).
enum Persistence {
    static func load(resolutionMinutes: Int) -> Double {
        switch resolutionMinutes {
        case 1: 0.9548416039104165
        case 5: 0.7937005259840998
        default: 0.5
        }
    }

    static func clouds(resolutionMinutes: Int) -> Double {
        switch resolutionMinutes {
        case 1: 0.9852338677990639
        case 5: 0.9283177667225558
        default: 0.8
        }
    }
}

/// A household's running state.
struct HouseholdState {
    var random: SeededRandom
    let noisy: Bool
    let rho: Double
    let innovation: Double
    /// The load noise process: unit variance, AR(1), kept within ±3.
    var noise = 0.0
    /// This day's consumption level: uniform 0.85…1.15.
    var dayFactor = 1.0
    var stateOfChargeWh: Double
    var importMilliWh: Int64 = 0
    var exportMilliWh: Int64 = 0
    var pvMilliWh: Int64 = 0

    init(_ household: HouseholdInfo, seed: UInt64, resolutionMinutes: Int, noisy: Bool) {
        random = SeededRandom(seed: seed, labels: CommunityGenerator.Stream.household, UInt64(household.number - 1), CommunityGenerator.Stream.noise)
        self.noisy = noisy
        rho = Persistence.load(resolutionMinutes: resolutionMinutes)
        innovation = (1 - rho * rho).squareRoot()
        stateOfChargeWh = (household.battery?.initialKWh ?? 0) * 1000
        if noisy { noise = random.unitVariance() }
    }

    mutating func startDay() {
        if noisy { dayFactor = random.uniform(0.85...1.15) }
    }

    /// The factor this step's H0 value is multiplied by: dayFactor × (1 + 0.2·noise), within
    /// 0.85·0.4 … 1.15·1.6, mean 1.
    mutating func loadFactor() -> Double {
        guard noisy else { return 1 }
        noise = min(3, max(-3, rho * noise + innovation * random.unitVariance()))
        return dayFactor * (1 + 0.2 * noise)
    }
}

/// The sky over the community, shared by all its roofs: a weather type per day (clear, mixed,
/// overcast) that persists with probability 0.5 and is otherwise drawn afresh (clear/mixed/
/// overcast 0.45/0.35/0.20 from April to September, 0.20/0.35/0.45 from October to March;
/// months swapped south of the equator), and within the day a clearness index around the type's
/// level that moves as a unit-variance AR(1) process.
struct Weather {
    var random: SeededRandom
    let noisy: Bool
    let southern: Bool
    let rho: Double
    let innovation: Double
    var type = -1
    var process = 0.0

    /// Level and amplitude of the clearness index per weather type.
    static let levels: [(level: Double, amplitude: Double)] = [(0.95, 0.05), (0.6, 0.25), (0.25, 0.1)]

    init(seed: UInt64, resolutionMinutes: Int, southern: Bool, noisy: Bool) {
        random = SeededRandom(seed: seed, labels: CommunityGenerator.Stream.weather)
        self.noisy = noisy
        self.southern = southern
        rho = Persistence.clouds(resolutionMinutes: resolutionMinutes)
        innovation = (1 - rho * rho).squareRoot()
        if noisy { process = random.unitVariance() }
    }

    mutating func startDay(month: Int) {
        guard noisy else { return }
        if type >= 0, random.uniform() < 0.5 { return }
        let summerHalf = (4...9).contains(month) != southern
        let u = random.uniform()
        let clear = summerHalf ? 0.45 : 0.2
        type = u < clear ? 0 : u < clear + 0.35 ? 1 : 2
    }

    /// This step's clearness index, 0.05…1 (1 without noise).
    mutating func step() -> Double {
        guard noisy else { return 1 }
        process = min(3, max(-3, rho * process + innovation * random.unitVariance()))
        let (level, amplitude) = Self.levels[type]
        return min(1, max(0.05, level + amplitude * process))
    }
}
