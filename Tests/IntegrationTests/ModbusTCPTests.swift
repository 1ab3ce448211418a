import DeviceProfiles
import Foundation
import GridLedgerAgent
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import ModbusCore
import ModbusTransport
import Synchronization
import Testing

/// Every device profile read over Modbus TCP from a pymodbus server (a peer we did not write)
/// holding the profile's hand-computed vector words.
extension Integration {
    @Suite("Modbus TCP against pymodbus", .serialized)
    struct ModbusTCPTests {
        static let deviceProfiles = catalog.devices.map(\.id)

        @Test(arguments: deviceProfiles)
        func readsProfileFromPymodbus(profileID: String) async throws {
            let profile = try catalog.profile(profileID)
            let vector = try DecodeVector.load("\(profileID).yaml")
            let peer = try await ModbusPeer.tcp(units: [7: peerUnit(for: profile, vector: vector)])
            defer { Task { await peer.stop() } }
            let port = try #require(peer.port)
            let bus = try buildBus(BusConfiguration(
                name: "tcp", endpoint: .tcp(host: "127.0.0.1", port: port),
                meters: [MeterConfiguration(name: "meter", unit: 7, profile: profileID)]), catalog: catalog)
            let readings = await bus.pollDueMetersIgnoringSchedule(clock: ManualClock())
            let reading = try #require(readings.first?.reading)
            #expect(reading.status == .complete, "\(reading.problems)")
            for (quantity, value) in vector.expected {
                #expect(reading[quantity] == value, "\(profileID): \(quantity.rawValue) = \(reading[quantity]?.description ?? "nothing"), expected \(value)")
            }
            for quantity in vector.absent { #expect(reading[quantity] == nil) }
            // A second poll uses the plan learnt in the first: exactly requestsPerReading requests.
            let before = peer.requests().count
            let second = await bus.pollDueMetersIgnoringSchedule(clock: ManualClock())
            #expect(second.first?.reading.status == .complete)
            let session = try #require(await bus.sessions().first)
            try await Task.sleep(for: .milliseconds(50))  // the peer flushes its log per request
            #expect(peer.requests().count - before == session.requestsPerReading)
            await peer.stop()
        }

        @Test func sdm630OnAPermissiveDeviceTakesThreeTransactions() async throws {
            let profile = try catalog.profile("eastron-sdm630")
            // Fill every register from 0 to 0x170 so merged reads are accepted, as a real SDM630 does.
            var unit = ModbusPeer.Unit()
            unit.set(.input, 0, [UInt16](repeating: 0, count: 0x170))
            unit.set(.holding, 0xFC00, [0, 1, 0x70])
            let peer = try await ModbusPeer.tcp(units: [1: unit])
            let bus = try buildBus(BusConfiguration(name: "tcp", endpoint: .tcp(host: "127.0.0.1", port: try #require(peer.port)),
                                                    meters: [MeterConfiguration(name: "m", unit: 1, profile: profile.id)]), catalog: catalog)
            let reading = try #require(await bus.pollDueMetersIgnoringSchedule(clock: ManualClock()).first?.reading)
            #expect(reading.status == .complete)
            #expect(reading.measurements.count == profile.fields.count)
            try await Task.sleep(for: .milliseconds(50))
            #expect(peer.requests().count == 3 + 1)  // and the serial number, once, on first contact
            await peer.stop()
        }

        @Test func sunspecInverterOverTCP() async throws {
            var unit = ModbusPeer.Unit()
            unit.set(.holding, 40000, [0x5375, 0x6E53, 1, 65])
            unit.set(.holding, 40004, RegisterCodec.encodeString("Fronius", count: 16) + RegisterCodec.encodeString("Symo", count: 16)
                + [UInt16](repeating: 0, count: 16) + RegisterCodec.encodeString("SN123", count: 16) + [1])
            var m103 = [UInt16](repeating: 0, count: 50)
            m103[1] = 1000; m103[4] = UInt16(bitPattern: -2)        // 10.00 A
            m103[8] = 2300; m103[11] = UInt16(bitPattern: -1)       // 230.0 V
            m103[12] = 4200; m103[13] = 0                           // 4200 W produced
            m103[14] = 5000; m103[15] = UInt16(bitPattern: -2)      // 50.00 Hz
            m103[22] = 0x0001; m103[23] = 0x0000; m103[24] = 1      // 65536 × 10 Wh
            m103[29] = 0x8000                                       // DC power not implemented
            unit.set(.holding, 40069, [103, 50] + m103)
            // No end marker: the chain ends with an exception, as on some devices.
            let peer = try await ModbusPeer.tcp(units: [126: unit])
            let bus = try buildBus(BusConfiguration(name: "tcp", endpoint: .tcp(host: "127.0.0.1", port: try #require(peer.port)),
                                                    meters: [MeterConfiguration(name: "inverter", unit: 126, profile: "sunspec")]), catalog: catalog)
            let reading = try #require(await bus.pollDueMetersIgnoringSchedule(clock: ManualClock()).first?.reading)
            #expect(reading.profileID == "sunspec:1,103")
            #expect(reading[.currentL1] == ScaledValue(10))
            #expect(reading[.voltageL1] == ScaledValue(230))
            #expect(reading[.powerActiveTotal] == ScaledValue(-4200))
            #expect(reading[.frequency] == ScaledValue(50))
            #expect(reading[.energyActiveExportTotal] == ScaledValue(655_360))
            #expect(reading.notImplemented.contains(.dcPower))
            await peer.stop()
        }
    }
}

extension Integration {
    @Suite("Reconnection and RTU over TCP", .serialized)
    struct ReconnectionTests {
        @Test func tcpBusReconnectsAfterThePeerRestarts() async throws {
            let profile = try catalog.profile("eastron-sdm630")
            let vector = try DecodeVector.load("eastron-sdm630.yaml")
            let first = try await ModbusPeer.tcp(units: [1: peerUnit(for: profile, vector: vector)])
            let port = try #require(first.port)
            let bus = try buildBus(BusConfiguration(name: "tcp", endpoint: .tcp(host: "127.0.0.1", port: port), timeouts: .init(response: .milliseconds(300)),
                                                    meters: [MeterConfiguration(name: "m", unit: 1, profile: profile.id)]), catalog: catalog)
            let clock = ManualClock()
            #expect(await bus.pollDueMetersIgnoringSchedule(clock: clock).first?.reading.status == .complete)
            await first.stop()
            let down = try #require(await bus.pollDueMetersIgnoringSchedule(clock: clock).first?.reading)
            #expect(down.status == .failed)
            #expect(down.measurements.isEmpty)
            let second = try await ModbusPeer.tcp(units: [1: peerUnit(for: profile, vector: vector)], port: port)
            let back = try #require(await bus.pollDueMetersIgnoringSchedule(clock: clock).first?.reading)
            #expect(back.status == .complete, "\(back.problems)")
            #expect(back[.energyActiveImportTotal] == vector.expected[.energyActiveImportTotal])
            await second.stop()
        }

        @Test func agentReadsThroughAnRTUOverTCPGateway() async throws {
            let profile = try catalog.profile("abb-b23-b24")
            let vector = try DecodeVector.load("abb-b23-b24.yaml")
            let peer = try await ModbusPeer.rtuOverTCP(units: [2: peerUnit(for: profile, vector: vector)])
            let result = try await ChildProcess.run(try TestEnvironment.executable("gridledger-agent"), [
                "read", "--profile", profile.id, "--rtu-over-tcp", "127.0.0.1:\(try #require(peer.port))", "--unit", "2", "--json",
                "--profiles", TestEnvironment.profilesDirectory.path,
            ], timeout: .seconds(30))
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["status"] as? String == "complete")
            let values = (json["values"] as? [[String: Any]]) ?? []
            let energy = values.first { $0["quantity"] as? String == "energy.active.import.total" }?["value"] as? NSNumber
            #expect(energy?.stringValue == vector.expected[.energyActiveImportTotal]?.description)
            await peer.stop()
        }
    }
}

/// A server that served a client and then goes away must not close any descriptor it no longer
/// owns: libmodbus's context remembers the last client's socket, and closing it again at teardown
/// closed whatever socket had reused the number meanwhile (in CI: the next simulator's listening
/// socket, which then refused connections).
@Suite("Modbus server teardown")
struct ModbusServerTeardownTests {
    final class Zeros: RegisterResponder {
        func respond(unit: UInt8, span: RegisterSpan) -> ModbusAnswer? { .registers(Array(repeating: 0, count: Int(span.count))) }
    }

    final class Outcome: Sendable {
        let finished = Atomic<Bool>(false)
        let read = Mutex<[UInt16]?>(nil)
    }

    @Test func aServerNeverClosesADescriptorItNoLongerOwns() throws {
        var server: ModbusServer? = try ModbusServer(endpoint: .tcp(host: "127.0.0.1", port: 0))
        weak let watched = server
        let port = try #require(server?.boundPort)
        let outcome = Outcome()
        // One client reads once, then lets the server stop.
        Thread {
            defer { outcome.finished.store(true, ordering: .relaxed) }
            guard let client = try? ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: port)), (try? client.connect()) != nil else { return }
            let words = try? client.readRegisters(unit: 1, span: RegisterSpan(.holding, address: 0, count: 2))
            outcome.read.withLock { $0 = words }
            client.close()
        }.start()
        let started = ContinuousClock.now
        server?.serve(responder: Zeros(), pollInterval: .milliseconds(10)) {
            outcome.finished.load(ordering: .relaxed) || ContinuousClock.now - started > .seconds(10)
        }
        #expect(outcome.read.withLock { $0 } == [0, 0])
        // The lowest free descriptors: among them the number the server's closed client socket had
        // (the client's own socket, closed too, may take the lowest).
        let bystanders = (0..<8).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        #expect(bystanders.allSatisfy { $0 >= 0 })
        server = nil
        #expect(watched == nil, "the server was not released")
        let closed = bystanders.filter { fcntl($0, F_GETFD) == -1 }
        #expect(closed.isEmpty, "the server's teardown closed descriptors \(closed), which it did not own")
        for fd in bystanders where !closed.contains(fd) { close(fd) }
    }
}
