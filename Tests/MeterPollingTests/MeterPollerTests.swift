import DeviceProfiles
import GridLedgerCore
import GridLedgerTestSupport
import Logging
import MeterPolling
import ModbusCore
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite("Meter poller service")
struct MeterPollerTests {
    /// Collects what the poller delivers.
    final class Collected: Sendable {
        let readings = Mutex<[PolledReading]>([])
        var count: Int { readings.withLock { $0.count } }
    }

    @Test func deliversReadingsFromEveryBusAndStopsOnGracefulShutdown() async throws {
        let sdm630 = try catalog.profile("eastron-sdm630")
        let clock = ManualClock(0)
        let buses = (1...2).map { index in
            BusWorker(name: "bus\(index)", reader: FakeLine(devices: [1: sdm630Device(strict: false)]),
                      sessions: [MeterSession(name: "m\(index)", unit: 1, choice: .profile(sdm630), pollIntervalMillis: 1000)])
        }
        let collected = Collected()
        let poller = MeterPoller(buses: buses, clock: clock, logger: Logger(label: "test"), maximumSleep: .milliseconds(5)) { readings in
            collected.readings.withLock { $0 += readings }
        }
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup { group in
                group.addTask { try await poller.runUntilShutdown() }
                // Each advance of the injected clock makes both meters due once more.
                for expected in stride(from: 2, through: 6, by: 2) {
                    for _ in 0..<2000 where collected.count < expected { try await Task.sleep(for: .milliseconds(5)) }
                    #expect(collected.count == expected)
                    clock.advance(millis: 1000)
                }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()  // run() returns: the service stopped by itself
            }
        }
        let readings = collected.readings.withLock { $0 }
        #expect(Set(readings.map(\.bus)) == ["bus1", "bus2"])
        #expect(readings.allSatisfy { $0.reading.status == .complete })
        #expect(readings.count >= 6)
    }
}
