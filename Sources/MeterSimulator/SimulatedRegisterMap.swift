public import DeviceProfiles
public import GridLedgerCore
public import ModbusCore
public import ModbusTransport

/// Answers reads as a device of `profile` would, with values from a generator: undefined
/// registers inside the profile's range read as 0, the profile's `unreadable` ranges and reads
/// longer than its `maxRegistersPerRead` are refused with the exceptions a real device sends.
public final class SimulatedRegisterMap: RegisterResponder {
    public let profile: DeviceProfile
    public let unit: UInt8?
    private let generator: any ValueGenerator
    private let clock: any WallClock
    private let serialNumber: UInt64
    private var tables: [RegisterFunction: [UInt16: UInt16]] = [:]
    private var lastRefreshMillis: Int64 = .min

    /// - Parameter unit: the unit id to answer (nil: any unit, as a TCP meter usually does).
    public init(profile: DeviceProfile, unit: UInt8?, generator: any ValueGenerator, clock: any WallClock, serialNumber: UInt64 = 12_345_678) {
        self.profile = profile
        self.unit = unit
        self.generator = generator
        self.clock = clock
        self.serialNumber = serialNumber
        writeIdentification()
    }

    public func respond(unit requested: UInt8, span: RegisterSpan) -> ModbusAnswer? {
        if let unit, requested != unit { return nil }  // not us: stay silent, like a bus slave
        if Int(span.count) > profile.limits.maxRegistersPerRead { return .exception(.illegalDataValue) }
        if profile.limits.unreadable.contains(where: { $0.overlaps(span) }) { return .exception(.illegalDataAddress) }
        return .registers(words(span))
    }

    /// The words currently served, for tests.
    public func words(_ span: RegisterSpan) -> [UInt16] {
        refresh()
        let table = tables[span.function] ?? [:]
        return (0..<Int(span.count)).map { table[span.address &+ UInt16($0)] ?? 0 }
    }

    private func refresh() {
        let now = clock.nowMillis()
        guard now != lastRefreshMillis else { return }
        lastRefreshMillis = now
        let values = generator.values(atMillis: now)
        for field in profile.fields {
            guard let value = values[field.quantity] else { continue }
            store(ProfileEncoder.encode(value, for: field), function: field.location.function, address: field.location.address)
        }
    }

    private func writeIdentification() {
        guard let identification = profile.identification else { return }
        for rule in identification.match {
            store(RegisterCodec.encode(integer: rule.oneOf[0], as: rule.register.type, order: rule.register.wordOrder), function: rule.register.function, address: rule.register.address)
        }
        if let serial = identification.serialNumber {
            let words = serial.type == .string
                ? RegisterCodec.encodeString(String(serialNumber), count: serial.count)
                : RegisterCodec.encode(integer: Int64(truncatingIfNeeded: serialNumber), as: serial.type, order: serial.wordOrder)
            store(words, function: serial.function, address: serial.address)
        }
    }

    private func store(_ words: [UInt16], function: RegisterFunction, address: UInt16) {
        for (i, word) in words.enumerated() { tables[function, default: [:]][address &+ UInt16(i)] = word }
    }
}
