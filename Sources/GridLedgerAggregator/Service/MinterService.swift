import Crypto
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import LedgerStore
import Logging
import MQTTTransport
import ServiceLifecycle
import Synchronization

/// Mints a block every interval (or as soon as the size bound is reached), commits it in one
/// transaction, and only then confirms the records to their gateways: the confirmation is the
/// promise that lets a gateway drop them from its outbox.
final class MinterService: Service, Sendable {
    let engine: LedgerEngine
    let store: any LedgerStorage
    let confirmations: ConfirmationQueue
    let settlements: SettlementStage
    let key: Curve25519.Signing.PrivateKey
    let settings: AggregatorConfiguration.BlockSettings
    let clock: any WallClock
    let logger: Logger
    private let due = Atomic<Bool>(false)
    private let chain: Mutex<(next: UInt64, previousHash: [UInt8], timeMillis: Int64)>

    init(engine: LedgerEngine, store: any LedgerStorage, confirmations: ConfirmationQueue, key: Curve25519.Signing.PrivateKey,
         settings: AggregatorConfiguration.BlockSettings, clock: any WallClock, logger: Logger) throws {
        self.engine = engine
        self.store = store
        self.confirmations = confirmations
        settlements = try SettlementStage(replaying: store, logger: logger)
        self.key = key
        self.settings = settings
        self.clock = clock
        self.logger = logger
        let latest = try store.latestHeader()
        chain = Mutex((latest.map { $0.height + 1 } ?? 0, latest?.hash ?? ReadingRecord.zeroHash, latest?.timeMillis ?? .min))
        engine.metrics.height.store(latest.map { Int($0.height) } ?? -1, ordering: .relaxed)
    }

    /// Asks for a block now (the size bound is reached).
    func blockDue() { due.store(true, ordering: .relaxed) }

    func run() async throws {
        var lastMint = ContinuousClock.now
        let interval = Duration.milliseconds(settings.intervalMillis)
        let tick = Duration.milliseconds(min(10, settings.intervalMillis))
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: tick)
            guard due.exchange(false, ordering: .relaxed) || ContinuousClock.now - lastMint >= interval else { continue }
            lastMint = ContinuousClock.now
            try await mintOnce()
            // A backlog larger than a block (after a burst, or a restart with a full broker queue)
            // is minted block after block, not one block per interval.
            if engine.pendingRecordCount >= settings.maximumRecords { blockDue() }
        }
        // Ingest has stopped by now (it shuts down first): commit what it admitted.
        while engine.pendingRecordCount > 0 { try await mintOnce() }
        try await mintOnce()
        logger.info("minter stopped", metadata: ["block.height": "\(chain.withLock { $0.next } &- 1)"])
    }

    /// Mints and commits one block from what is pending, then hands its confirmations on.
    func mintOnce() async throws {
        let now = clock.nowMillis()
        engine.expireHeld(nowMillis: now)
        let registryEntries = (try? store.pendingRegistryEntries()) ?? []
        let contracts = (try? store.pendingContracts()) ?? []
        let (contents, rejected, registry) = engine.takeBlock(maximumRecords: settings.maximumRecords, applying: registryEntries)
        for (id, reason) in rejected { try? store.rejectPendingRegistryEntry(id: id, reason: reason) }
        let (height, previousHash, lastTime) = chain.withLock { ($0.next, $0.previousHash, $0.timeMillis) }
        let blockTime = max(now, lastTime)
        let settling = ContinuousClock.now
        let step = settlements.step(
            pending: contracts, records: contents.records.map(\.record), registry: registry, blockTimeMillis: blockTime,
            eventOffset: contents.events.count)
        engine.metrics.settlementMicros.add((ContinuousClock.now - settling).wholeMicroseconds, ordering: .relaxed)
        for (id, reason) in step.rejectedContracts { try? store.rejectPendingContract(id: id, reason: reason) }
        var toConfirm: [String: Set<String>] = [:]
        var sequences: [String: UInt64] = [:]
        if !contents.isEmpty || !step.events.isEmpty {
            let block = try Block.mint(
                height: height, previousHash: previousHash, timeMillis: blockTime,
                records: contents.records.map(\.envelopeBytes), events: try (contents.events + step.events).map { try $0.encoded() }, key: key)
            let commit = BlockCommit(
                block: block,
                recordKeys: contents.records.map { ($0.record.meterID, $0.record.sequence, $0.record.captureTimeMillis) },
                heads: contents.heads, registryEntryIDs: contents.registryIDs, contractIDs: step.deployedContractIDs,
                settlementIntervals: step.settlementIntervals, refusals: contents.refusals)
            try await append(commit)
            settlements.adopt(step)
            chain.withLock { chain in
                chain.next = block.header.height + 1
                chain.previousHash = block.header.hash
                chain.timeMillis = block.header.timeMillis
            }
            for (meterID, head) in commit.heads { sequences[meterID] = head.sequence }
            for record in contents.records {
                toConfirm[record.record.gatewayID, default: []].insert(record.record.meterID)
            }
        } else if !contents.refusals.isEmpty {
            try? store.recordRefusals(contents.refusals)
        }
        for (gatewayID, meters) in contents.reconfirm {
            toConfirm[gatewayID, default: []].formUnion(meters)
        }
        confirmations.committed(sequences, confirming: toConfirm)
    }

    /// Commits, retrying a failing disk a few times; then gives up, so that the service group stops
    /// and a restart resumes from the last whole block (the gateways resend the rest).
    private func append(_ commit: BlockCommit) async throws {
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                try store.append(commit)
                break
            } catch {
                attempt += 1
                engine.metrics.commitFailures.add(1, ordering: .relaxed)
                logger.error("block commit failed", metadata: ["block.height": "\(commit.block.header.height)", "attempt": "\(attempt)", "error": "\(error)"])
                guard attempt < 5 else { throw error }
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        engine.metrics.commitMicros.add((ContinuousClock.now - started).wholeMicroseconds, ordering: .relaxed)
        engine.metrics.blocks.add(1, ordering: .relaxed)
        engine.metrics.committedRecords.add(commit.block.records.count, ordering: .relaxed)
        engine.metrics.height.store(Int(commit.block.header.height), ordering: .relaxed)
        logger.debug("block committed", metadata: [
            "block.height": "\(commit.block.header.height)", "block.records": "\(commit.block.records.count)",
            "block.events": "\(commit.block.events.count)",
        ])
    }

}
