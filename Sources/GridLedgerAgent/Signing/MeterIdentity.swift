import Foundation
import MeterPolling

/// Stable meter ids: `<gateway>:<bus>:<unit>`, plus `:<serial>` when the meter's profile can read
/// a serial number. The serial makes a swapped meter a new meter with a new chain instead of a
/// silent continuation of the old one.
///
/// A meter whose serial is readable but has not been read yet (it has been silent since the
/// agent started, and no id was ever bound to its bus and unit) has no id yet: its readings are
/// counted but not recorded, because any id chosen now would later change.
struct MeterDirectory: Sendable {
    let gatewayID: String
    /// `<bus>:<unit>` → meter id, persisted in the outbox database.
    private(set) var bindings: [String: String]

    init(gatewayID: String, bindings: [String: String]) {
        self.gatewayID = gatewayID
        self.bindings = bindings
    }

    enum Resolution: Sendable, Hashable {
        case known(String)
        /// A new binding to persist; `replacing` is the id the bus and unit had before.
        case bound(String, replacing: String?)
        case unresolved
    }

    static func bindingKey(bus: String, unit: UInt8) -> String { "\(bus):\(unit)" }

    func resolve(_ polled: PolledReading) -> Resolution {
        let key = Self.bindingKey(bus: polled.bus, unit: polled.unit)
        let base = "\(gatewayID):\(polled.bus):\(polled.unit)"
        let existing = bindings[key]
        let id: String
        if let serial = polled.serialNumber.map(Self.sanitizedSerial), !serial.isEmpty {
            id = "\(base):\(serial)"
        } else if polled.hasReadableSerial {
            return existing.map(Resolution.known) ?? .unresolved
        } else {
            id = base
        }
        if existing == id { return .known(id) }
        return .bound(id, replacing: existing)
    }

    mutating func bind(_ key: String, to meterID: String) { bindings[key] = meterID }

    /// A serial number as a meter-id part: `[A-Za-z0-9._-]` only (others become `_`), at most 32.
    static func sanitizedSerial(_ serial: String) -> String {
        let trimmed = serial.trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        return String(String.UnicodeScalarView(trimmed.unicodeScalars.prefix(32).map { scalar in
            scalar.isASCII && isIdentifierPartByte(UInt8(scalar.value)) ? scalar : "_"
        }))
    }
}
