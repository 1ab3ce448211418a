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
