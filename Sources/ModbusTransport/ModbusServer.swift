public import ModbusCore
import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// Answers register reads for a server. Returning nil keeps the server silent (a dead meter).
public protocol RegisterResponder: AnyObject {
    func respond(unit: UInt8, span: RegisterSpan) -> ModbusAnswer?
}

/// What a responder answers to a read request.
public enum ModbusAnswer: Sendable, Hashable {
    case registers([UInt16])
    case exception(ModbusExceptionCode)
}

/// A libmodbus server: Modbus TCP (many clients at once) or Modbus RTU (one unit id per serial
/// line, a libmodbus limit: its RTU backend drops frames for other unit ids before we see them).
///
/// `serve` blocks the calling thread until `shouldStop` returns true (checked at least every
/// `pollInterval`), so run it on a thread of its own.
public final class ModbusServer {
    public let endpoint: ModbusEndpoint
    private let context: OpaquePointer
    private var listenSocket: Int32 = -1
    /// One register table per function, each covering the whole 16-bit address space, filled
    /// with the responder's words just before each reply.
    private let mapping: UnsafeMutablePointer<modbus_mapping_t>
    public private(set) var requestsServed = 0
    /// The port actually bound (useful when asked for port 0).
    public private(set) var boundPort: Int?

    /// Creates the server and binds it (TCP) or opens the serial device (RTU) for `rtuUnit`.
    public init(endpoint: ModbusEndpoint, rtuUnit: UInt8 = 1) throws(ModbusError) {
        self.endpoint = endpoint
        if case .rtuOverTCP = endpoint { throw .invalidRequest("\(endpoint): the simulator serves Modbus TCP or RTU") }
        context = try endpoint.makeLibmodbusContext()
        if case .rtu = endpoint { modbus_set_slave(context, Int32(rtuUnit)) }
        guard let table = modbus_mapping_new_start_address(0, 0, 0, 0, 0, 0x10000, 0, 0x10000) else {
            modbus_free(context)
            throw .connection("out of memory for the register map")
        }
        mapping = table
        switch endpoint {
        case .tcp:
            listenSocket = modbus_tcp_pi_listen(context, 16)
            // On failure, deinit releases the context and mapping: a class whose stored
            // properties are all set runs deinit even when its initializer throws.
            guard listenSocket >= 0 else {
                throw .connection("cannot listen on \(endpoint): \(String(cString: modbus_strerror(errno)))")
            }
            boundPort = Self.localPort(of: listenSocket)
        case .rtu, .rtuOverTCP:
            guard modbus_connect(context) == 0 else {
                throw .connection("cannot open \(endpoint): \(String(cString: modbus_strerror(errno)))")
            }
            _ = modbus_flush(context)
        }
    }

    deinit {
        if listenSocket >= 0 { Glibc.close(listenSocket) }
        modbus_close(context)
        modbus_mapping_free(mapping)
        modbus_free(context)
    }

    /// Serves requests until `shouldStop()` is true.
    public func serve(responder: any RegisterResponder, pollInterval: Duration = .milliseconds(100), shouldStop: () -> Bool) {
        switch endpoint {
        case .tcp: serveTCP(responder: responder, pollInterval: pollInterval, shouldStop: shouldStop)
        case .rtu, .rtuOverTCP: serveRTU(responder: responder, pollInterval: pollInterval, shouldStop: shouldStop)
        }
    }

    private func serveTCP(responder: any RegisterResponder, pollInterval: Duration, shouldStop: () -> Bool) {
        var clients: [Int32] = []
        let timeoutMillis = Int32(pollInterval.components.seconds * 1000 + pollInterval.components.attoseconds / 1_000_000_000_000_000)
        var query = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        defer {
            for fd in clients { Glibc.close(fd) }
            // The context still names the last client's descriptor, now closed; `modbus_close` in
            // deinit would close that number again, which by then may be another thread's socket
            // (seen in CI: a freshly started simulator's listening socket, refusing connections).
            modbus_set_socket(context, -1)
        }
        while !shouldStop() {
            var fds = [pollfd(fd: listenSocket, events: Int16(POLLIN), revents: 0)]
            fds += clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), timeoutMillis)
            if ready <= 0 { continue }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let fd = accept(listenSocket, nil, nil)
                if fd >= 0 { clients.append(fd) }
            }
            var closed: Set<Int32> = []
            for entry in fds.dropFirst() where entry.revents != 0 {
                modbus_set_socket(context, entry.fd)
                let length = query.withUnsafeMutableBufferPointer { modbus_receive(context, $0.baseAddress) }
                if length > 0 {
                    handle(query: query, length: Int(length), responder: responder)
                } else if length < 0 {
                    closed.insert(entry.fd)
                }
            }
            for fd in closed { Glibc.close(fd) }
            clients.removeAll { closed.contains($0) }
        }
    }

    private func serveRTU(responder: any RegisterResponder, pollInterval: Duration, shouldStop: () -> Bool) {
        let (seconds, attoseconds) = pollInterval.components
        modbus_set_indication_timeout(context, UInt32(seconds), UInt32(attoseconds / 1_000_000_000_000))
        var query = [UInt8](repeating: 0, count: Int(MODBUS_RTU_MAX_ADU_LENGTH))
        while !shouldStop() {
            let length = query.withUnsafeMutableBufferPointer { modbus_receive(context, $0.baseAddress) }
            if length > 0 {
                handle(query: query, length: Int(length), responder: responder)
            } else if length < 0, errno != ETIMEDOUT {
                _ = modbus_flush(context)
            }
        }
    }

    private func handle(query: [UInt8], length: Int, responder: any RegisterResponder) {
        let header = Int(modbus_get_header_length(context))
        guard length >= header + 5 else { return }
        let unit = query[header - 1]
        let function = query[header]
        let address = UInt16(query[header + 1]) << 8 | UInt16(query[header + 2])
        let count = UInt16(query[header + 3]) << 8 | UInt16(query[header + 4])
        requestsServed += 1
        let table: RegisterFunction
        switch function {
        case 3: table = .holding
        case 4: table = .input
        default:
            query.withUnsafeBufferPointer { _ = modbus_reply_exception(context, $0.baseAddress, UInt32(MODBUS_EXCEPTION_ILLEGAL_FUNCTION)) }
            return
        }
        guard (1...UInt16(modbusMaxRegistersPerRead)).contains(count), Int(address) + Int(count) <= 0x10000 else {
            query.withUnsafeBufferPointer { _ = modbus_reply_exception(context, $0.baseAddress, UInt32(MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE)) }
            return
        }
        let span = RegisterSpan(table, address: address, count: count)
        switch responder.respond(unit: unit, span: span) {
        case nil:
            return
        case .exception(let exception)?:
            query.withUnsafeBufferPointer { _ = modbus_reply_exception(context, $0.baseAddress, UInt32(exception.rawValue)) }
        case .registers(let words)?:
            let target = table == .input ? mapping.pointee.tab_input_registers! : mapping.pointee.tab_registers!
            for (i, word) in words.prefix(Int(count)).enumerated() { target[Int(address) + i] = word }
            query.withUnsafeBufferPointer { _ = modbus_reply(context, $0.baseAddress, Int32(length), mapping) }
        }
    }

    private static func localPort(of socket: Int32) -> Int? {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &size) }
        }
        guard ok == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return nil
        }
    }
}
