/// A Modbus exception code returned by a device (Modbus Application Protocol v1.1b3, 7).
public enum ModbusExceptionCode: UInt8, Sendable, Hashable, CustomStringConvertible {
    case illegalFunction = 1
    case illegalDataAddress = 2
    case illegalDataValue = 3
    case serverDeviceFailure = 4
    case acknowledge = 5
    case serverDeviceBusy = 6
    case memoryParityError = 8
    case gatewayPathUnavailable = 10
    case gatewayTargetFailedToRespond = 11

    public var description: String {
        switch self {
        case .illegalFunction: "illegal function"
        case .illegalDataAddress: "illegal data address"
        case .illegalDataValue: "illegal data value"
        case .serverDeviceFailure: "server device failure"
        case .acknowledge: "acknowledge"
        case .serverDeviceBusy: "server device busy"
        case .memoryParityError: "memory parity error"
        case .gatewayPathUnavailable: "gateway path unavailable"
        case .gatewayTargetFailedToRespond: "gateway target device failed to respond"
        }
    }
}

/// Why a Modbus request did not return registers.
public enum ModbusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The device answered with an exception: it is alive, the request was refused.
    case exception(ModbusExceptionCode, RegisterSpan?)
    /// No (valid) answer within the response timeout: the device may be dead or absent.
    case timeout(String)
    /// The link itself failed (connection refused or lost, serial port gone); reconnect.
    case connection(String)
    /// An answer arrived but was malformed (CRC error, wrong length, wrong unit id).
    case invalidResponse(String)
    /// The request was never sent because its arguments are invalid.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .exception(let code, let span):
            "device answered with exception \(code.rawValue) (\(code))" + (span.map { " for \($0)" } ?? "")
        case .timeout(let detail): "no answer from the device (\(detail))"
        case .connection(let detail): "connection failed: \(detail)"
        case .invalidResponse(let detail): "invalid response: \(detail)"
        case .invalidRequest(let detail): "invalid request: \(detail)"
        }
    }

    /// True when the device is known to be alive (it answered), even though it refused.
    public var deviceAnswered: Bool {
        if case .exception = self { return true }
        return false
    }
}
