import Crypto
import Foundation
import GridLedgerAggregator
import GridLedgerCore
import GridLedgerRecords
import GridLedgerTestSupport
import LedgerCore
import LedgerStore
import Logging
import MQTTTransport
import ServiceConfiguration
import Synchronization

/// The aggregator's figures (issue 4, docs/PERFORMANCE.md):
///
/// - `aggregator-throughput`: a real mosquitto on loopback, the aggregator in this process (built
///   by `buildAggregator`, registry queued before its first start), and a load generator in a
///   child process (`aggregator-loadgen`, so that its CPU is its own) that publishes pre-signed
///   gateway batches QoS 1. Reports committed records/s, loss, confirmation latency, the CPU of
///   each party and the bytes stored per record (and re-stored at other zlib levels).
/// - `aggregator-stages`: single-threaded cost of each aggregator stage on the same records.
/// - `chain-verify`: the offline `ChainVerifier` over a chain minted with `Block.mint` into an
///   `SQLiteLedgerStore`, against the raw Ed25519 verify rate.
///
/// Knobs come from the environment so that Bench.swift only registers the modes (defaults in
/// brackets): GL_BENCH_GATEWAYS [50], GL_BENCH_METERS [8], GL_BENCH_LANES [4] (MQTT connections of
/// the load generator), GL_BENCH_RATES [max,10000,12500,15000,20000] (offered records/s; `max` publishes as
/// fast as PUBACKs come), GL_BENCH_INTERVALS [1000,250] (block interval, ms), GL_BENCH_RECORDS
/// [160000] (records of a `max` run), GL_BENCH_SECONDS [15] (length of a paced run), GL_BENCH_TRACE [0] (1: print
/// received / admitted-but-uncommitted / committed once a second),
/// GL_BENCH_BUNDLES [1] (1: a gateway's batch goes out as one bundle message, as the agent sends
/// it; 0: one message per record on its meter's topic), GL_BENCH_WORKERS [2], GL_BENCH_COMPRESSION [6], GL_BENCH_BROKER [production] (`production`:
/// MosquittoBroker's configuration with the limits and log levels of deploy/mosquitto/mosquitto.conf,
/// i.e. queue 100 000 messages, 100 in flight; `test`: MosquittoBroker's as is, which logs every
/// packet and queues 1 000), GL_BENCH_CHAIN_CYCLES [250], GL_BENCH_CYCLES_PER_BLOCK [10].
enum AggregatorBench {
    // MARK: Settings

    static func env(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? fallback
    }

    static func env(_ name: String, _ fallback: String) -> String {
        ProcessInfo.processInfo.environment[name] ?? fallback
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "bench.aggregator")
        logger.logLevel = .critical
        return logger
    }

    static func wallMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
    }

    static func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

    static func say(_ line: String) {
        print(line)
        fflush(nil)  // all streams: stdout is a file when a parent reads it
    }

    // MARK: Chain verification (one core)

    static func chainVerify(runs: Int, median: ([Double]) -> Double) async throws {
        let workload = Workload(gateways: env("GL_BENCH_GATEWAYS", 50), meters: env("GL_BENCH_METERS", 8), seed: "chain")
        let cycles = env("GL_BENCH_CHAIN_CYCLES", 250)
        let cyclesPerBlock = env("GL_BENCH_CYCLES_PER_BLOCK", 10)
        // Polled once a second, an hour ago.
        let schedule = Schedule(t0: wallMillis() - 3_600_000, periodMillis: 1000, gateways: workload.gateways)
        let signed = try await workload.signAll(cycles: cycles, schedule: schedule)
        let directory = try TemporaryDirectory(prefix: "chain-verify")
        let key = Curve25519.Signing.PrivateKey()
        let path = directory.path("ledger.db")
        let built = ContinuousClock.now
        try mintChain(workload: workload, signed: signed, cyclesPerBlock: cyclesPerBlock, schedule: schedule, key: key, path: path)
        let mintSeconds = (ContinuousClock.now - built).seconds
        let records = workload.gateways * workload.meters * cycles

        var verifyRates: [Double] = [], readRates: [Double] = [], totalRates: [Double] = []
        var blockCount = 0
        for _ in 0..<runs {
            // A fresh store per run: nothing cached.
            let store = try SQLiteLedgerStore(path: path, access: .readOnly)
            var blocks: [Block] = []
            var started = ContinuousClock.now
            try store.forEachBlock { block in
                blocks.append(block)
                return true
            }
            let readSeconds = (ContinuousClock.now - started).seconds
            blockCount = blocks.count
            var verifier = ChainVerifier(aggregatorKey: key.publicKey)
            started = ContinuousClock.now
            for block in blocks { try verifier.verify(block) }
            let verifySeconds = (ContinuousClock.now - started).seconds
            precondition(verifier.recordCount == records, "verified \(verifier.recordCount) of \(records) records")
            verifyRates.append(Double(records) / verifySeconds)
            readRates.append(Double(records) / readSeconds)
            totalRates.append(Double(records) / (readSeconds + verifySeconds))
        }
        let raw = rawEd25519Rates(runs: runs)
        let ratio = median(verifyRates) / median(raw)
        say("chain-verify: \(records) records (\(workload.gateways) gateways × \(workload.meters) meters, 8-record gateway batches, 8 values each) in \(blockCount) blocks of \(cyclesPerBlock * workload.gateways * workload.meters) records; chain minted and stored in \(f(mintSeconds, 1)) s")
        say("  ChainVerifier (blocks in memory, one thread): median \(Int(median(verifyRates))) records/s = \(f(1e6 / median(verifyRates), 1)) µs/record (runs: \(verifyRates.map { Int($0) }))")
        say("  reading + inflating + splitting the blocks from SQLite: median \(Int(median(readRates))) records/s; read + verify: median \(Int(median(totalRates))) records/s (runs: \(totalRates.map { Int($0) }))")
        say("  raw swift-crypto Ed25519 verify, same run: median \(Int(median(raw)))/s = \(f(1e6 / median(raw), 1)) µs (runs: \(raw.map { Int($0) }))")
        say("  ratio ChainVerifier / raw Ed25519: \(f(ratio, 2)) (goal ≥ 0.8: \(ratio >= 0.8 ? "met" : "NOT met")); with reading from SQLite: \(f(median(totalRates) / median(raw), 2))")
    }

    static func rawEd25519Rates(runs: Int) -> [Double] {
        let key = Curve25519.Signing.PrivateKey()
        let message = [UInt8](repeating: 7, count: BlockHeader.size)
        let signature = try! key.signature(for: message)
        var rates: [Double] = []
        for _ in 0..<runs {
            let started = ContinuousClock.now
            for _ in 0..<2000 { precondition(key.publicKey.isValidSignature(signature, for: message)) }
            rates.append(2000 / (ContinuousClock.now - started).seconds)
        }
        return rates
    }

    /// Block 0 records the registry; then one block per `cyclesPerBlock` poll cycles of every gateway.
    static func mintChain(workload: Workload, signed: [[[[UInt8]]]], cyclesPerBlock: Int, schedule: Schedule,
                          key: Curve25519.Signing.PrivateKey, path: String) throws {
        let store = try SQLiteLedgerStore(path: path, access: .aggregator(publicKey: Array(key.publicKey.rawRepresentation)))
        var ids: [Int64] = []
        var events: [[UInt8]] = []
        for change in workload.registryChanges() {
            let entry = RegistryEntry(change: change, recordedMillis: schedule.t0 - 60_000, author: "bench")
            ids.append(try store.enqueueRegistryEntry(entry))
            events.append(try LedgerEvent.registry(entry).encoded())
        }
        var previous = try Block.mint(height: 0, previousHash: ReadingRecord.zeroHash, timeMillis: schedule.t0 - 60_000, records: [], events: events, key: key)
        try store.append(BlockCommit(block: previous, recordKeys: [], heads: [:], registryEntryIDs: ids))
        var heads: [String: MeterHead] = [:]
        let cycles = signed.first?.count ?? 0
        for first in stride(from: 0, to: cycles, by: cyclesPerBlock) {
            var envelopes: [[UInt8]] = []
            for cycle in first..<min(cycles, first + cyclesPerBlock) {
                for gateway in 0..<workload.gateways { envelopes += signed[gateway][cycle] }
            }
            let last = min(cycles, first + cyclesPerBlock) - 1
            let block = try Block.mint(
                height: previous.header.height + 1, previousHash: previous.header.hash,
                timeMillis: schedule.captureMillis(gateway: workload.gateways - 1, cycle: last) + 500, records: envelopes, events: [], key: key)
            try store.append(commit(for: block, heads: &heads))
            previous = block
        }
    }

    /// What the minter would commit for `block`: record keys and the heads its records reach.
    static func commit(for block: Block, heads: inout [String: MeterHead], registryEntryIDs: [Int64] = []) throws -> BlockCommit {
        var keys: [(meterID: String, sequence: UInt64, captureMillis: Int64)] = []
        keys.reserveCapacity(block.records.count)
        var changed: [String: MeterHead] = [:]
        for envelope in block.records {
            let bytes = try RecordEnvelope(decoding: envelope).record
            let record = try ReadingRecord(decoding: bytes)
            keys.append((record.meterID, record.sequence, record.captureTimeMillis))
            let hash = ReadingRecord.hash(of: bytes)
            let head = heads[record.meterID].map { $0.advanced(by: record, hash: hash) } ?? .first(record, hash: hash)
            heads[record.meterID] = head
            changed[record.meterID] = head
        }
        return BlockCommit(block: block, recordKeys: keys, heads: changed, registryEntryIDs: registryEntryIDs)
    }

    // MARK: Stage costs (one thread)

    static func stages(runs: Int, median: ([Double]) -> Double) async throws {
        let workload = Workload(gateways: env("GL_BENCH_GATEWAYS", 50), meters: env("GL_BENCH_METERS", 8), seed: "stages")
        let cycles = 100
        let schedule = Schedule(t0: wallMillis() - 600_000, periodMillis: 1000, gateways: workload.gateways)
        let signed = try await workload.signAll(cycles: cycles, schedule: schedule)
        var registry = Registry()
        for change in workload.registryChanges() { try registry.apply(change) }
        // Arrival order: cycle by cycle, gateway by gateway, its meters in order.
        var arrivals: [(topic: String, payload: [UInt8])] = []
        for cycle in 0..<cycles {
            for gateway in 0..<workload.gateways {
                for meter in 0..<workload.meters {
                    arrivals.append((GatewayTopics(gatewayID: workload.gatewayID(gateway)).reading(meterID: workload.meterID(gateway, meter)), signed[gateway][cycle][meter]))
                }
            }
        }
        let count = Double(arrivals.count)
        say("aggregator stages, one thread, \(arrivals.count) records (\(workload.gateways) gateways × \(workload.meters) meters × \(cycles) cycles, \(arrivals[0].payload.count)-byte envelopes, batches of \(workload.meters)); µs per record, median of \(runs):")
        var parse: [Double] = [], authenticate: [Double] = [], admit: [Double] = [], take: [Double] = [], mint: [Double] = []
        var appendCost: [Int32: [Double]] = [:]
        var confirm: [Double] = []
        for _ in 0..<runs {
            var started = ContinuousClock.now
            var parsed: [TopicClaim] = []
            parsed.reserveCapacity(arrivals.count)
            for arrival in arrivals { parsed.append(GatewayTopics.parseIngest(arrival.topic)!) }
            parse.append((ContinuousClock.now - started).seconds / count * 1e6)

            let verifier = RecordVerifier(cacheLimit: 65536)
            var results: [Result<AuthenticatedRecord, Refusal>] = []
            results.reserveCapacity(arrivals.count)
            started = ContinuousClock.now
            for (index, arrival) in arrivals.enumerated() {
                results.append(registry.authenticate(arrival.payload, topic: parsed[index], verifier: verifier))
            }
            authenticate.append((ContinuousClock.now - started).seconds / count * 1e6)
            precondition(results.allSatisfy { if case .success = $0 { true } else { false } }, "a record did not authenticate")

            let engine = LedgerEngine(registry: registry, heads: [:], rules: LedgerRules(), metrics: AggregatorMetrics(), logger: quietLogger)
            started = ContinuousClock.now
            for (index, result) in results.enumerated() {
                // As IngestService does: one record per call, under the engine's lock.
                _ = engine.admit([(result: result, payload: arrivals[index].payload, topic: arrivals[index].topic)], receivedMillis: schedule.t0 + 600_000)
            }
            admit.append((ContinuousClock.now - started).seconds / count * 1e6)
            precondition(engine.pendingRecordCount == arrivals.count, "only \(engine.pendingRecordCount) admitted")

            // Blocks of 4000 records (10 cycles): take, mint, then commit at three zlib levels.
            var contents: [LedgerEngine.BlockContents] = []
            started = ContinuousClock.now
            while engine.pendingRecordCount > 0 { contents.append(engine.takeBlock(maximumRecords: 4000, applying: []).0) }
            take.append((ContinuousClock.now - started).seconds / count * 1e6)

            let key = Curve25519.Signing.PrivateKey()
            var blocks: [Block] = []
            started = ContinuousClock.now
            var previousHash = ReadingRecord.zeroHash
            for (height, content) in contents.enumerated() {
                let block = try Block.mint(height: UInt64(height), previousHash: previousHash, timeMillis: schedule.t0 + 600_000,
                                           records: content.records.map(\.envelopeBytes), events: [], key: key)
                previousHash = block.header.hash
                blocks.append(block)
            }
            mint.append((ContinuousClock.now - started).seconds / count * 1e6)

            for level: Int32 in [6, 1, 0] {
                let directory = try TemporaryDirectory(prefix: "stages")
                let store = try SQLiteLedgerStore(path: directory.path("ledger.db"), access: .aggregator(publicKey: Array(key.publicKey.rawRepresentation)), compressionLevel: level)
                var commits: [BlockCommit] = []
                for (index, block) in blocks.enumerated() {
                    let content = contents[index]
                    commits.append(BlockCommit(
                        block: block, recordKeys: content.records.map { ($0.record.meterID, $0.record.sequence, $0.record.captureTimeMillis) },
                        heads: content.heads))
                }
                started = ContinuousClock.now
                for commit in commits { try store.append(commit) }
                appendCost[level, default: []].append((ContinuousClock.now - started).seconds / count * 1e6)
            }

            // One confirmation per gateway per block (JSON), as the minter publishes them.
            started = ContinuousClock.now
            var confirmationBytes = 0
            for content in contents {
                var perGateway: [String: [String: UInt64]] = [:]
                for record in content.records { perGateway[record.record.gatewayID, default: [:]][record.record.meterID] = record.record.sequence }
                for (_, meters) in perGateway { confirmationBytes += Confirmation(confirmed: meters).encoded().count }
            }
            precondition(confirmationBytes > 0)
            confirm.append((ContinuousClock.now - started).seconds / count * 1e6)
        }
        func line(_ name: String, _ values: [Double]) {
            say("  \(name): median \(f(median(values), 2)) µs/record (runs: \(values.map { f($0, 2) }.joined(separator: ", ")))")
        }
        line("parse topic (GatewayTopics.parseIngest)", parse)
        line("authenticate (decode, registry, batch signature once per 8, Merkle path)", authenticate)
        line("admit (LedgerEngine.admit, one record per call)", admit)
        line("takeBlock (4000 records per block)", take)
        line("Block.mint (Merkle root over envelopes, one signature per block)", mint)
        for level: Int32 in [6, 1, 0] { line("store.append, zlib level \(level) (deflate + SQLite insert + fsync)", appendCost[level] ?? []) }
        line("confirmations JSON (one per gateway per block)", confirm)
        let total = median(parse) + median(authenticate) + median(admit) + median(take) + median(mint) + median(appendCost[6] ?? []) + median(confirm)
        say("  sum: \(f(total, 1)) µs/record → at most \(Int(1e6 / total)) records/s on one core for these stages alone (without MQTT receive, channel hand-offs and locks)")

        // A running aggregator remembers up to 1024 record hashes per meter (MeterChain.memory):
        // admit once every meter has a long history, as it will after 1024 poll cycles.
        let small = Workload(gateways: 4, meters: workload.meters, seed: "stages-steady")
        let longCycles = 1200
        let longSigned = try await small.signAll(cycles: longCycles, schedule: schedule)
        var longRegistry = Registry()
        for change in small.registryChanges() { try longRegistry.apply(change) }
        let longVerifier = RecordVerifier(cacheLimit: 65536)
        var authenticated: [[(result: Result<AuthenticatedRecord, Refusal>, payload: [UInt8], topic: String)]] = []
        for cycle in 0..<longCycles {
            var batch: [(result: Result<AuthenticatedRecord, Refusal>, payload: [UInt8], topic: String)] = []
            for gateway in 0..<small.gateways {
                for meter in 0..<small.meters {
                    let topic = GatewayTopics(gatewayID: small.gatewayID(gateway)).reading(meterID: small.meterID(gateway, meter))
                    let payload = longSigned[gateway][cycle][meter]
                    batch.append((longRegistry.authenticate(payload, topic: GatewayTopics.parseIngest(topic), verifier: longVerifier), payload, topic))
                }
            }
            authenticated.append(batch)
        }
        var steady: [Double] = [], early: [Double] = []
        for _ in 0..<runs {
            let metrics = AggregatorMetrics()
            let engine = LedgerEngine(registry: longRegistry, heads: [:], rules: LedgerRules(), metrics: metrics, logger: quietLogger)
            var admitted = 0
            var started = ContinuousClock.now
            for (cycle, batch) in authenticated.enumerated() {
                if cycle == 100 {
                    early.append((ContinuousClock.now - started).seconds / Double(admitted) * 1e6)
                } else if cycle == longCycles - 100 {
                    started = ContinuousClock.now
                    admitted = 0
                }
                // Received a second after capture, as in real time.
                let receivedMillis = schedule.captureMillis(gateway: 0, cycle: cycle) + 1000
                for item in batch { _ = engine.admit([item], receivedMillis: receivedMillis) }
                admitted += batch.count
                if cycle % 100 == 99 { _ = engine.takeBlock(maximumRecords: 1 << 20, applying: []) }
            }
            steady.append((ContinuousClock.now - started).seconds / Double(admitted) * 1e6)
            precondition(metrics.acceptedCount == longCycles * small.gateways * small.meters, "only \(metrics.acceptedCount) accepted: \(metrics.refusalCounts)")
        }
        line("admit, first 100 records of each meter (\(small.gateways * small.meters) meters)", early)
        line("admit, records 1101…1200 of each meter (chain memory full)", steady)
    }

    // MARK: End to end throughput

    struct RunResult {
        var label: String
        var published = 0
        var committed = 0
        var refused = 0
        var droppedIncoming = 0
        var duplicates = 0
        var publishRate = 0.0
        var endToEndRate = 0.0
        var steadyRate = 0.0
        var confirmationP50 = Double.nan
        var confirmationP99 = Double.nan
        var recordP50 = Double.nan
        var recordP99 = Double.nan
        var lateP99 = 0.0
        var bytesPerRecord = Double.nan
        var cpu: [String: Double] = [:]
        var wallSeconds = 0.0
    }

    static func throughput(runs: Int, median: ([Double]) -> Double) async throws {
        let workload = Workload(gateways: env("GL_BENCH_GATEWAYS", 50), meters: env("GL_BENCH_METERS", 8), seed: "throughput")
        let rates = env("GL_BENCH_RATES", "max,10000,12500,15000,20000").split(separator: ",").map { $0 == "max" ? nil : Int($0) }
        let intervals = env("GL_BENCH_INTERVALS", "1000,250").split(separator: ",").compactMap { Int64($0) }
        let compression = Int32(env("GL_BENCH_COMPRESSION", 6))
        say("aggregator throughput: \(workload.gateways) gateways × \(workload.meters) meters, batches of \(workload.meters), \(env("GL_BENCH_BUNDLES", 1) == 1 ? "one bundle per batch" : "one message per record"), \(env("GL_BENCH_LANES", 4)) publisher connections in a child process, QoS 1, mosquitto on loopback (configuration: \(env("GL_BENCH_BROKER", "production"))), ingest.workers \(env("GL_BENCH_WORKERS", 2)), zlib \(compression); \(runs) runs per configuration")
        var results: [String: [RunResult]] = [:]
        var order: [String] = []
        var sizesReported: Set<Int64> = []
        for interval in intervals {
            for rate in rates {
                let label = "interval \(interval) ms, offered \(rate.map { "\($0)/s" } ?? "max")"
                order.append(label)
                for run in 0..<runs {
                    let storeSizes = !sizesReported.contains(interval) && run == 0 && rate == nil
                    let result = try await throughputRun(
                        workload: workload, interval: interval, rate: rate, compression: compression, run: run, label: label, restoreLevels: storeSizes ? [6, 1, 0] : [])
                    if storeSizes { sizesReported.insert(interval) }
                    results[label, default: []].append(result)
                }
            }
        }
        say("summary (median, [min … max] over \(runs) runs):")
        for label in order {
            let list = results[label] ?? []
            func stat(_ values: [Double], _ digits: Int = 0) -> String {
                let finite = values.filter { $0.isFinite }
                guard !finite.isEmpty else { return "n/a" }
                return "\(f(median(finite), digits)) [\(f(finite.min()!, digits)) … \(f(finite.max()!, digits))]"
            }
            let loss = list.map { $0.published - $0.committed }
            say("  \(label): committed/s sustained \(stat(list.map(\.steadyRate))), end to end \(stat(list.map(\.endToEndRate))); published/s \(stat(list.map(\.publishRate))); loss \(loss) refused \(list.map(\.refused)) dropped \(list.map(\.droppedIncoming)); confirmation latency p50 \(stat(list.map(\.confirmationP50))) ms, p99 \(stat(list.map(\.confirmationP99))) ms; per record p99 \(stat(list.map(\.recordP99))) ms; bytes/record \(stat(list.map(\.bytesPerRecord), 1))")
        }
    }

    /// One run: fresh broker, fresh aggregator state, one load generator.
    static func throughputRun(
        workload: Workload, interval: Int64, rate: Int?, compression: Int32, run: Int, label: String, restoreLevels: [Int32]
    ) async throws -> RunResult {
        var result = RunResult(label: label)
        let broker = try await MosquittoBroker.start()
        do {
            result = try await throughputRun(
                workload: workload, broker: broker, interval: interval, rate: rate, compression: compression, run: run, label: label, restoreLevels: restoreLevels)
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
        return result
    }

    static func throughputRun(
        workload: Workload, broker: MosquittoBroker, interval: Int64, rate: Int?, compression: Int32, run: Int, label: String, restoreLevels: [Int32]
    ) async throws -> RunResult {
        var result = RunResult(label: label)
        if env("GL_BENCH_BROKER", "production") == "production" {
            // deploy/mosquitto/mosquitto.conf's limits and logging (without TLS, passwords and ACL).
            let text = try String(contentsOfFile: broker.configurationFile, encoding: .utf8)
                .replacingOccurrences(of: "log_type all", with: """
                    log_type error
                    log_type warning
                    log_type notice
                    log_type information
                    max_queued_messages 100000
                    max_queued_bytes 268435456
                    max_inflight_messages 100
                    message_size_limit 4096
                    """)
            try text.write(toFile: broker.configurationFile, atomically: false, encoding: .utf8)
            try await broker.restart()
        }
        let directory = try TemporaryDirectory(prefix: "aggregator-bench")
        let state = directory.path("state")
        let aggregatorKey = try KeyFile.generate(at: state + "/aggregator.key")
        let configuration = AggregatorConfiguration(
            stateDirectory: state,
            broker: BrokerConfiguration(host: "127.0.0.1", port: broker.port, clientID: "bench-aggregator-\(run)", reconnectMinimumSeconds: 1, reconnectMaximumSeconds: 1),
            blocks: .init(intervalMillis: interval, compressionLevel: compression),
            ingest: .init(workers: env("GL_BENCH_WORKERS", 2)))
        do {
            // The registry is queued before the first start; the first block records it.
            let store = try SQLiteLedgerStore(path: configuration.databaseFile, access: .aggregator(publicKey: Array(aggregatorKey.publicKey.rawRepresentation)))
            for change in workload.registryChanges() { _ = try store.enqueueRegistryEntry(RegistryEntry(change: change, recordedMillis: 0, author: "bench")) }
        }
        let aggregator = try buildAggregator(configuration: configuration, logger: quietLogger, shutdownSignals: [])
        let aggregating = Task { try await aggregator.run() }
        defer { aggregating.cancel() }
        try await waitUntil(.seconds(30), "the registry block") { aggregator.metrics.blockHeight >= 0 }
        try await Task.sleep(for: .milliseconds(200))
        try await aggregator.client.waitUntilSubscribed(timeout: .seconds(10))

        // Confirmations, with the time they arrive.
        var confirmConfiguration = MQTTConfiguration(clientID: "bench-confirm-\(run)", host: "127.0.0.1", port: broker.port)
        confirmConfiguration.incomingBufferLimit = 1 << 20
        let confirmClient = try MQTTClient(configuration: confirmConfiguration, logger: quietLogger)
        try confirmClient.start()
        try await confirmClient.waitUntilConnected(timeout: .seconds(10))
        try confirmClient.subscribe("gridledger/v1/+/confirm", qos: 1)
        try await confirmClient.waitUntilSubscribed(timeout: .seconds(10))
        let received = Collector<(millis: Int64, topic: String, payload: [UInt8])>()
        let confirming = Task {
            for await message in confirmClient.messages { received.append((wallMillis(), message.topic, message.payload)) }
        }

        // The load generator.
        let perCycle = workload.gateways * workload.meters
        let records = rate.map { $0 * env("GL_BENCH_SECONDS", 15) } ?? env("GL_BENCH_RECORDS", 160_000)
        let cycles = max(1, records / perCycle)
        // Paced: every gateway polls every `period`; flat out: capture times as if at 20 000 records/s.
        let periodMillis = Double(perCycle) * 1000 / Double(rate ?? 20_000)
        let generator = try ChildProcess(try selfExecutable(), ["--only", "aggregator-loadgen"], environment: [
            "GL_LOADGEN_PORT": "\(broker.port)", "GL_LOADGEN_CYCLES": "\(cycles)", "GL_LOADGEN_PERIOD_MS": "\(periodMillis)",
            "GL_LOADGEN_PACED": rate == nil ? "0" : "1", "GL_BENCH_GATEWAYS": "\(workload.gateways)", "GL_BENCH_METERS": "\(workload.meters)",
            "GL_BENCH_SEED": workload.seed,
        ])
        let t0Line = try await generator.waitForLine(startingWith: "loadgen t0=", timeout: .seconds(60))
        guard let t0 = Int64(t0Line.dropFirst("loadgen t0=".count).prefix { $0.isNumber }) else { throw TestSupportError("bad line \(t0Line)") }
        let schedule = Schedule(t0: t0, periodMillis: periodMillis, gateways: workload.gateways)
        _ = try await generator.waitForLine(startingWith: "loadgen ready", timeout: .seconds(300))
        let mosquittoPID = processID(withArgument: broker.configurationFile)
        let untilT0 = t0 - wallMillis()
        if untilT0 > 0 { try await Task.sleep(for: .milliseconds(untilT0)) }

        // Timed phase: from t0 (publishing starts) to the last record committed.
        let started = ContinuousClock.now
        let threadsBefore = threadCPU()
        let machineBefore = machineBusySeconds()
        let brokerBefore = mosquittoPID.flatMap { cpuSeconds(statPath: "/proc/\($0)/stat") } ?? .nan
        let samples = Collector<(seconds: Double, committed: Int)>()
        let trace = env("GL_BENCH_TRACE", 0) != 0
        let sampling = Task {
            var tick = 0
            while !Task.isCancelled {
                samples.append(((ContinuousClock.now - started).seconds, aggregator.metrics.committedRecordCount))
                tick += 1
                if trace && tick % 20 == 0 {
                    // Where the backlog sits: received but not yet admitted, admitted but not committed.
                    say("  t=\(tick / 20)s received=\(aggregator.metrics.receivedRecordCount) pending=\(aggregator.engine.pendingRecordCount) committed=\(aggregator.metrics.committedRecordCount)")
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let expectedSeconds = Double(cycles) * periodMillis / 1000
        let doneLine = try await generator.waitForLine(startingWith: "loadgen done", timeout: .seconds(Int64(expectedSeconds * 4) + 120))
        let fields = keyValues(doneLine)
        result.published = Int(fields["published"] ?? "") ?? 0
        let publishSeconds = Double(fields["elapsed"] ?? "") ?? .nan
        result.publishRate = Double(result.published) / publishSeconds
        result.lateP99 = Double(fields["late_p99_ms"] ?? "") ?? .nan
        // Drain: until everything published is committed, or nothing moves for 10 s.
        var last = (count: -1, at: ContinuousClock.now)
        while aggregator.metrics.committedRecordCount < result.published {
            let now = aggregator.metrics.committedRecordCount
            if now != last.count { last = (now, ContinuousClock.now) }
            if ContinuousClock.now - last.at > .seconds(10) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let finished = (ContinuousClock.now - started).seconds
        let threadsAfter = threadCPU()
        let machineAfter = machineBusySeconds()
        let brokerAfter = mosquittoPID.flatMap { cpuSeconds(statPath: "/proc/\($0)/stat") } ?? .nan
        result.wallSeconds = finished
        try await Task.sleep(for: .seconds(1))  // the last confirmations
        sampling.cancel()
        _ = await sampling.value
        confirmClient.stop()
        _ = await confirming.value
        _ = try? await generator.waitForExit(timeout: .seconds(20))

        result.committed = aggregator.metrics.committedRecordCount
        result.refused = aggregator.metrics.refusalCounts.values.reduce(0, +)
        result.droppedIncoming = aggregator.client.statistics.droppedIncoming
        let prometheus = prometheusValues(aggregator.metrics.prometheusText())
        result.duplicates = Int(prometheus["gridledger_aggregator_records_duplicate_total"] ?? 0)
        let receivedMessages = Int(prometheus["gridledger_aggregator_messages_received_total"] ?? 0)
        let receivedRecords = Int(prometheus["gridledger_aggregator_records_received_total"] ?? 0)
        let held = Int(prometheus["gridledger_aggregator_records_held"] ?? 0)

        // Rates from the samples: end to end (t0 to the last commit) and steady (10 % to 90 % of the records).
        let points = samples.values
        func time(reaching count: Int) -> Double? { points.first { $0.committed >= count }?.seconds }
        if result.committed > 0, let end = time(reaching: result.committed) ?? Optional(finished) {
            result.endToEndRate = Double(result.committed) / end
            // Sustained: records committed after the first data block, over the time since it.
            if let first = points.first(where: { $0.committed > 0 }), end > first.seconds {
                result.steadyRate = Double(result.committed - first.committed) / (end - first.seconds)
            }
        }

        // Latency: receive time of a confirmation minus the capture time of the newest record it
        // newly confirms; and per record, for every record it newly confirms.
        var meterIndex: [String: (gateway: Int, meter: Int)] = [:]
        for gateway in 0..<workload.gateways {
            for meter in 0..<workload.meters { meterIndex[workload.meterID(gateway, meter)] = (gateway, meter) }
        }
        var confirmedUpTo: [String: UInt64] = [:]
        var perConfirmation: [Double] = [], perRecord: [Double] = []
        for item in received.values {
            guard let confirmation = try? Confirmation(decoding: item.payload) else { continue }
            var newest: Int64?
            for (meterID, sequence) in confirmation.confirmed {
                guard let (gateway, _) = meterIndex[meterID] else { continue }
                let before = confirmedUpTo[meterID] ?? 0
                guard sequence > before else { continue }
                confirmedUpTo[meterID] = sequence
                for confirmed in (before + 1)...sequence {
                    let capture = schedule.captureMillis(gateway: gateway, cycle: Int(confirmed) - 1)
                    perRecord.append(Double(item.millis - capture))
                    newest = max(newest ?? .min, capture)
                }
            }
            if let newest { perConfirmation.append(Double(item.millis - newest)) }
        }
        if rate != nil {
            result.confirmationP50 = percentile(perConfirmation, 0.5)
            result.confirmationP99 = percentile(perConfirmation, 0.99)
            result.recordP50 = percentile(perRecord, 0.5)
            result.recordP99 = percentile(perRecord, 0.99)
        }

        // CPU of each party during the timed phase.
        var groups: [String: Double] = [:]
        for (tid, after) in threadsAfter {
            let delta = after.seconds - (threadsBefore[tid]?.seconds ?? 0)
            if delta > 0.005 { groups["aggregator:" + after.name, default: 0] += delta }
        }
        groups["mosquitto"] = brokerAfter - brokerBefore
        groups["loadgen"] = Double(fields["cpu"] ?? "") ?? .nan
        let aggregatorCPU = groups.filter { $0.key.hasPrefix("aggregator:") }.values.reduce(0, +)
        // Everything else the machine did meanwhile (other users' builds on this shared VM).
        // The load generator's figure covers only its publishing phase, which ends before the timed phase.
        groups["other processes"] = (machineAfter - machineBefore) - aggregatorCPU - groups["mosquitto"]! - groups["loadgen"]!
        result.cpu = groups

        await aggregator.group.triggerGracefulShutdown()
        try await withTimeout(.seconds(60), "aggregator shutdown") { try await aggregating.value }

        // Bytes stored per record, after a checkpoint folds the WAL into the main file.
        let stored = try await checkpointedBytes(configuration.databaseFile)
        result.bytesPerRecord = Double(stored) / Double(max(1, result.committed))
        let cpuText = groups.sorted { $0.value > $1.value }.map { "\($0.key)=\(f($0.value, 2))s" }.joined(separator: " ")
        say("run \(run + 1) [\(label)]: published=\(result.published) committed=\(result.committed) loss=\(result.published - result.committed) received=\(receivedRecords) in \(receivedMessages) messages held=\(held) refused=\(result.refused) dropped_incoming=\(result.droppedIncoming) duplicates=\(result.duplicates) publish_rate=\(Int(result.publishRate))/s committed_rate_sustained=\(Int(result.steadyRate))/s committed_rate_e2e=\(Int(result.endToEndRate))/s timed_s=\(f(finished, 1)) blocks=\(aggregator.metrics.blockHeight + 1) commit_ms_total=\(f((prometheus["gridledger_aggregator_commit_microseconds_total"] ?? 0) / 1000)) confirmations=\(perConfirmation.count) latency_confirmation_ms_p50=\(f(result.confirmationP50)) p99=\(f(result.confirmationP99)) latency_record_ms_p50=\(f(result.recordP50)) p99=\(f(result.recordP99)) loadgen_late_p99_ms=\(f(result.lateP99)) bytes_per_record=\(f(result.bytesPerRecord, 1)) (\(stored) bytes)")
        say("  cpu_s (timed phase \(f(finished, 1)) s, 2 cores = \(f(2 * finished, 1)) cpu_s): \(cpuText)")
        let micros = { (seconds: Double) in f(seconds / Double(max(1, result.committed)) * 1e6, 1) }
        say("  cpu µs per committed record: aggregator \(micros(aggregatorCPU)) (MQTT network threads \(micros(groups["aggregator:mosquitto loop"] ?? 0))), mosquitto \(micros(groups["mosquitto"]!)), load generator \(micros(groups["loadgen"]!))")
        if result.published != result.committed {
            let dropped = broker.log.components(separatedBy: "\n").filter { $0.contains("dropped") || $0.contains("Dropped") }
            say("  mosquitto lines about dropping: \(dropped.count) \(dropped.prefix(3))")
        }
        if !restoreLevels.isEmpty {
            try await storeSizes(databaseFile: configuration.databaseFile, directory: directory, levels: restoreLevels)
        }
        return result
    }

    /// The run's blocks re-stored at other zlib levels: bytes per record and append cost.
    static func storeSizes(databaseFile: String, directory: TemporaryDirectory, levels: [Int32]) async throws {
        let source = try SQLiteLedgerStore(path: databaseFile, access: .readOnly)
        let key = try source.aggregatorKey()
        let registry = try source.recordedRegistryEntries()
        var blocks: [Block] = []
        try source.forEachBlock { block in
            blocks.append(block)
            return true
        }
        let records = blocks.reduce(0) { $0 + $1.records.count }
        let envelopeBytes = blocks.reduce(0) { $0 + $1.records.reduce(0) { $0 + $1.count } }
        say("  bytes per record of this run's \(records) records in \(blocks.count) blocks (mean envelope \(f(Double(envelopeBytes) / Double(max(1, records)), 1)) B), re-stored at each zlib level:")
        for level in levels {
            let path = directory.path("restored-\(level).db")
            let store = try SQLiteLedgerStore(path: path, access: .aggregator(publicKey: key), compressionLevel: level)
            var ids: [Int64] = []
            for entry in registry { ids.append(try store.enqueueRegistryEntry(entry)) }
            var heads: [String: MeterHead] = [:]
            var commits: [BlockCommit] = []
            for block in blocks {
                let registryEvents = block.events.filter { if case .registry = try? LedgerEvent(decoding: $0) { true } else { false } }.count
                let taken = Array(ids.prefix(registryEvents))
                ids.removeFirst(taken.count)
                commits.append(try commit(for: block, heads: &heads, registryEntryIDs: taken))
            }
            let started = ContinuousClock.now
            for commit in commits { try store.append(commit) }
            let seconds = (ContinuousClock.now - started).seconds
            let bytes = try await checkpointedBytes(path)
            let breakdown = try await sqlite(path, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 4;")
                .split(separator: "\n").map { $0.replacingOccurrences(of: "|", with: "=") }.joined(separator: " ")
            let bodies = try await sqlite(path, "SELECT sum(length(body)) FROM blocks;").trimmingCharacters(in: .whitespacesAndNewlines)
            say("    zlib \(level): \(f(Double(bytes) / Double(max(1, records)), 1) ) bytes/record (\(bytes) bytes; block bodies \(f((Double(bodies) ?? .nan) / Double(max(1, records)), 1)) B/record; pages: \(breakdown)); append \(f(seconds / Double(max(1, records)) * 1e6, 2)) µs/record")
        }
    }

    // MARK: Load generator (child process)

    static func loadgen() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let port = environment["GL_LOADGEN_PORT"].flatMap({ Int($0) }), let cycles = environment["GL_LOADGEN_CYCLES"].flatMap({ Int($0) }),
              let periodMillis = environment["GL_LOADGEN_PERIOD_MS"].flatMap({ Double($0) })
        else { throw TestSupportError("aggregator-loadgen is started by aggregator-throughput (GL_LOADGEN_* missing)") }
        let paced = environment["GL_LOADGEN_PACED"] == "1"
        let workload = Workload(gateways: env("GL_BENCH_GATEWAYS", 50), meters: env("GL_BENCH_METERS", 8), seed: env("GL_BENCH_SEED", "throughput"))
        let lanes = env("GL_BENCH_LANES", 4)
        let records = cycles * workload.gateways * workload.meters
        // Capture times are signed, so t0 is chosen before signing, with room to sign everything.
        let t0 = wallMillis() + 2000 + Int64(records) * 12 / 1000
        say("loadgen t0=\(t0)")
        let schedule = Schedule(t0: t0, periodMillis: periodMillis, gateways: workload.gateways)
        let signing = ContinuousClock.now
        let signed = try await workload.signAll(cycles: cycles, schedule: schedule)
        let signSeconds = (ContinuousClock.now - signing).seconds
        // As an agent publishes a poll cycle: one bundle of its meters' envelopes on the gateway's
        // `readings` topic (GL_BENCH_BUNDLES=0: one message per envelope on the meter's topic).
        let bundles = env("GL_BENCH_BUNDLES", 1) == 1
        let messages: [[[(topic: String, payload: [UInt8])]]] = try (0..<workload.gateways).map { gateway in
            let topics = GatewayTopics(gatewayID: workload.gatewayID(gateway))
            return try signed[gateway].map { cycle in
                if bundles { return [(topics.bundle, try ReadingBundle(envelopes: cycle).encoded())] }
                return cycle.enumerated().map { (topics.reading(meterID: workload.meterID(gateway, $0.offset)), $0.element) }
            }
        }
        let clients = try (0..<lanes).map { lane in
            var configuration = MQTTConfiguration(clientID: "bench-loadgen-\(getpid())-\(lane)", host: "127.0.0.1", port: port)
            configuration.maximumInFlight = 1000
            return try MQTTClient(configuration: configuration, logger: quietLogger)
        }
        for client in clients { try client.start() }
        for client in clients { try await client.waitUntilConnected(timeout: .seconds(10)) }
        let wait = t0 - wallMillis()
        say("loadgen ready records=\(records) sign_s=\(f(signSeconds, 2)) slack_ms=\(wait)")
        if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }
        let cpuBefore = cpuSeconds(statPath: "/proc/self/stat") ?? 0
        let began = ContinuousClock.now
        let beganWall = wallMillis()
        let failures = Collector<Int>()
        let lateness = try await withThrowingTaskGroup(of: [Double].self) { group in
            for gateway in 0..<workload.gateways {
                let client = clients[gateway % lanes]
                let gatewayMessages = messages[gateway]
                group.addTask {
                    var late: [Double] = []
                    for cycle in 0..<cycles {
                        if paced {
                            let due = began + .milliseconds(schedule.captureMillis(gateway: gateway, cycle: cycle) - beganWall)
                            if ContinuousClock.now < due { try await Task.sleep(until: due, clock: .continuous) }
                            late.append((ContinuousClock.now - due).seconds * 1000)
                        }
                        for message in gatewayMessages[cycle] {
                            var attempt = 0
                            while true {
                                do {
                                    try await client.publish(message.topic, payload: message.payload, qos: 1)
                                    break
                                } catch {
                                    failures.append(1)
                                    attempt += 1
                                    if attempt > 100 { throw error }
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                        }
                    }
                    return late
                }
            }
            var all: [Double] = []
            for try await late in group { all += late }
            return all
        }
        let elapsed = (ContinuousClock.now - began).seconds
        let cpu = (cpuSeconds(statPath: "/proc/self/stat") ?? 0) - cpuBefore
        for client in clients { client.stop() }
        say("loadgen done published=\(records) elapsed=\(f(elapsed, 3)) failures=\(failures.values.count) cpu=\(f(cpu, 2)) late_p50_ms=\(f(percentile(lateness, 0.5), 1)) late_p99_ms=\(f(percentile(lateness, 0.99), 1)) late_max_ms=\(f(lateness.max() ?? 0, 1))")
    }

    // MARK: Helpers

    static func selfExecutable() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    static func waitUntil(_ timeout: Duration, _ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestSupportError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func withTimeout(_ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let finished = try await group.next() ?? false
            group.cancelAll()
            if !finished { throw TestSupportError("timed out: \(what)") }
        }
    }

    /// `key=value` words of a line.
    static func keyValues(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        for word in line.split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    static func prometheusValues(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    /// utime + stime of a process or thread, in seconds.
    static func cpuSeconds(statPath: String) -> Double? {
        guard let text = try? String(contentsOfFile: statPath, encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds of each thread of this process, with its name.
    static func threadCPU() -> [Int: (name: String, seconds: Double)] {
        var result: [Int: (String, Double)] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
            guard let tid = Int(entry), let seconds = cpuSeconds(statPath: "/proc/self/task/\(entry)/stat") else { continue }
            let name = ((try? String(contentsOfFile: "/proc/self/task/\(entry)/comm", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
            result[tid] = (name, seconds)
        }
        return result
    }

    /// CPU seconds the whole machine spent busy (all cores), from /proc/stat.
    static func machineBusySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first else { return .nan }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return .nan }
        // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The process whose command line contains `argument` (the broker's own configuration file).
    static func processID(withArgument argument: String) -> Int32? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            if data.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == argument }) { return pid }
        }
        return nil
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    static func sqlite(_ path: String, _ sql: String) async throws -> String {
        let result = try await ChildProcess.run(try TestEnvironment.tool("sqlite3"), [path, sql], timeout: .seconds(120))
        guard result.status == 0 else { throw TestSupportError("sqlite3 \(sql): \(result.stderr)") }
        return result.stdout
    }

    /// Main file plus WAL after `PRAGMA wal_checkpoint(TRUNCATE)`.
    static func checkpointedBytes(_ path: String) async throws -> Int {
        _ = try await sqlite(path, "PRAGMA wal_checkpoint(TRUNCATE);")
        return fileSize(path) + fileSize(path + "-wal")
    }
}

/// A thread-safe list.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var values: [Element] { items.withLock { $0 } }
}

/// When each gateway polls: cycle `c` of gateway `g` at `t0 + c·period + g·period/gateways`.
struct Schedule: Sendable {
    let t0: Int64
    let periodMillis: Double
    let gateways: Int

    func captureMillis(gateway: Int, cycle: Int) -> Int64 {
        t0 + Int64((Double(cycle) * periodMillis + Double(gateway) * periodMillis / Double(gateways)).rounded(.down))
    }
}

/// Simulated gateways with deterministic keys, so that the load generator (a child process) and
/// the aggregator's registry agree without exchanging anything.
struct Workload: Sendable {
    let gateways: Int
    let meters: Int
    let seed: String

    func gatewayID(_ gateway: Int) -> String { "gw-\(10_000 + gateway)" }
    func meterID(_ gateway: Int, _ meter: Int) -> String { "\(gatewayID(gateway)):rs485:\(meter + 1):\(7_000_000 + gateway * 64 + meter)" }

    func privateKey(_ gateway: Int) -> Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(SHA256.hash(data: Array("gridledger-bench/\(seed)/\(gateway)".utf8))))
    }

    func registryChanges() -> [RegistryChange] {
        var changes: [RegistryChange] = [.addMember(Member(id: "ops", role: .operator, name: "Operator"))]
        for gateway in 0..<gateways {
            let member = "member-\(gateway)"
            changes.append(.addMember(Member(id: member, role: .prosumer, name: "Household \(gateway)")))
            changes.append(.addGatewayKey(gatewayID: gatewayID(gateway), publicKey: Array(privateKey(gateway).publicKey.rawRepresentation), validFromMillis: 0))
            for meter in 0..<meters {
                changes.append(.addMeter(RegisteredMeter(
                    meterID: meterID(gateway, meter), gatewayID: gatewayID(gateway), memberID: member, role: meter == 0 ? .grid : .pv, tariffGroup: "standard")))
            }
        }
        return changes
    }

    /// Envelopes of one gateway, `[cycle][meter]`: one batch per poll cycle, realistic values
    /// (energy counters that only grow, power, voltages, frequency, power factor), sequences and
    /// previous hashes chained per meter.
    func sign(gateway: Int, cycles: Int, schedule: Schedule) throws -> [[[UInt8]]] {
        let signer = BatchSigner(gatewayID: gatewayID(gateway), key: privateKey(gateway))
        var random = SplitMix64(state: UInt64(gateway) &* 0x9E37_79B9_7F4A_7C15 ^ 0x5EED)
        var previous = [[UInt8]](repeating: ReadingRecord.zeroHash, count: meters)
        var imported = (0..<meters).map { _ in Int64(random.below(50_000_000)) }  // Wh
        var exported = (0..<meters).map { _ in Int64(random.below(20_000_000)) }
        var out: [[[UInt8]]] = []
        out.reserveCapacity(cycles)
        for cycle in 0..<cycles {
            let capture = schedule.captureMillis(gateway: gateway, cycle: cycle)
            var batch: [[UInt8]] = []
            for meter in 0..<meters {
                let power = Int64(random.below(60_000)) - 20_000  // 0.1 W
                if power > 0 { imported[meter] += Int64(random.below(4)) } else { exported[meter] += Int64(random.below(3)) }
                let values = [
                    Measurement(.energyActiveImportTotal, ScaledValue(imported[meter], exponent: -3)),
                    Measurement(.energyActiveExportTotal, ScaledValue(exported[meter], exponent: -3)),
                    Measurement(.powerActiveTotal, ScaledValue(power, exponent: -1)),
                    Measurement(.voltageL1, ScaledValue(2300 + Int64(random.below(80)) - 40, exponent: -1)),
                    Measurement(.voltageL2, ScaledValue(2300 + Int64(random.below(80)) - 40, exponent: -1)),
                    Measurement(.voltageL3, ScaledValue(2300 + Int64(random.below(80)) - 40, exponent: -1)),
                    Measurement(.frequency, ScaledValue(5000 + Int64(random.below(10)) - 5, exponent: -2)),
                    Measurement(.powerFactorTotal, ScaledValue(900 + Int64(random.below(100)), exponent: -3)),
                ]
                let bytes = try ReadingRecord(
                    gatewayID: gatewayID(gateway), meterID: meterID(gateway, meter), sequence: UInt64(cycle + 1), captureTimeMillis: capture,
                    flags: .clockSynchronized, profileID: "eastron-sdm630", status: .complete, previousHash: previous[meter], values: values
                ).encoded()
                previous[meter] = ReadingRecord.hash(of: bytes)
                batch.append(bytes)
            }
            out.append(try signer.sign(records: batch, batchSequence: UInt64(cycle + 1), createdMillis: capture).map { $0.encoded() })
        }
        return out
    }

    /// Every gateway's envelopes, `[gateway][cycle][meter]`, signed on all cores.
    func signAll(cycles: Int, schedule: Schedule) async throws -> [[[[UInt8]]]] {
        try await withThrowingTaskGroup(of: (Int, [[[UInt8]]]).self) { group in
            for gateway in 0..<gateways {
                group.addTask { (gateway, try sign(gateway: gateway, cycles: cycles, schedule: schedule)) }
            }
            var all = [[[[UInt8]]]](repeating: [], count: gateways)
            for try await (gateway, envelopes) in group { all[gateway] = envelopes }
            return all
        }
    }
}

struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
