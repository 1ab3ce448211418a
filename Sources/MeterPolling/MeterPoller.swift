public import GridLedgerCore
public import Logging
public import ModbusCore
public import ServiceLifecycle

/// Polls every bus in parallel (each bus serialised on its own worker) and hands each reading to
/// `sink` as soon as its bus cycle ends.
///
/// A `Service`: `run()` returns on graceful shutdown after the cycles under way have finished,
/// so a reading that was captured is always delivered.
public final class MeterPoller<Reader: RegisterReader & SendableMetatype>: Service {
    public typealias Sink = @Sendable ([PolledReading]) async -> Void

    private let buses: [BusWorker<Reader>]
    private let clock: any WallClock
    private let sink: Sink
    private let logger: Logger
    /// Longest the loop sleeps before checking its meters again.
    private let maximumSleep: Duration
    /// Told how long each bus cycle took (metrics).
    private let cycleTime: @Sendable (Duration) -> Void

    public init(
        buses: [BusWorker<Reader>], clock: any WallClock = SystemWallClock(), logger: Logger, maximumSleep: Duration = .seconds(1),
        cycleTime: @escaping @Sendable (Duration) -> Void = { _ in }, sink: @escaping Sink
    ) {
        self.buses = buses
        self.cycleTime = cycleTime
        self.clock = clock
        self.sink = sink
        self.logger = logger
        self.maximumSleep = maximumSleep
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for bus in buses {
                group.addTask { await self.runBus(bus) }
            }
        }
    }

    private func runBus(_ bus: BusWorker<Reader>) async {
        var logger = self.logger
        logger[metadataKey: "bus.name"] = "\(bus.name)"
        logger.debug("polling started")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            let readings = await bus.pollDueMeters(clock: clock)
            if !readings.isEmpty { cycleTime(ContinuousClock.now - started) }
            for polled in readings where polled.reading.status != .complete {
                logger.warning(
                    "meter reading \(polled.reading.status.rawValue)",
                    metadata: ["meter.name": "\(polled.meter)", "meter.unit": "\(polled.unit)", "reading.problems": "\(polled.reading.problems.joined(separator: "; "))"])
            }
            if !readings.isEmpty { await sink(readings) }
            // Cancelled by graceful shutdown (below); a replay clock ends it when it reaches the due time.
            await clock.sleep(untilMillis: await bus.nextDueMillis(), limit: maximumSleep)
        }
        logger.debug("polling stopped")
    }
}

extension MeterPoller {
    /// Runs until graceful shutdown, ending the sleep between cycles at once when it begins.
    public func runUntilShutdown() async throws {
        try await cancelWhenGracefulShutdown { try await self.run() }
    }
}
