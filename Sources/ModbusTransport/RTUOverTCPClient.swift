public import ModbusCore
#if canImport(Glibc)
import Glibc
#endif

/// A Modbus RTU-over-TCP client: RTU frames (unit id, PDU, CRC-16, no MBAP header) on a plain
/// TCP connection, as transparent serial-to-Ethernet gateways (USR-TCP232, Elfin EW11, …) expect
/// them. libmodbus has no backend for this, so the framing is `ModbusCore.RTUFrame` and the socket
/// is driven here with poll().
///
/// Not thread-safe: one owner at a time (a bus worker), like ``ModbusClient``. Behind the gateway
/// is one serial bus, so requests are strictly one after another. Connects lazily on the first
/// read and reconnects after a link failure; a connection the gateway closed while idle is
/// noticed before the next request is sent and replaced without failing that request.
///
/// ```swift
/// let client = try RTUOverTCPClient(host: "192.168.1.50", port: 8899)
/// let words = try client.readRegisters(unit: 1, span: RegisterSpan(.input, address: 0, count: 2))
/// ```
public final class RTUOverTCPClient: RegisterReader, CustomStringConvertible {
    /// The gateway's host name or address.
    public let host: String
    /// The gateway's TCP port (often 502, 8899 or 4196, depending on the model).
    public let port: Int
    /// `response` bounds the wait for the first byte of an answer (and the TCP connect);
    /// `byte` bounds the silence between two chunks of one answer.
    public let timeouts: ModbusClient.Timeouts
    /// Requests sent since creation, for metrics and the transaction-count benchmark.
    public private(set) var transactions = 0
    /// The connected socket, or -1.
    private var socket: Int32 = -1

    /// Checks the arguments only; the connection is opened by the first read (or `connect()`).
    public init(host: String, port: Int, timeouts: ModbusClient.Timeouts = .init()) throws(ModbusError) {
        guard !host.isEmpty, !host.contains("\0") else { throw .invalidRequest("RTU-over-TCP gateway host is empty") }
        guard (1...65535).contains(port) else { throw .invalidRequest("RTU-over-TCP gateway port \(port) is not 1…65535") }
        self.host = host
        self.port = port
        self.timeouts = timeouts
    }

    deinit {
        if socket >= 0 { _ = Glibc.close(socket) }
    }

    /// `rtu-over-tcp://HOST:PORT`, the form used in error messages.
    public var description: String {
        host.contains(":") ? "rtu-over-tcp://[\(host)]:\(port)" : "rtu-over-tcp://\(host):\(port)"
    }

    /// True while a connection is open (it may still turn out to be closed by the gateway).
    public var isConnected: Bool { socket >= 0 }

    /// Opens the TCP connection if none is open. Every resolved address is tried in turn within
    /// one response timeout, so an unreachable gateway costs at most that long (plus name
    /// resolution, which getaddrinfo does not bound: configure gateways by address).
    public func connect() throws(ModbusError) {
        guard socket < 0 else { return }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw .connection("\(self): cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }

        let deadline = ContinuousClock.now + timeouts.response
        var failure = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let info = entry {
            entry = info.pointee.ai_next
            switch Self.open(info.pointee, until: deadline) {
            case .success(let fd):
                socket = fd
                return
            case .failure(let reason):
                failure = reason
            }
        }
        throw .connection("\(self): \(failure)")
    }

    /// Closes the connection; the next read opens a new one.
    public func close() {
        guard socket >= 0 else { return }
        _ = Glibc.close(socket)
        socket = -1
    }

    /// Sends one read request and waits for its answer.
    ///
    /// Throws `.exception` when the device refused (the connection stays open), `.timeout` when
    /// no complete answer came in time, `.invalidResponse` for a garbled one and `.connection`
    /// when the link failed. After the last three the connection is closed, so a late or
    /// half-read answer can never be taken for the answer to the next request.
    public func readRegisters(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16] {
        guard span.count >= 1, Int(span.count) <= modbusMaxRegistersPerRead, span.end <= 0x10000 else {
            throw .invalidRequest("cannot read \(span): 1…125 registers within 0…65535")
        }
        // Unit 0 is the RTU broadcast address: the bus behind the gateway never answers it.
        guard unit != 0 else { throw .invalidRequest("unit 0 is the RTU broadcast address and gets no answer") }
        discardStaleInput()
        try connect()
        let request = RTUFrame.readRequest(unit: unit, span: span)
        transactions += 1
        do {
            try send(request)
            return try receive(unit: unit, span: span)
        } catch {
            recover(after: error)
            throw error
        }
    }

    // MARK: - Request and answer

    private func send(_ frame: [UInt8]) throws(ModbusError) {
        let deadline = ContinuousClock.now + timeouts.response
        var offset = 0
        while offset < frame.count {
            // MSG_NOSIGNAL: a connection reset by the gateway must be an error, not SIGPIPE.
            let sent = frame.withUnsafeBytes { bytes in
                Glibc.send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            let error = errno
            if sent < 0 && error == EINTR { continue }
            if sent < 0 && (error == EAGAIN || error == EWOULDBLOCK) {
                guard try wait(for: Int16(POLLOUT), until: deadline) else {
                    throw .connection("\(self): the gateway accepts no data (send buffer full)")
                }
                continue
            }
            throw .connection("\(self): send failed: \(Self.describe(error))")
        }
    }

    private func receive(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16] {
        var answer: [UInt8] = []
        answer.reserveCapacity(RTUFrame.maxFrameLength)
        var chunk = [UInt8](repeating: 0, count: RTUFrame.maxFrameLength)
        var deadline = ContinuousClock.now + timeouts.response
        while true {
            let needed: Int
            switch RTUFrame.parseReadResponse(answer, unit: unit, span: span) {
            case .registers(let words): return words
            case .failure(let error): throw error
            case .needMore(let more): needed = more
            }
            // Cannot happen for a valid span (5 + 2 × 125 bytes); keeps the buffer bounded anyway.
            guard answer.count + needed <= RTUFrame.maxFrameLength else {
                throw .invalidResponse("answer from unit \(unit) would exceed \(RTUFrame.maxFrameLength) bytes")
            }
            guard try wait(for: Int16(POLLIN), until: deadline) else {
                throw .timeout(answer.isEmpty
                    ? "unit \(unit) via \(self): nothing within \(timeouts.response) for \(span)"
                    : "unit \(unit) via \(self): answer stopped after \(answer.count) bytes for \(span)")
            }
            // Read only what the frame still needs: bytes of anything later stay in the socket.
            let received = chunk.withUnsafeMutableBytes { Glibc.read(socket, $0.baseAddress, needed) }
            if received > 0 {
                answer.append(contentsOf: chunk[..<received])
                deadline = ContinuousClock.now + timeouts.byte
                continue
            }
            if received == 0 { throw .connection("\(self): the gateway closed the connection") }
            let error = errno
            if error == EINTR || error == EAGAIN || error == EWOULDBLOCK { continue }
            throw .connection("\(self): receive failed: \(Self.describe(error))")
        }
    }

    /// Leaves the link clean for the next request: a late answer must not be taken for the next one.
    private func recover(after error: ModbusError) {
        switch error {
        case .exception, .invalidRequest:
            break
        case .timeout, .invalidResponse, .connection:
            close()
        }
    }

    /// Before a request: drops bytes nobody asked for (a gateway's banner, line noise forwarded
    /// from the bus) and notices a connection the gateway closed while idle (many close idle
    /// clients after a minute), so the request goes out on a fresh connection instead of failing.
    private func discardStaleInput() {
        guard socket >= 0 else { return }
        var scratch = [UInt8](repeating: 0, count: RTUFrame.maxFrameLength)
        // Bounded: a gateway that streams without end gets a new connection instead.
        for _ in 0..<16 {
            let received = scratch.withUnsafeMutableBytes { Glibc.read(socket, $0.baseAddress, $0.count) }
            if received > 0 { continue }
            if received < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK { return }
            }
            break  // end of stream or a socket error
        }
        close()
    }

    // MARK: - Sockets

    /// Waits until the socket is ready for `events` or `deadline` passes. Returns false on
    /// timeout; throws when the socket reports an error without being readable or writable.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) throws(ModbusError) -> Bool {
        while true {
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Self.milliseconds(until: deadline))
            if ready > 0 {
                if descriptor.revents & Int16(POLLNVAL) != 0 { throw .connection("\(self): socket is not open") }
                // POLLHUP/POLLERR: the following read or send reports what happened.
                return true
            }
            if ready == 0 { return false }
            let error = errno
            guard error == EINTR else { throw .connection("\(self): poll failed: \(Self.describe(error))") }
        }
    }

    private enum OpenResult {
        case success(Int32)
        case failure(String)
    }

    /// A non-blocking, connected TCP socket to `info`, or why there is none by `deadline`.
    private static func open(_ info: addrinfo, until deadline: ContinuousClock.Instant) -> OpenResult {
        let fd = Glibc.socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else { return .failure("socket: \(describe(errno))") }
        var keep = false
        defer { if !keep { _ = Glibc.close(fd) } }

        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { return .failure("fcntl: \(describe(errno))") }
        // Frames are small and strictly request/answer: Nagle would only add latency.
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            let error = errno
            guard error == EINPROGRESS || error == EINTR else { return .failure("connect: \(describe(error))") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            while true {
                let ready = poll(&descriptor, 1, milliseconds(until: deadline))
                if ready > 0 { break }
                if ready == 0 { return .failure("connect: no answer within the response timeout") }
                guard errno == EINTR else { return .failure("poll: \(describe(errno))") }
            }
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 else { return .failure("getsockopt: \(describe(errno))") }
            guard pending == 0 else { return .failure("connect: \(describe(pending))") }
        }
        keep = true
        return .success(fd)
    }

    /// Time left until `deadline` as a poll() timeout, rounded up so a wait never ends early.
    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }

    private static func describe(_ error: Int32) -> String {
        String(cString: strerror(error))
    }
}
