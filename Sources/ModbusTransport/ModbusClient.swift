public import ModbusCore
import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// A libmodbus client context for one endpoint (a TCP device or gateway, or a serial bus).
///
/// Not thread-safe, like the `modbus_t` it owns: one owner at a time (a bus worker). Connects
/// lazily on the first read and reconnects after a link failure, so a meter that was unplugged
/// is read again as soon as it is back.
///
/// ```swift
/// var client = try ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: 502))
/// let words = try client.readRegisters(unit: 1, span: RegisterSpan(.input, address: 0, count: 2))
/// ```
public final class ModbusClient: RegisterReader {
    public struct Timeouts: Sendable, Hashable {
        /// How long to wait for the first byte of an answer.
        public var response: Duration
        /// Longest silence between two bytes of one answer (RTU).
        public var byte: Duration

        public init(response: Duration = .milliseconds(500), byte: Duration = .milliseconds(50)) {
            self.response = response
            self.byte = byte
        }
    }

    public let endpoint: ModbusEndpoint
    public let timeouts: Timeouts
    private let context: OpaquePointer
    private var connected = false
    /// Requests sent since creation, for metrics and the transaction-count benchmark.
    public private(set) var transactions = 0

    public init(endpoint: ModbusEndpoint, timeouts: Timeouts = Timeouts()) throws(ModbusError) {
        self.endpoint = endpoint
        self.timeouts = timeouts
        let created = try endpoint.makeLibmodbusContext()
        context = created
        Self.setTimeout(created, timeouts.response, modbus_set_response_timeout)
        Self.setTimeout(created, timeouts.byte, modbus_set_byte_timeout)
    }

    deinit {
        if connected { modbus_close(context) }
        modbus_free(context)
    }

    /// Opens the connection (TCP) or the serial port (RTU) and discards stale bytes.
    public func connect() throws(ModbusError) {
        guard !connected else { return }
        guard modbus_connect(context) == 0 else {
            throw .connection("\(endpoint): \(String(cString: modbus_strerror(errno)))")
        }
        connected = true
        // A client killed mid-exchange can leave an answer queued on a serial line.
        _ = modbus_flush(context)
    }

    public func close() {
        guard connected else { return }
        modbus_close(context)
        connected = false
    }

    public var isConnected: Bool { connected }

    public func readRegisters(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16] {
        guard span.count >= 1, Int(span.count) <= modbusMaxRegistersPerRead, span.end <= 0x10000 else {
            throw .invalidRequest("cannot read \(span): 1…125 registers within 0…65535")
        }
        try connect()
        modbus_set_slave(context, Int32(unit))
        var words = [UInt16](repeating: 0, count: Int(span.count))
        transactions += 1
        let received = words.withUnsafeMutableBufferPointer { buffer in
            switch span.function {
            case .input: modbus_read_input_registers(context, Int32(span.address), Int32(span.count), buffer.baseAddress)
            case .holding: modbus_read_registers(context, Int32(span.address), Int32(span.count), buffer.baseAddress)
            }
        }
        guard received == Int32(span.count) else {
            let error = received < 0 ? LibModbusError.current(span: span) : .invalidResponse("\(received) registers for \(span)")
            recover(after: error)
            throw error
        }
        return words
    }

    /// Leaves the link clean for the next request: a late answer must not be taken for the next one.
    private func recover(after error: ModbusError) {
        switch (error, endpoint) {
        case (.exception, _):
            break
        case (.timeout, .rtu), (.invalidResponse, .rtu), (.timeout, .rtuOverTCP), (.invalidResponse, .rtuOverTCP):
            _ = modbus_flush(context)
        case (.timeout, .tcp), (.invalidResponse, .tcp), (.connection, _):
            close()
        case (.invalidRequest, _):
            break
        }
    }

    private static func setTimeout(_ ctx: OpaquePointer, _ duration: Duration, _ set: (OpaquePointer?, UInt32, UInt32) -> Int32) {
        let (seconds, attoseconds) = duration.components
        _ = set(ctx, UInt32(max(0, seconds)), UInt32(attoseconds / 1_000_000_000_000))
    }
}
