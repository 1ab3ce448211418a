import CModbus
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps libmodbus's errno (exception codes live above `MODBUS_ENOBASE`) to ``ModbusError``.
enum LibModbusError {
    static let base = Int32(MODBUS_ENOBASE)

    static func current(span: RegisterSpan? = nil) -> ModbusError {
        let code = errno
        let text = String(cString: modbus_strerror(code))
        if code > base, code <= base + Int32(MODBUS_EXCEPTION_GATEWAY_TARGET) {
            let exception = ModbusExceptionCode(rawValue: UInt8(code - base)) ?? .serverDeviceFailure
            return .exception(exception, span)
        }
        if code > base { return .invalidResponse(text) }
        switch code {
        case ETIMEDOUT, EAGAIN: return .timeout(text)
        case EINVAL: return .invalidRequest(text)
        default: return .connection(text)
        }
    }
}

import ModbusCore

extension ModbusEndpoint {
    /// A new libmodbus context for this endpoint (client or server alike); nil with errno set
    /// when libmodbus refuses the parameters. RTU over TCP has no libmodbus backend.
    func makeLibmodbusContext() throws(ModbusError) -> OpaquePointer {
        let created: OpaquePointer?
        switch self {
        case .tcp(let host, let port):
            created = modbus_new_tcp_pi(host, String(port))
        case .rtu(let s):
            created = modbus_new_rtu(s.device, Int32(s.baud), CChar(bitPattern: s.parity.rawValue.utf8.first!), Int32(s.dataBits), Int32(s.stopBits))
        case .rtuOverTCP:
            throw .invalidRequest("\(self): libmodbus has no RTU-over-TCP backend; use RTUOverTCPClient (ModbusConnection does)")
        }
        guard let created else { throw LibModbusError.current() }
        return created
    }
}
