import GridLedgerCore
import ModbusCore
import Synchronization

/// An in-memory Modbus line for unit tests: register tables per unit, devices that stay silent,
/// refuse undefined addresses, or limit read sizes. Logs every request.
struct FakeLine: RegisterReader {
    struct Device {
        var tables: [RegisterFunction: [UInt16: UInt16]] = [:]
        /// Refuse any read touching an address not in `tables` (exception 2), like many meters.
        var strict = true
        var maxRegistersPerRead = 125

        mutating func set(_ function: RegisterFunction, _ address: UInt16, _ words: [UInt16]) {
            for (i, word) in words.enumerated() { tables[function, default: [:]][address + UInt16(i)] = word }
        }
    }

    var devices: [UInt8: Device] = [:]
    private(set) var log: [(unit: UInt8, span: RegisterSpan)] = []

    mutating func readRegisters(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16] {
        log.append((unit, span))
        guard let device = devices[unit] else { throw .timeout("unit \(unit) silent") }
        guard Int(span.count) <= device.maxRegistersPerRead else { throw .exception(.illegalDataValue, span) }
        let table = device.tables[span.function] ?? [:]
        var words: [UInt16] = []
        for offset in 0..<Int(span.count) {
            let address = span.address + UInt16(offset)
            if let word = table[address] {
                words.append(word)
            } else if device.strict {
                throw .exception(.illegalDataAddress, span)
            } else {
                words.append(0)
            }
        }
        return words
    }
}


/// Builds a SunSpec register map: 'SunS' at `base`, then the given models, then the end marker.
struct SunSpecBuilder {
    var base: UInt16 = 40000
    var models: [(id: UInt16, data: [UInt16])] = []
    var endMarker = true

    /// Writes the map into `device`; returns each model's data address.
    func write(into device: inout FakeLine.Device) -> [UInt16: UInt16] {
        device.set(.holding, base, [0x5375, 0x6E53])
        var address = base + 2
        var dataAddresses: [UInt16: UInt16] = [:]
        for model in models {
            device.set(.holding, address, [model.id, UInt16(model.data.count)])
            device.set(.holding, address + 2, model.data)
            dataAddresses[model.id] = address + 2
            address += 2 + UInt16(model.data.count)
        }
        if endMarker { device.set(.holding, address, [0xFFFF, 0]) }
        return dataAddresses
    }
}
