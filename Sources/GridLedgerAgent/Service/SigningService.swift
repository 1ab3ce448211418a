import AgentOutbox
import AsyncAlgorithms
import GridLedgerCore
import Logging
import MeterPolling
import ServiceLifecycle
import Synchronization

/// Signs every poll cycle into a batch of records and commits it to the outbox before anyone
/// may publish it. Sequence numbers and chain hashes advance only after the commit, so a crash
/// at any point restarts from exactly the last stored record: no gap, no reused number.
///
/// Ends when the polling channel is finished (after polling stopped), so every captured
/// reading is signed and stored before the agent exits.
final class SigningService: Service {
    private let assembler: Mutex<RecordAssembler>
    private let outbox: Outbox
    private let queue: BlockingQueue
    private let cycles: AsyncChannel<[PolledReading]>
    private let metrics: AgentMetrics
    private let clock: any WallClock
    private let clockSynchronized: @Sendable () -> Bool
    /// Called after each commit (wakes the publisher).
    private let stored: @Sendable () -> Void
    private let logger: Logger

    init(
        assembler: RecordAssembler, outbox: Outbox, queue: BlockingQueue, cycles: AsyncChannel<[PolledReading]>, metrics: AgentMetrics,
        clock: any WallClock, clockSynchronized: @escaping @Sendable () -> Bool, logger: Logger, stored: @escaping @Sendable () -> Void
    ) {
        self.assembler = Mutex(assembler)
        self.outbox = outbox
        self.queue = queue
        self.cycles = cycles
        self.metrics = metrics
        self.clock = clock
        self.clockSynchronized = clockSynchronized
        self.logger = logger
        self.stored = stored
    }

    func run() async throws {
        for await cycle in cycles {
            await sign(cycle)
        }
        logger.debug("signing stopped: polling ended")
    }

    private func sign(_ cycle: [PolledReading]) async {
        metrics.update { counters in
            counters.readingsPolled += cycle.count
            counters.readingsFailed += cycle.count { $0.reading.status == .failed }
            counters.readingsPartial += cycle.count { $0.reading.status == .partial }
        }
        let prepared: RecordAssembler.Prepared
        do {
            let synchronized = clockSynchronized()
            let now = clock.nowMillis()
            let started = ContinuousClock.now
            prepared = try assembler.withLock { try $0.prepare(cycle, createdMillis: now, clockSynchronized: synchronized) }
            let signing = (ContinuousClock.now - started).wholeMicroseconds
            metrics.update { $0.signingMicros += signing }
        } catch {
            // Only an invalid record (a bug) ends here; the readings are logged, not lost silently.
            logger.error("cannot sign readings", metadata: ["error": "\(error)", "bus.name": "\(cycle.first?.bus ?? "?")"])
            return
        }
        for reading in prepared.unresolved {
            metrics.update { $0.readingsUnattributed += 1 }
            logger.notice(
                "reading not recorded: the meter's serial number has not been read yet",
                metadata: ["meter.name": "\(reading.meter)", "bus.name": "\(reading.bus)", "meter.unit": "\(reading.unit)"])
        }
        guard !prepared.entries.isEmpty else { return }
        do {
            let outbox = self.outbox
            let bindings = Dictionary(prepared.newBindings.map { ($0.key, $0.meterID) }, uniquingKeysWith: { $1 })
            // Records, chain heads, batch number and new meter bindings: one transaction, one fsync.
            let storing = ContinuousClock.now
            let thinned = try await retrying {
                try await queue.run {
                    try outbox.append(prepared.entries, batchSequence: prepared.batchSequence, bindings: bindings).thinned
                }
            }
            assembler.withLock { $0.adopt(prepared) }
            let storedMicros = (ContinuousClock.now - storing).wholeMicroseconds
            metrics.update { $0.outboxMicros += storedMicros }
            for binding in prepared.newBindings {
                if let old = binding.replacing {
                    logger.warning("meter serial changed: a new meter id and chain begin", metadata: ["meter.id": "\(binding.meterID)", "meter.previous_id": "\(old)"])
                } else {
                    logger.info("meter identified", metadata: ["meter.id": "\(binding.meterID)"])
                }
            }
            let now = clock.nowMillis()
            metrics.update { counters in
                counters.recordsSigned += prepared.entries.count
                counters.batchesSigned += 1
                counters.recordsThinned += thinned
                counters.lastSignedMillis = now
            }
            if thinned > 0 {
                logger.warning(
                    "outbox at its bound: thinned old records (cumulative counters keep the energy, resolution is lost)",
                    metadata: ["outbox.thinned": "\(thinned)"])
            }
            stored()
        } catch {
            metrics.update { $0.outboxErrors += 1 }
            // Nothing was stored and no sequence advanced: these readings are lost, loudly.
            logger.error(
                "cannot store signed records in the outbox after retrying; readings of this cycle are dropped",
                metadata: ["error": "\(error)", "batch.sequence": "\(prepared.batchSequence)", "records.count": "\(prepared.entries.count)"])
        }
    }

    /// A failed commit (disk full, I/O error, a locked file) is retried a few times while polling
    /// waits behind the channel; a transient problem then costs a delay, not readings.
    private func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(200)
        for attempt in 1...3 {
            do {
                return try await body()
            } catch {
                metrics.update { $0.outboxErrors += 1 }
                logger.warning("outbox write failed, retrying", metadata: ["error": "\(error)", "retry.attempt": "\(attempt)"])
                try? await Task.sleep(for: delay)
                delay *= 4
            }
        }
        return try await body()
    }
}
