/// One household of a synthetic community: its meters and what was drawn for it from the seed.
public struct HouseholdInfo: Sendable, Hashable {
    /// 1-based.
    public var number: Int
    /// The grid meter: `h01:grid` (numbers zero-padded to at least two digits, to the width of the
    /// household count), import and export of the connection point.
    public var gridMeterID: String
    /// The PV generation meter `h01:pv` (export = generation), when the household has PV and the
    /// spec asks for PV meters.
    public var pvMeterID: String?
    /// Annual consumption the H0 profile is scaled to, kWh/a: uniform over 2 000…5 500 in steps
    /// of 10.
    public var annualConsumptionKWh: Int
    /// The rooftop PV system, if any.
    public var pv: PVSystem?
    /// The battery, if any (only PV households have one).
    public var battery: Battery?

    /// A rooftop PV system.
    public struct PVSystem: Sendable, Hashable {
        /// Peak power, kWp: uniform over 3.0…10.0 in steps of 0.5.
        public var peakKW: Double
        /// Share of the ideal (30°, facing the equator) output this roof gets, for orientation and
        /// shading: uniform over 0.80…1.00 in steps of 0.01.
        public var orientationFactor: Double
    }

    /// A home battery.
    public struct Battery: Sendable, Hashable {
        /// Usable capacity, kWh: kWp × uniform 0.8…1.5, rounded to 0.5 kWh, within 3…20.
        public var capacityKWh: Double
        /// Charge and discharge limit (AC), kW: half the capacity per hour, rounded to 0.1 kW,
        /// within 2…10.
        public var powerKW: Double
        /// Efficiency of each direction, √0.95: 95 % round trip.
        public var efficiency: Double { Self.oneWayEfficiency }
        /// State of charge at the start: half the capacity.
        public var initialKWh: Double { capacityKWh / 2 }

        static let oneWayEfficiency = 0.95.squareRoot()
    }
}

/// What one household did over the trace.
public struct HouseholdTotals: Sendable, Hashable {
    /// Consumption, Wh.
    public var loadWh: Double = 0
    /// PV generation, Wh.
    public var pvWh: Double = 0
    /// Energy into the battery (AC side), Wh.
    public var chargedWh: Double = 0
    /// Energy out of the battery (AC side), Wh.
    public var dischargedWh: Double = 0
    /// The grid meter's import register at the end (it starts at 0), Wh.
    public var importWh: Int64 = 0
    /// The grid meter's export register at the end (it starts at 0), Wh.
    public var exportWh: Int64 = 0
    /// Lowest, highest and final state of charge, Wh (0 without a battery).
    public var stateOfChargeMinWh: Double = 0
    public var stateOfChargeMaxWh: Double = 0
    public var stateOfChargeEndWh: Double = 0
}

/// The community over the whole trace.
public struct CommunitySummary: Sendable, Hashable {
    public var households: [HouseholdInfo]
    /// Per household, in the same order.
    public var totals: [HouseholdTotals]
    /// Energy that could have been shared within the community: per step the smaller of what all
    /// grid meters exported and what all imported, summed, Wh (floored).
    public var shareableWh: Int64

    public var importWh: Int64 { totals.reduce(0) { $0 + $1.importWh } }
    public var exportWh: Int64 { totals.reduce(0) { $0 + $1.exportWh } }
    public var loadWh: Double { totals.reduce(0) { $0 + $1.loadWh } }
    public var pvWh: Double { totals.reduce(0) { $0 + $1.pvWh } }

    /// Share of the consumption not drawn from the grid (each household on its own): 1 − import /
    /// consumption.
    public var selfSufficiency: Double {
        loadWh > 0 ? max(0, 1 - Double(importWh) / loadWh) : 0
    }

    /// Share of the PV generation used on site: 1 − export / generation; nil without PV.
    public var selfConsumption: Double? {
        pvWh > 0 ? max(0, 1 - Double(exportWh) / pvWh) : nil
    }
}
