/// Something that can read registers from Modbus devices: a libmodbus context, a simulator, a
/// test double. Calls block until the device answers or the timeout expires, so a reader is
/// owned by one bus worker at a time and never used from the cooperative thread pool.
public protocol RegisterReader: ~Copyable {
    /// Reads `span.count` registers from device `unit`. Returns exactly `span.count` words.
    mutating func readRegisters(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16]
}
