/// A measured quantity of the shared GridLedger vocabulary.
///
/// Every layer (profiles, decoding, records, contracts) names quantities with these ids, so a
/// register address never leaks past the device profile. OBIS codes (IEC 62056-61) are given
/// where one exists. Sign convention: consumer reference arrow, as OBIS 1-0:16.7.0 — active power
/// is positive when energy flows into the metered installation.
///
/// ```swift
/// let q = Quantity(rawValue: "energy.active.import.total")!
/// q.obis    // "1-0:1.8.0"
/// q.unit    // .wattHour
/// ```
public enum Quantity: String, CaseIterable, Sendable, Hashable, Codable, Comparable {
    case energyActiveImportTotal = "energy.active.import.total"
    case energyActiveExportTotal = "energy.active.export.total"
    case energyActiveImportL1 = "energy.active.import.l1"
    case energyActiveImportL2 = "energy.active.import.l2"
    case energyActiveImportL3 = "energy.active.import.l3"
    case energyActiveExportL1 = "energy.active.export.l1"
    case energyActiveExportL2 = "energy.active.export.l2"
    case energyActiveExportL3 = "energy.active.export.l3"
    case energyReactiveImportTotal = "energy.reactive.import.total"
    case energyReactiveExportTotal = "energy.reactive.export.total"
    case powerActiveTotal = "power.active.total"
    case powerActiveL1 = "power.active.l1"
    case powerActiveL2 = "power.active.l2"
    case powerActiveL3 = "power.active.l3"
    case powerReactiveTotal = "power.reactive.total"
    case powerReactiveL1 = "power.reactive.l1"
    case powerReactiveL2 = "power.reactive.l2"
    case powerReactiveL3 = "power.reactive.l3"
    case powerApparentTotal = "power.apparent.total"
    case powerApparentL1 = "power.apparent.l1"
    case powerApparentL2 = "power.apparent.l2"
    case powerApparentL3 = "power.apparent.l3"
    case voltageL1 = "voltage.l1"
    case voltageL2 = "voltage.l2"
    case voltageL3 = "voltage.l3"
    case voltageL1L2 = "voltage.l1-l2"
    case voltageL2L3 = "voltage.l2-l3"
    case voltageL3L1 = "voltage.l3-l1"
    case currentL1 = "current.l1"
    case currentL2 = "current.l2"
    case currentL3 = "current.l3"
    case currentN = "current.n"
    case frequency = "frequency"
    case powerFactorTotal = "powerfactor.total"
    case powerFactorL1 = "powerfactor.l1"
    case powerFactorL2 = "powerfactor.l2"
    case powerFactorL3 = "powerfactor.l3"
    case dcPower = "dc.power"
    case dcVoltage = "dc.voltage"
    case dcCurrent = "dc.current"
    case temperature = "temperature"

    /// The OBIS code (IEC 62056-61, electricity, channel 0), where the standard defines one.
    public var obis: String? {
        switch self {
        case .energyActiveImportTotal: "1-0:1.8.0"
        case .energyActiveExportTotal: "1-0:2.8.0"
        case .energyActiveImportL1: "1-0:21.8.0"
        case .energyActiveImportL2: "1-0:41.8.0"
        case .energyActiveImportL3: "1-0:61.8.0"
        case .energyActiveExportL1: "1-0:22.8.0"
        case .energyActiveExportL2: "1-0:42.8.0"
        case .energyActiveExportL3: "1-0:62.8.0"
        case .energyReactiveImportTotal: "1-0:3.8.0"
        case .energyReactiveExportTotal: "1-0:4.8.0"
        case .powerActiveTotal: "1-0:16.7.0"
        case .powerActiveL1: "1-0:36.7.0"
        case .powerActiveL2: "1-0:56.7.0"
        case .powerActiveL3: "1-0:76.7.0"
        case .powerApparentTotal: "1-0:9.7.0"
        case .powerApparentL1: "1-0:29.7.0"
        case .powerApparentL2: "1-0:49.7.0"
        case .powerApparentL3: "1-0:69.7.0"
        case .voltageL1: "1-0:32.7.0"
        case .voltageL2: "1-0:52.7.0"
        case .voltageL3: "1-0:72.7.0"
        case .currentL1: "1-0:31.7.0"
        case .currentL2: "1-0:51.7.0"
        case .currentL3: "1-0:71.7.0"
        case .currentN: "1-0:91.7.0"
        case .frequency: "1-0:14.7.0"
        case .powerFactorTotal: "1-0:13.7.0"
        case .powerFactorL1: "1-0:33.7.0"
        case .powerFactorL2: "1-0:53.7.0"
        case .powerFactorL3: "1-0:73.7.0"
        case .powerReactiveTotal, .powerReactiveL1, .powerReactiveL2, .powerReactiveL3,
            .voltageL1L2, .voltageL2L3, .voltageL3L1, .dcPower, .dcVoltage, .dcCurrent, .temperature:
            nil
        }
    }

    /// The quantity's number in signed records (docs/FORMAT.md). Fixed forever: a new quantity
    /// gets a new number, an old number is never reused.
    public var code: UInt16 {
        switch self {
        case .energyActiveImportTotal: 1
        case .energyActiveExportTotal: 2
        case .energyActiveImportL1: 3
        case .energyActiveImportL2: 4
        case .energyActiveImportL3: 5
        case .energyActiveExportL1: 6
        case .energyActiveExportL2: 7
        case .energyActiveExportL3: 8
        case .energyReactiveImportTotal: 9
        case .energyReactiveExportTotal: 10
        case .powerActiveTotal: 20
        case .powerActiveL1: 21
        case .powerActiveL2: 22
        case .powerActiveL3: 23
        case .powerReactiveTotal: 24
        case .powerReactiveL1: 25
        case .powerReactiveL2: 26
        case .powerReactiveL3: 27
        case .powerApparentTotal: 28
        case .powerApparentL1: 29
        case .powerApparentL2: 30
        case .powerApparentL3: 31
        case .voltageL1: 40
        case .voltageL2: 41
        case .voltageL3: 42
        case .voltageL1L2: 43
        case .voltageL2L3: 44
        case .voltageL3L1: 45
        case .currentL1: 50
        case .currentL2: 51
        case .currentL3: 52
        case .currentN: 53
        case .frequency: 60
        case .powerFactorTotal: 61
        case .powerFactorL1: 62
        case .powerFactorL2: 63
        case .powerFactorL3: 64
        case .dcPower: 70
        case .dcVoltage: 71
        case .dcCurrent: 72
        case .temperature: 80
        }
    }

    /// The quantity with record number `code`, if this version knows it.
    public init?(code: UInt16) {
        guard let quantity = Quantity.byCode[code] else { return nil }
        self = quantity
    }

    private static let byCode: [UInt16: Quantity] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.code, $0) })

    /// The normalised unit every value of this quantity is expressed in.
    public var unit: CanonicalUnit {
        switch self {
        case .energyActiveImportTotal, .energyActiveExportTotal, .energyActiveImportL1, .energyActiveImportL2,
            .energyActiveImportL3, .energyActiveExportL1, .energyActiveExportL2, .energyActiveExportL3:
            .wattHour
        case .energyReactiveImportTotal, .energyReactiveExportTotal: .varHour
        case .powerActiveTotal, .powerActiveL1, .powerActiveL2, .powerActiveL3, .dcPower: .watt
        case .powerReactiveTotal, .powerReactiveL1, .powerReactiveL2, .powerReactiveL3: .var
        case .powerApparentTotal, .powerApparentL1, .powerApparentL2, .powerApparentL3: .voltAmpere
        case .voltageL1, .voltageL2, .voltageL3, .voltageL1L2, .voltageL2L3, .voltageL3L1, .dcVoltage: .volt
        case .currentL1, .currentL2, .currentL3, .currentN, .dcCurrent: .ampere
        case .frequency: .hertz
        case .powerFactorTotal, .powerFactorL1, .powerFactorL2, .powerFactorL3: .dimensionless
        case .temperature: .degreeCelsius
        }
    }

    /// True for cumulative counters (energy registers), which never decrease on a healthy meter.
    public var isCounter: Bool { unit == .wattHour || unit == .varHour }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.ordinal < rhs.ordinal
    }

    /// Position in the vocabulary, used for stable ordering (tables, encoded records).
    public var ordinal: Int { Self.allCases.firstIndex(of: self)! }
}

/// The normalised units of the vocabulary.
public enum CanonicalUnit: String, Sendable, Hashable, Codable {
    case wattHour = "Wh"
    case varHour = "varh"
    case watt = "W"
    case `var` = "var"
    case voltAmpere = "VA"
    case volt = "V"
    case ampere = "A"
    case hertz = "Hz"
    case dimensionless = "1"
    case degreeCelsius = "°C"

    /// The decimal exponent floating-point device values are rounded to: the resolution a
    /// reading keeps when the device reports an IEEE 754 float. Integer registers keep their
    /// own (finer or equal) resolution and are never rounded.
    public var floatResolutionExponent: Int8 {
        switch self {
        case .wattHour, .varHour: 0
        case .watt, .var, .voltAmpere, .volt, .degreeCelsius: -1
        case .ampere, .dimensionless: -3
        case .hertz: -2
        }
    }

    /// Counters are integers in their unit or finer: their exponent never exceeds this.
    public var maximumExponent: Int8 {
        switch self {
        case .wattHour, .varHour: 0
        default: .max
        }
    }
}
