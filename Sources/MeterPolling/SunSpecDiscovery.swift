public import ModbusCore

/// A SunSpec device's model chain as found on the device.
public struct SunSpecMap: Sendable, Hashable {
    public struct Model: Sendable, Hashable {
        public var id: UInt16
        /// Address of the model's `ID` register; its data block starts at `address + 2`.
        public var address: UInt16
        public var length: UInt16

        public var dataAddress: UInt16 { address &+ 2 }
    }

    /// Where the 'SunS' marker was found: 40000, 50000 or 0.
    public var baseAddress: UInt16
    public var function: RegisterFunction
    public var models: [Model]
}

/// SunSpec discovery (SunSpec Information Model Specification, "Device Modbus map"): look for
/// the 'SunS' marker (0x5375 0x6E53) at 40000, 50000 and 0, then walk model headers (`ID`, `L`)
/// until the end marker 0xFFFF — or until the device answers with an exception or a zero
/// length, which some devices do instead of an end marker.
public enum SunSpecDiscovery {
    public static let marker: [UInt16] = [0x5375, 0x6E53]
    public static let candidateBases: [UInt16] = [40000, 50000, 0]
    public static let endModelID: UInt16 = 0xFFFF
    /// Bound on the walk, so a device returning garbage cannot keep us reading forever.
    public static let maximumModels = 64

    public static func discover(
        unit: UInt8, reader: inout some RegisterReader & ~Copyable, function: RegisterFunction = .holding
    ) throws(ModbusError) -> SunSpecMap? {
        var lastError: ModbusError?
        for base in candidateBases {
            do {
                let words = try reader.readRegisters(unit: unit, span: RegisterSpan(function, address: base, count: 2))
                guard words == marker else { continue }
                return try walk(unit: unit, reader: &reader, function: function, base: base)
            } catch {
                if case .exception = error { continue }
                lastError = error
                break  // a silent device stays silent at the other bases
            }
        }
        if let lastError { throw lastError }
        return nil
    }

    static func walk(
        unit: UInt8, reader: inout some RegisterReader & ~Copyable, function: RegisterFunction, base: UInt16
    ) throws(ModbusError) -> SunSpecMap {
        var models: [SunSpecMap.Model] = []
        var address = Int(base) + 2
        while models.count < maximumModels, address + 2 <= 0x10000 {
            let header: [UInt16]
            do {
                header = try reader.readRegisters(unit: unit, span: RegisterSpan(function, address: UInt16(address), count: 2))
            } catch {
                if case .exception = error { break }  // chain ended without an end marker
                throw error
            }
            let (id, length) = (header[0], header[1])
            if id == endModelID || length == 0 { break }
            models.append(.init(id: id, address: UInt16(address), length: length))
            address += 2 + Int(length)
        }
        return SunSpecMap(baseAddress: base, function: function, models: models)
    }
}
