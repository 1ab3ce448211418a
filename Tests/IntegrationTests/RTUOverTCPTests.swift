import GridLedgerTestSupport
import ModbusCore
import ModbusTransport
import Testing

/// ``RTUOverTCPClient`` against pymodbus serving RTU frames over TCP (a peer we did not write),
/// the way a transparent serial-to-Ethernet gateway forwards them to an RS-485 bus.
extension Integration {
    @Suite("Modbus RTU over TCP against pymodbus", .serialized)
    struct RTUOverTCPTests {
        static let timeouts = ModbusClient.Timeouts(response: .milliseconds(300), byte: .milliseconds(50))

        /// Unit 1: float32 230.5 at input 0…1, int32 -42 low word first at holding 40…41.
        static func meter() -> ModbusPeer.Unit {
            var unit = ModbusPeer.Unit()
            unit.set(.input, 0, RegisterCodec.encode(float: 230.5, order: .highFirst))
            unit.set(.holding, 40, RegisterCodec.encode(integer: -42, as: .int32, order: .lowFirst))
            return unit
        }

        /// The error a read throws, or nil when it returns registers.
        static func error(reading span: RegisterSpan, unit: UInt8, from client: RTUOverTCPClient) -> ModbusError? {
            do {
                _ = try client.readRegisters(unit: unit, span: span)
                return nil
            } catch {
                return error
            }
        }

        @Test func readsFloat32AndInt32FromUnit1() async throws {
            let peer = try await ModbusPeer.rtuOverTCP(units: [1: Self.meter()])
            let client = try RTUOverTCPClient(host: "127.0.0.1", port: try #require(peer.port), timeouts: Self.timeouts)
            let words = try client.readRegisters(unit: 1, span: RegisterSpan(.input, address: 0, count: 2))
            #expect(RegisterCodec.decode(words[...], as: .float32, order: .highFirst) == .float(230.5))
            let holding = try client.readRegisters(unit: 1, span: RegisterSpan(.holding, address: 40, count: 2))
            #expect(RegisterCodec.decode(holding[...], as: .int32, order: .lowFirst) == .integer(-42))
            #expect(client.transactions == 2)
            try await Task.sleep(for: .milliseconds(50))  // the peer flushes its log per request
            #expect(peer.requests() == ["unit=1 function=4 address=0 count=2", "unit=1 function=3 address=40 count=2"])
            client.close()
            await peer.stop()
        }

        @Test func silentAndAbsentUnitsTimeOutThenUnit1IsReadAgain() async throws {
            let peer = try await ModbusPeer.rtuOverTCP(units: [1: Self.meter()], silentUnits: [3])
            let client = try RTUOverTCPClient(host: "127.0.0.1", port: try #require(peer.port), timeouts: Self.timeouts)
            let span = RegisterSpan(.input, address: 0, count: 2)
            for unit: UInt8 in [3, 4] {  // 3 is declared silent, 4 is simply not on the bus
                let started = ContinuousClock.now
                let error = Self.error(reading: span, unit: unit, from: client)
                let elapsed = ContinuousClock.now - started
                guard case .timeout = error else {
                    Issue.record("unit \(unit): expected a timeout, got \(String(describing: error))")
                    continue
                }
                #expect(elapsed >= .milliseconds(280) && elapsed < .milliseconds(800), "unit \(unit): timed out after \(elapsed)")
                // Closed, so a late answer cannot be taken for the next request's.
                #expect(!client.isConnected)
            }
            let words = try client.readRegisters(unit: 1, span: span)
            #expect(words == RegisterCodec.encode(float: 230.5, order: .highFirst))
            #expect(client.transactions == 3)
            client.close()
            await peer.stop()
        }

        @Test func exceptionLeavesTheConnectionUsable() async throws {
            var meter = Self.meter()
            meter.maxRegistersPerRead = 10
            let peer = try await ModbusPeer.rtuOverTCP(units: [1: meter])
            let client = try RTUOverTCPClient(host: "127.0.0.1", port: try #require(peer.port), timeouts: Self.timeouts)
            let undefined = RegisterSpan(.input, address: 5, count: 1)
            #expect(Self.error(reading: undefined, unit: 1, from: client) == .exception(.illegalDataAddress, undefined))
            #expect(client.isConnected)
            // More registers than this meter reads at once: refused with exception 3.
            let tooMany = RegisterSpan(.input, address: 0, count: 11)
            #expect(Self.error(reading: tooMany, unit: 1, from: client) == .exception(.illegalDataValue, tooMany))
            #expect(client.isConnected)
            let words = try client.readRegisters(unit: 1, span: RegisterSpan(.input, address: 0, count: 2))
            #expect(words == RegisterCodec.encode(float: 230.5, order: .highFirst))
            client.close()
            await peer.stop()
        }

        @Test func reconnectsAfterThePeerRestarts() async throws {
            let first = try await ModbusPeer.rtuOverTCP(units: [1: Self.meter()])
            let port = try #require(first.port)
            let client = try RTUOverTCPClient(host: "127.0.0.1", port: port, timeouts: Self.timeouts)
            let span = RegisterSpan(.input, address: 0, count: 2)
            _ = try client.readRegisters(unit: 1, span: span)
            await first.stop()

            // Nobody listens: refused at once, not after a timeout.
            let started = ContinuousClock.now
            let down = Self.error(reading: span, unit: 1, from: client)
            guard case .connection = down else {
                Issue.record("with the peer stopped: expected a connection error, got \(String(describing: down))")
                return
            }
            #expect(ContinuousClock.now - started < .milliseconds(200))
            #expect(!client.isConnected)

            let second = try await ModbusPeer.rtuOverTCP(units: [1: Self.meter()], port: port)
            #expect(try client.readRegisters(unit: 1, span: span) == RegisterCodec.encode(float: 230.5, order: .highFirst))
            // Restarted again under an open connection: the closed connection is noticed before the
            // next request goes out, so that request succeeds on a new one.
            await second.stop()
            let third = try await ModbusPeer.rtuOverTCP(units: [1: Self.meter()], port: port)
            #expect(try client.readRegisters(unit: 1, span: span) == RegisterCodec.encode(float: 230.5, order: .highFirst))
            client.close()
            await third.stop()
        }

        /// A gateway misbehaving on purpose, which pymodbus cannot be made to do. Answers every
        /// request as if for 2 registers holding 230.5, shaped by the unit id: 1 in two TCP chunks
        /// 20 ms apart, 2 with a damaged CRC, 3 stalling 1 s after 4 bytes, 4 from unit 5 instead,
        /// 5 followed by 3 stray bytes. Prints READY port=N, then CONNECT per accepted connection.
        static let faultyGateway = #"""
        import signal, socket, threading, time
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        def frame(body):
            crc = 0xFFFF
            for byte in body:
                crc ^= byte
                for _ in range(8):
                    crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
            return body + bytes([crc & 255, crc >> 8])
        def serve(conn):
            with conn:
                while True:
                    req = b""
                    while len(req) < 8:
                        chunk = conn.recv(8 - len(req))
                        if not chunk:
                            return
                        req += chunk
                    unit, answer = req[0], frame(bytes([req[0], req[1], 4, 0x43, 0x66, 0x80, 0x00]))
                    if unit == 1:
                        conn.sendall(answer[:4]); time.sleep(0.02); conn.sendall(answer[4:])
                    elif unit == 2:
                        conn.sendall(answer[:-1] + bytes([answer[-1] ^ 0xFF]))
                    elif unit == 3:
                        conn.sendall(answer[:4]); time.sleep(1); conn.sendall(answer[4:])
                    elif unit == 4:
                        conn.sendall(frame(bytes([5, req[1], 4, 0x43, 0x66, 0x80, 0x00])))
                    elif unit == 5:
                        conn.sendall(answer + bytes([0xFF, 0xFF, 0xFF]))
        def guarded(conn):
            try:
                serve(conn)
            except OSError:
                pass  # the client closed first, as it should after a timeout
        server = socket.create_server(("127.0.0.1", 0))
        print("READY port=%d" % server.getsockname()[1], flush=True)
        while True:
            conn, _ = server.accept()
            print("CONNECT", flush=True)
            threading.Thread(target=guarded, args=(conn,), daemon=True).start()
        """#

        @Test func garbledAndStalledAnswersCloseTheConnection() async throws {
            let gateway = try ChildProcess(try TestEnvironment.peerPython(), ["-c", Self.faultyGateway])
            let ready = try await gateway.waitForLine(startingWith: "READY")
            let port = try #require(ready.split(separator: "port=").last.flatMap { Int($0) })
            let client = try RTUOverTCPClient(host: "127.0.0.1", port: port, timeouts: Self.timeouts)
            let span = RegisterSpan(.input, address: 0, count: 2)
            let value = RegisterCodec.encode(float: 230.5, order: .highFirst)

            // Chunks within the byte timeout are one answer; stray bytes after an answer are
            // dropped before the next request instead of being read as its answer.
            #expect(try client.readRegisters(unit: 1, span: span) == value)
            #expect(try client.readRegisters(unit: 5, span: span) == value)
            #expect(try client.readRegisters(unit: 1, span: span) == value)
            #expect(client.isConnected)

            for unit: UInt8 in [2, 4] {
                guard case .invalidResponse = Self.error(reading: span, unit: unit, from: client) else {
                    Issue.record("unit \(unit): expected an invalid response")
                    continue
                }
                #expect(!client.isConnected)
            }

            // The answer starts at once and then stalls: the byte timeout (50 ms) ends the wait,
            // not the response timeout (300 ms).
            let started = ContinuousClock.now
            let stalled = Self.error(reading: span, unit: 3, from: client)
            let elapsed = ContinuousClock.now - started
            guard case .timeout = stalled else {
                Issue.record("stalled answer: expected a timeout, got \(String(describing: stalled))")
                await gateway.stop()
                return
            }
            #expect(elapsed >= .milliseconds(40) && elapsed < .milliseconds(250), "stalled answer timed out after \(elapsed)")
            #expect(!client.isConnected)

            #expect(try client.readRegisters(unit: 1, span: span) == value)
            #expect(client.transactions == 7)
            // One connection for the first four requests, then one after each failure.
            #expect(gateway.standardOutput.split(separator: "\n").filter { $0 == "CONNECT" }.count == 4)
            client.close()
            await gateway.stop()
        }

        @Test func invalidArgumentsAreRefusedWithoutSending() throws {
            // No peer: nothing may be sent, so nothing needs to listen.
            let client = try RTUOverTCPClient(host: "127.0.0.1", port: 9, timeouts: Self.timeouts)
            for (unit, span) in [(UInt8(0), RegisterSpan(.input, address: 0, count: 1)),
                                 (1, RegisterSpan(.input, address: 0, count: 0)),
                                 (1, RegisterSpan(.input, address: 0, count: 126)),
                                 (1, RegisterSpan(.holding, address: 0xFFFF, count: 2))] {
                guard case .invalidRequest = Self.error(reading: span, unit: unit, from: client) else {
                    Issue.record("unit \(unit) \(span) was not refused as invalid")
                    continue
                }
            }
            #expect(client.transactions == 0)
            #expect(throws: ModbusError.self) { try RTUOverTCPClient(host: "127.0.0.1", port: 0) }
            #expect(throws: ModbusError.self) { try RTUOverTCPClient(host: "", port: 502) }
        }
    }
}
