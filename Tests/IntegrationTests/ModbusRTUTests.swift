import DeviceProfiles
import GridLedgerAgent
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import ModbusCore
import ModbusTransport
import Testing

/// Modbus RTU over a socat pty pair, with a pymodbus RTU server answering two unit ids and a
/// third unit that never answers (a dead meter on the RS-485 line).
extension Integration {
    @Suite("Modbus RTU against pymodbus over a pty pair", .serialized)
    struct ModbusRTUTests {
        @Test func liveMetersKeepBeingReadWhileOneIsDead() async throws {
            let sdm630 = try catalog.profile("eastron-sdm630")
            let sdm120 = try catalog.profile("eastron-sdm120")
            let pair = try await SerialPair()
            let peer = try await ModbusPeer.rtu(
                device: pair.serverPath,
                units: [1: peerUnit(for: sdm630, vector: try DecodeVector.load("eastron-sdm630.yaml")),
                        2: peerUnit(for: sdm120, vector: try DecodeVector.load("eastron-sdm120.yaml"))],
                silentUnits: [3])
            let backoff = Backoff(initialDelayMillis: 1000, maximumDelayMillis: 4000)
            let bus = try buildBus(BusConfiguration(
                name: "rs485", endpoint: .rtu(.init(device: pair.clientPath)),
                timeouts: .init(response: .milliseconds(1000), byte: .milliseconds(50)),
                pacing: BusPacing(interFrameDelay: .milliseconds(2), perSlaveDelay: .milliseconds(1)),
                meters: [
                    MeterConfiguration(name: "house", unit: 1, profile: "eastron-sdm630", backoff: backoff),
                    MeterConfiguration(name: "heat-pump", unit: 2, profile: "eastron-sdm120", backoff: backoff),
                    MeterConfiguration(name: "dead", unit: 3, profile: "eastron-sdm630", backoff: backoff),
                ]), catalog: catalog)
            let clock = ManualClock(0)
            var statuses: [UInt8: [ReadingStatus]] = [:]
            let started = ContinuousClock.now
            for _ in 0..<8 {
                for polled in await bus.pollDueMeters(clock: clock) { statuses[polled.unit, default: []].append(polled.reading.status) }
                clock.advance(millis: 1000)
            }
            let elapsed = ContinuousClock.now - started
            #expect(statuses[1] == Array(repeating: .complete, count: 8))
            #expect(statuses[2] == Array(repeating: .complete, count: 8))
            // Dead unit tried at t = 0, 1, 3, 7 s only, each costing one 1 s timeout.
            #expect(statuses[3] == Array(repeating: .failed, count: 4))
            #expect(elapsed < .seconds(60), "8 cycles took \(elapsed)")
            let expected = try DecodeVector.load("eastron-sdm630.yaml").expected
            let last = await bus.pollDueMetersIgnoringSchedule(clock: clock).first { $0.unit == 1 }
            #expect(last?.reading[.energyActiveImportTotal] == expected[.energyActiveImportTotal])
            await peer.stop()
            await pair.stop()
        }
    }
}
