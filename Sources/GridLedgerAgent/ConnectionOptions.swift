public import ArgumentParser
import ModbusCore
public import ModbusTransport

/// How a command reaches a device or bus: shared by `read` and `scan`.
public struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Modbus TCP device or gateway.", valueName: "HOST:PORT"))
    public var tcp: String?

    @Option(name: .long, help: ArgumentHelp("Serial device of a Modbus RTU (RS-485) bus.", valueName: "DEVICE"))
    public var rtu: String?

    @Option(name: .long, help: ArgumentHelp("Modbus RTU frames over TCP, through a transparent serial-to-Ethernet gateway.", valueName: "HOST:PORT"))
    public var rtuOverTcp: String?

    @Option(name: .long, help: "RTU baud rate.")
    public var baud: Int = 9600

    @Option(name: .long, help: "RTU parity: N, E or O.")
    public var parity: String = "N"

    @Option(name: .long, help: "RTU stop bits: 1 or 2.")
    public var stopBits: Int = 1

    @Option(name: .long, help: ArgumentHelp("Response timeout in milliseconds.", valueName: "MS"))
    public var timeout: Int = 1000

    public init() {}

    public func validate() throws {
        guard [tcp, rtu, rtuOverTcp].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --tcp HOST:PORT, --rtu DEVICE or --rtu-over-tcp HOST:PORT")
        }
        guard (10...60_000).contains(timeout) else { throw ValidationError("--timeout must be 10…60000 ms") }
        switch try endpoint() {
        case .tcp(_, 0), .rtuOverTCP(_, 0): throw ValidationError("a TCP endpoint needs a port (1…65535)")
        default: break
        }
    }

    public func endpoint() throws -> ModbusEndpoint {
        do {
            if let tcp { return try ModbusEndpoint(parsing: tcp.hasPrefix("tcp://") ? tcp : "tcp://\(tcp)") }
            if let rtuOverTcp { return try ModbusEndpoint(parsing: "rtu-over-tcp://\(rtuOverTcp)") }
            return try ModbusEndpoint(parsing: "rtu://\(rtu ?? "")?baud=\(baud)&parity=\(parity)&stop=\(stopBits)")
        } catch {
            throw ValidationError("\(error)".replacingOccurrences(of: "invalid request: ", with: ""))
        }
    }

    public var timeouts: ModbusClient.Timeouts {
        ModbusClient.Timeouts(response: .milliseconds(timeout), byte: .milliseconds(min(timeout, 100)))
    }
}
