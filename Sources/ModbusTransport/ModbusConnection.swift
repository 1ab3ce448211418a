public import ModbusCore

/// A client for any ``ModbusEndpoint``: libmodbus for Modbus TCP and RTU, our own framing for
/// RTU over TCP (which libmodbus 3.1 lacks). One concrete type, so a bus worker needs no
/// existential on its hot path.
public enum ModbusConnection: RegisterReader {
    case libmodbus(ModbusClient)
    case rtuOverTCP(RTUOverTCPClient)

    /// Creates the client an endpoint needs. Nothing is opened until the first read.
    public init(endpoint: ModbusEndpoint, timeouts: ModbusClient.Timeouts = .init()) throws(ModbusError) {
        switch endpoint {
        case .tcp, .rtu:
            self = .libmodbus(try ModbusClient(endpoint: endpoint, timeouts: timeouts))
        case .rtuOverTCP(let host, let port):
            self = .rtuOverTCP(try RTUOverTCPClient(host: host, port: port, timeouts: timeouts))
        }
    }

    public mutating func readRegisters(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16] {
        switch self {
        case .libmodbus(let client): try client.readRegisters(unit: unit, span: span)
        case .rtuOverTCP(let client): try client.readRegisters(unit: unit, span: span)
        }
    }

    /// Requests sent so far.
    public var transactions: Int {
        switch self {
        case .libmodbus(let client): client.transactions
        case .rtuOverTCP(let client): client.transactions
        }
    }
}
