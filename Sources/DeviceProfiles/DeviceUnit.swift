public import GridLedgerCore

/// A unit a device reports in, and how it converts to the vocabulary's canonical unit: always by
/// a power of ten, so conversion is exact.
public enum DeviceUnit: String, Sendable, Hashable, CaseIterable {
    case wattHour = "Wh", kilowattHour = "kWh", megawattHour = "MWh"
    case varHour = "varh", kilovarHour = "kvarh"
    case watt = "W", kilowatt = "kW"
    case `var` = "var", kilovar = "kvar"
    case voltAmpere = "VA", kilovoltAmpere = "kVA"
    case volt = "V", millivolt = "mV"
    case ampere = "A", milliampere = "mA"
    case hertz = "Hz", centihertz = "cHz"
    case dimensionless = "1", percent = "%"
    case degreeCelsius = "°C"

    /// The canonical unit and the exponent to add: `value[device] × 10^exponent = value[canonical]`.
    public var canonical: (unit: CanonicalUnit, exponent: Int8) {
        switch self {
        case .wattHour: (.wattHour, 0)
        case .kilowattHour: (.wattHour, 3)
        case .megawattHour: (.wattHour, 6)
        case .varHour: (.varHour, 0)
        case .kilovarHour: (.varHour, 3)
        case .watt: (.watt, 0)
        case .kilowatt: (.watt, 3)
        case .var: (.var, 0)
        case .kilovar: (.var, 3)
        case .voltAmpere: (.voltAmpere, 0)
        case .kilovoltAmpere: (.voltAmpere, 3)
        case .volt: (.volt, 0)
        case .millivolt: (.volt, -3)
        case .ampere: (.ampere, 0)
        case .milliampere: (.ampere, -3)
        case .hertz: (.hertz, 0)
        case .centihertz: (.hertz, -2)
        case .dimensionless: (.dimensionless, 0)
        case .percent: (.dimensionless, -2)
        case .degreeCelsius: (.degreeCelsius, 0)
        }
    }
}
