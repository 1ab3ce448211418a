public import ModbusCore

/// Where a Modbus device (or bus) is reached.
///
/// Text forms, as used in configuration files and on the command line:
/// - `tcp://HOST:PORT` (port defaults to 502), also plain `HOST:PORT`
/// - `rtu:///dev/ttyUSB0?baud=9600&parity=N&data=8&stop=1` (defaults 9600 8N1)
/// - `rtu-over-tcp://HOST:PORT`: RTU frames over a TCP socket, as transparent serial-to-Ethernet
///   gateways forward them
public enum ModbusEndpoint: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case rtu(SerialSettings)
    case rtuOverTCP(host: String, port: Int)

    public struct SerialSettings: Sendable, Hashable {
        public var device: String
        public var baud: Int
        public var parity: Parity
        public var dataBits: Int
        public var stopBits: Int

        public init(device: String, baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1) {
            self.device = device
            self.baud = baud
            self.parity = parity
            self.dataBits = dataBits
            self.stopBits = stopBits
        }
    }

    public enum Parity: String, Sendable, Hashable {
        case none = "N", even = "E", odd = "O"
    }

    /// Parses the text forms above; the error names what is wrong.
    public init(parsing text: String) throws(ModbusError) {
        if text.hasPrefix("rtu://") {
            let rest = text.dropFirst("rtu://".count)
            let parts = rest.split(separator: "?", maxSplits: 1)
            guard let device = parts.first.map(String.init), device.hasPrefix("/") else {
                throw .invalidRequest("'\(text)': an RTU endpoint is rtu:///dev/DEVICE[?baud=9600&parity=N&data=8&stop=1]")
            }
            var settings = SerialSettings(device: device)
            if parts.count == 2 {
                for pair in parts[1].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { throw .invalidRequest("'\(text)': option '\(pair)' is not key=value") }
                    switch kv[0] {
                    case "baud":
                        guard let baud = Int(kv[1]), [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].contains(baud) else {
                            throw .invalidRequest("'\(text)': baud must be one of 1200…115200")
                        }
                        settings.baud = baud
                    case "parity":
                        guard let parity = Parity(rawValue: kv[1].uppercased()) else { throw .invalidRequest("'\(text)': parity is N, E or O") }
                        settings.parity = parity
                    case "data":
                        guard let bits = Int(kv[1]), (5...8).contains(bits) else { throw .invalidRequest("'\(text)': data bits are 5…8") }
                        settings.dataBits = bits
                    case "stop":
                        guard let bits = Int(kv[1]), (1...2).contains(bits) else { throw .invalidRequest("'\(text)': stop bits are 1 or 2") }
                        settings.stopBits = bits
                    default:
                        throw .invalidRequest("'\(text)': unknown option '\(kv[0])' (baud, parity, data, stop)")
                    }
                }
            }
            self = .rtu(settings)
            return
        }
        let overTCP = text.hasPrefix("rtu-over-tcp://")
        let hostPort = overTCP ? String(text.dropFirst("rtu-over-tcp://".count))
            : text.hasPrefix("tcp://") ? String(text.dropFirst("tcp://".count)) : text
        guard !hostPort.isEmpty, !hostPort.contains("/") else {
            throw .invalidRequest("'\(text)' is not an endpoint: use tcp://HOST:PORT or rtu:///dev/DEVICE")
        }
        let host: String
        var port = 502
        if hostPort.hasPrefix("[") {
            // [::1]:502
            guard let close = hostPort.firstIndex(of: "]") else { throw .invalidRequest("'\(text)': unclosed [ in IPv6 address") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let tail = hostPort[hostPort.index(after: close)...]
            if tail.hasPrefix(":") {
                guard let p = Int(tail.dropFirst()), (0...65535).contains(p) else { throw .invalidRequest("'\(text)': port must be 0…65535") }
                port = p
            }
        } else {
            let parts = hostPort.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty else { throw .invalidRequest("'\(text)': expected HOST:PORT") }
            host = String(parts[0])
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...65535).contains(p) else { throw .invalidRequest("'\(text)': port must be 0…65535") }
                port = p
            }
        }
        self = overTCP ? .rtuOverTCP(host: host, port: port) : .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port):
            host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        case .rtu(let s):
            "rtu://\(s.device)?baud=\(s.baud)&parity=\(s.parity.rawValue)&data=\(s.dataBits)&stop=\(s.stopBits)"
        case .rtuOverTCP(let host, let port):
            host.contains(":") ? "rtu-over-tcp://[\(host)]:\(port)" : "rtu-over-tcp://\(host):\(port)"
        }
    }

    /// True for serial buses (also behind a gateway), where meters share one line.
    public var isSerial: Bool {
        switch self {
        case .rtu, .rtuOverTCP: true
        case .tcp: false
        }
    }
}
