import AgentOutbox
import Crypto
import Foundation
import GridLedgerAgent
import GridLedgerAggregator
import GridLedgerCore
import GridLedgerRecords
import GridLedgerTestSupport
import LedgerCore
import LedgerStore
import Logging
import MQTTTransport
import MeterSimulator
import Testing

/// Simulated meters → agents → mosquitto → aggregator → blocks, with real parts throughout; the
/// chain is then checked by the offline verifier and against the agents' outboxes.
extension Integration {
    @Suite("Aggregator pipeline", .serialized)
    struct AggregatorPipelineTests {
        /// An aggregator's state directory, key and configuration, with a registry for `gateways`.
        struct AggregatorFixture {
            let directory: TemporaryDirectory
            let configuration: AggregatorConfiguration
            let configPath: String
            let publicKey: [UInt8]

            init(broker: MosquittoBroker, gateways: [AgentFixture], metersPerGateway: Int) throws {
                directory = try TemporaryDirectory(prefix: "aggregator")
                let state = directory.path("state")
                let key = try KeyFile.generate(at: "\(state)/aggregator.key")
                publicKey = Array(key.publicKey.rawRepresentation)
                configPath = try directory.write("aggregator.yaml", """
                    stateDirectory: \(state)
                    broker:
                      host: 127.0.0.1
                      port: \(broker.port)
                      reconnect:
                        minimumSeconds: 1
                        maximumSeconds: 1
                    blocks:
                      intervalSeconds: 0.1
                    rules:
                      gapGraceSeconds: 8  # the agents resend after 5 s (AgentFixture)
                    """)
                configuration = try AggregatorConfiguration.load(path: configPath)
                // The registry is queued before the first start; the first block records it.
                let store = try SQLiteLedgerStore(path: configuration.databaseFile, access: .aggregator(publicKey: publicKey))
                var changes: [RegistryChange] = [.addMember(Member(id: "ops", role: .operator, name: "Operator"))]
                for (index, gateway) in gateways.enumerated() {
                    let member = "member-\(index)"
                    changes.append(.addMember(Member(id: member, role: .prosumer, name: "Household \(index)")))
                    changes.append(.addGatewayKey(gatewayID: gateway.gatewayID, publicKey: Array(gateway.publicKey.rawRepresentation), validFromMillis: 0))
                    for meter in 0..<metersPerGateway {
                        changes.append(.addMeter(RegisteredMeter(
                            meterID: "\(gateway.gatewayID):bus\(meter):1:\(1000 + index * 10 + meter)", gatewayID: gateway.gatewayID,
                            memberID: member, role: meter == 0 ? .grid : .pv, tariffGroup: "standard")))
                    }
                }
                for change in changes { try store.enqueueRegistryEntry(RegistryEntry(change: change, recordedMillis: 0, author: "test")) }
            }

            func openStore() throws -> SQLiteLedgerStore { try SQLiteLedgerStore(path: configuration.databaseFile, access: .readOnly) }
        }

        static func startMeters(gateway: Int, count: Int) async throws -> [SimulatorServer] {
            var simulators: [SimulatorServer] = []
            for index in 0..<count {
                simulators.append(try await SimulatorServer.start(.init(
                    profile: try catalog.profile("eastron-sdm630"), endpoint: .tcp(host: "127.0.0.1", port: 0),
                    serialNumber: UInt64(1000 + gateway * 10 + index))))
            }
            return simulators
        }

        static func brokerYAML(_ broker: MosquittoBroker) -> String {
            "host: 127.0.0.1\nport: \(broker.port)\nreconnect:\n  minimumSeconds: 1\n  maximumSeconds: 1"
        }

        /// Verifies the whole chain and returns each meter's sequences in chain order.
        static func verifiedChain(_ store: SQLiteLedgerStore, publicKey: [UInt8]) throws -> (sequences: [String: [UInt64]], failure: ChainFailure?) {
            var verifier = ChainVerifier(aggregatorKey: try Curve25519.Signing.PublicKey(rawRepresentation: publicKey))
            var sequences: [String: [UInt64]] = [:]
            do {
                try store.forEachBlock { block in
                    try verifier.verify(block)
                    for envelope in block.records {
                        let record = try ReadingRecord(decoding: try RecordEnvelope(decoding: envelope).record)
                        sequences[record.meterID, default: []].append(record.sequence)
                    }
                    return true
                }
            } catch let failure as ChainFailure {
                return (sequences, failure)
            }
            return (sequences, nil)
        }

        /// Every sequence an agent signed is in the chain exactly once, or still in its outbox
        /// after the chain's last one (unconfirmed), and nothing confirmed is missing.
        static func checkAgainstOutbox(_ fixture: AgentFixture, chain: [String: [UInt64]]) throws {
            let outbox = try Outbox(path: fixture.outboxPath)
            let waiting = try outbox.due(limit: 1_000_000, republishBeforeMillis: .max)
            for (meterID, head) in try outbox.chainHeads() {
                let inChain = chain[meterID] ?? []
                #expect(inChain == Array(1...UInt64(max(inChain.count, 1))).prefix(inChain.count).map { $0 }, "\(meterID): chain holds \(inChain.prefix(20))…")
                #expect(Set(inChain).count == inChain.count, "\(meterID): a record is in the chain twice")
                let pending = Set(waiting.filter { $0.meterID == meterID }.map(\.sequence))
                let missing = Set(1...head.sequence).subtracting(inChain).subtracting(pending)
                #expect(missing.isEmpty, "\(meterID): signed but neither in the chain nor in the outbox: \(missing.sorted().prefix(20))")
                if let lowestPending = pending.min() {
                    #expect(lowestPending <= UInt64(inChain.count) + 1, "\(meterID): a confirmed record is missing from the chain")
                }
            }
        }

        @Test func readingsFromTwoGatewaysBecomeAVerifiedChainAndAreConfirmed() async throws {
            let broker = try await MosquittoBroker.start()
            var meters: [SimulatorServer] = []
            var agents: [AgentFixture] = []
            for gateway in 0..<2 {
                let simulators = try await Self.startMeters(gateway: gateway, count: 2)
                meters += simulators
                // gw-0 sends bundles (the default), gw-1 one message per record on its meters' topics.
                agents.append(try AgentFixture(
                    gatewayID: "gw-\(gateway)", meters: simulators.map { ("eastron-sdm630", $0.port!) }, brokerYAML: Self.brokerYAML(broker),
                    intervalSeconds: "0.1", recordsPerMessage: gateway == 1 ? 1 : nil))
            }
            let fixture = try AggregatorFixture(broker: broker, gateways: agents, metersPerGateway: 2)
            let aggregator = try buildAggregator(configuration: fixture.configuration, logger: Logger(label: "test.aggregator"), shutdownSignals: [])
            let aggregating = Task { try await aggregator.run() }
            try await waitUntil("the registry block") { aggregator.metrics.blockHeight >= 0 }

            var running: [(Agent, Task<Void, any Error>)] = []
            for fixture in agents {
                let agent = try buildAgent(
                    configuration: try AgentConfiguration.load(path: fixture.configPath), logger: Logger(label: "test.agent"),
                    clockSynchronized: { true }, environment: [:], shutdownSignals: [])
                running.append((agent, Task { try await agent.run() }))
            }
            try await waitUntil(timeout: .seconds(60), "20 committed records per meter and confirmations") {
                aggregator.metrics.committedRecordCount >= 80 && running.allSatisfy { $0.0.metrics.snapshot.recordsConfirmed >= 20 }
            }
            for (agent, task) in running {
                await agent.group.triggerGracefulShutdown()
                try await task.value
            }
            await aggregator.group.triggerGracefulShutdown()
            try await aggregating.value

            #expect(aggregator.metrics.refusalCounts.values.reduce(0, +) == 0, "\(aggregator.metrics.refusalCounts)")
            // Bundles carried gw-0's records: fewer messages than records.
            #expect(aggregator.metrics.receivedCount < aggregator.metrics.receivedRecordCount)
            let (chain, failure) = try Self.verifiedChain(try fixture.openStore(), publicKey: fixture.publicKey)
            #expect(failure == nil, "\(failure.map { "\($0)" } ?? "")")
            #expect(chain.count == 4)
            for agent in agents { try Self.checkAgainstOutbox(agent, chain: chain) }
            // The shipped verifier agrees.
            let verify = try ChildProcess(try TestEnvironment.executable("gridledger"), [
                "verify", "--db", fixture.configuration.databaseFile, "--aggregator-key", Hex.encode(fixture.publicKey), "--json",
            ])
            #expect(try await verify.waitForExit(timeout: .seconds(60)) == 0, "\(verify.standardOutput) \(verify.standardError)")
            #expect(verify.standardOutput.contains("\"valid\":true"))
            for meter in meters { await meter.stop() }
            await broker.stop()
        }

        /// Power cuts at the aggregator: SIGKILL while it mints, three times. The chain verifies
        /// afterwards, and once the agents have resent, nothing confirmed is missing and nothing is
        /// in the chain twice.
        @Test func kill9OfTheAggregatorLosesNothingConfirmedAndDuplicatesNothing() async throws {
            let broker = try await MosquittoBroker.start()
            let simulators = try await Self.startMeters(gateway: 0, count: 2)
            let agentFixture = try AgentFixture(
                gatewayID: "gw-0", meters: simulators.map { ("eastron-sdm630", $0.port!) }, brokerYAML: Self.brokerYAML(broker), intervalSeconds: "0.1")
            let fixture = try AggregatorFixture(broker: broker, gateways: [agentFixture], metersPerGateway: 2)
            let executable = try TestEnvironment.executable("gridledger-aggregator")
            func startAggregator() throws -> ChildProcess { try ChildProcess(executable, ["run", "--config", fixture.configPath, "--log-level", "info"]) }

            var aggregatorProcess = try startAggregator()
            let agent = try buildAgent(
                configuration: try AgentConfiguration.load(path: agentFixture.configPath), logger: Logger(label: "test.agent"),
                clockSynchronized: { true }, environment: [:], shutdownSignals: [])
            let agentTask = Task { try await agent.run() }
            try await waitUntil(timeout: .seconds(60), "first confirmations") { agent.metrics.snapshot.recordsConfirmed >= 10 }
            for round in 0..<3 {
                try await Task.sleep(for: .milliseconds(500 + round * 250))
                kill(aggregatorProcess.processIdentifier, SIGKILL)
                _ = try await aggregatorProcess.waitForExit(timeout: .seconds(10))
                aggregatorProcess = try startAggregator()
            }
            let confirmedBefore = agent.metrics.snapshot.recordsConfirmed
            try await waitUntil(timeout: .seconds(60), "confirmations after the restarts") {
                agent.metrics.snapshot.recordsConfirmed >= confirmedBefore + 20
            }
            await agent.group.triggerGracefulShutdown()
            try await agentTask.value
            #expect(await aggregatorProcess.stop() == 0, "graceful stop: \(aggregatorProcess.standardError.suffix(2000))")

            let (chain, failure) = try Self.verifiedChain(try fixture.openStore(), publicKey: fixture.publicKey)
            #expect(failure == nil, "\(failure.map { "\($0)" } ?? "")")
            #expect(chain.count == 2)
            try Self.checkAgainstOutbox(agentFixture, chain: chain)
            for meter in simulators { await meter.stop() }
            await broker.stop()
        }
    }
}

/// Polls `condition` every 50 ms until it holds, failing after `timeout`.
func waitUntil(timeout: Duration = .seconds(30), _ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

extension Integration.AggregatorPipelineTests {
    /// Bad input through the real broker: each is refused with its reason, counted, and nothing
    /// of it reaches the chain; the good record sent afterwards on the same connection does.
    @Test func badInputOverMQTTIsRefusedWithItsReason() async throws {
        let broker = try await MosquittoBroker.start()
        let gatewayKey = Curve25519.Signing.PrivateKey()
        let otherKey = Curve25519.Signing.PrivateKey()
        let agent = try AgentFixture(gatewayID: "gw-0", meters: [], brokerYAML: Self.brokerYAML(broker))
        let fixture = try AggregatorFixture(broker: broker, gateways: [agent], metersPerGateway: 1)
        let aggregator = try buildAggregator(configuration: fixture.configuration, logger: Logger(label: "test.aggregator"), shutdownSignals: [])
        let aggregating = Task { try await aggregator.run() }
        try await waitUntil("the registry block") { aggregator.metrics.blockHeight >= 0 }

        // The AgentFixture's key is not ours to sign with here: register this test's key by rotation.
        let store = try SQLiteLedgerStore(path: fixture.configuration.databaseFile, access: .existing)
        try store.enqueueRegistryEntry(RegistryEntry(
            change: .addGatewayKey(gatewayID: "gw-0", publicKey: Array(gatewayKey.publicKey.rawRepresentation), validFromMillis: 1),
            recordedMillis: 1, author: "test"))
        try await waitUntil("the rotation block") { aggregator.metrics.blockHeight >= 1 }

        let meterID = "gw-0:bus0:1:1000"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func envelope(sequence: UInt64, key: Curve25519.Signing.PrivateKey = gatewayKey, meter: String = meterID, gateway: String = "gw-0",
                      previous: [UInt8] = ReadingRecord.zeroHash, capture: Int64? = nil) throws -> [UInt8] {
            let record = try ReadingRecord(
                gatewayID: gateway, meterID: meter, sequence: sequence, captureTimeMillis: capture ?? now, flags: [.clockSynchronized],
                profileID: "eastron-sdm630", status: .complete, previousHash: previous,
                values: [Measurement(.energyActiveImportTotal, ScaledValue(1000 + Int64(sequence), exponent: 0))]).encoded()
            return try BatchSigner(gatewayID: gateway, key: key).sign(records: [record], batchSequence: sequence, createdMillis: now)[0].encoded()
        }
        let topic = GatewayTopics(gatewayID: "gw-0").reading(meterID: meterID)
        var configuration = MQTTConfiguration(clientID: "bad-input", host: "127.0.0.1", port: broker.port)
        configuration.keepAliveSeconds = 10
        let client = try MQTTClient(configuration: configuration, logger: Logger(label: "test.client"))
        try client.start()
        try await client.waitUntilConnected(timeout: .seconds(10))

        let cases: [(reason: String, topic: String, payload: [UInt8])] = [
            ("bad_signature", topic, try envelope(sequence: 1, key: otherKey)),
            ("unknown_meter", GatewayTopics(gatewayID: "gw-0").reading(meterID: "gw-0:bus9:1"), try envelope(sequence: 1, meter: "gw-0:bus9:1")),
            ("topic_mismatch", GatewayTopics(gatewayID: "gw-1").reading(meterID: meterID), try envelope(sequence: 1)),
            ("malformed", topic, [1, 2, 3]),
            ("oversized", topic, [UInt8](repeating: 1, count: RecordEnvelope.maximumSize + 1)),
            ("future_timestamp", topic, try envelope(sequence: 1, capture: now + 3_600_000)),
        ]
        for item in cases { try await client.publish(item.topic, payload: item.payload, qos: 1) }
        let good = try envelope(sequence: 1)
        try await client.publish(topic, payload: good, qos: 1)
        try await waitUntil("the good record committed") { aggregator.metrics.committedRecordCount >= 1 }
        for item in cases {
            #expect(aggregator.metrics.refusalCount(item.reason) == 1, "\(item.reason): \(aggregator.metrics.refusalCounts)")
        }
        // A replay of the accepted record is an ignored duplicate; a different record with the same
        // sequence is an equivocation, refused and recorded as an event.
        try await client.publish(topic, payload: good, qos: 1)
        let conflicting = try ReadingRecord(
            gatewayID: "gw-0", meterID: meterID, sequence: 1, captureTimeMillis: now + 1, flags: [], profileID: "eastron-sdm630",
            status: .complete, previousHash: ReadingRecord.zeroHash, values: []).encoded()
        try await client.publish(topic, payload: try BatchSigner(gatewayID: "gw-0", key: gatewayKey).sign(records: [conflicting], batchSequence: 9, createdMillis: now)[0].encoded(), qos: 1)
        try await waitUntil("the equivocation") { aggregator.metrics.refusalCount("equivocation") == 1 }

        // Bundles: framing errors refuse the whole message; otherwise each envelope is judged
        // alone, and its gateway must be the bundle topic's.
        func recordHash(_ envelope: [UInt8]) throws -> [UInt8] { Array(SHA256.hash(data: try RecordEnvelope(decoding: envelope).record)) }
        let second = try envelope(sequence: 2, previous: try recordHash(good))
        let third = try envelope(sequence: 3, previous: try recordHash(second))
        let bundleTopic = GatewayTopics(gatewayID: "gw-0").bundle
        let bundleCases: [(reason: String, topic: String, payload: [UInt8])] = [
            ("topic_mismatch", GatewayTopics(gatewayID: "gw-1").bundle, try ReadingBundle(envelopes: [second]).encoded()),
            ("malformed", bundleTopic, [1, 0, 2, 0, 1, 7]),
            ("oversized", bundleTopic, [UInt8](repeating: 1, count: ReadingBundle.maximumSize + 1)),
        ]
        for item in bundleCases { try await client.publish(item.topic, payload: item.payload, qos: 1) }
        let mixed = try ReadingBundle(envelopes: [try envelope(sequence: 2, key: otherKey, previous: try recordHash(good)), second, third])
        try await client.publish(bundleTopic, payload: mixed.encoded(), qos: 1)
        try await waitUntil("the bundle's good records committed") { aggregator.metrics.committedRecordCount >= 3 }
        for reason in ["topic_mismatch", "malformed", "oversized", "bad_signature"] {
            #expect(aggregator.metrics.refusalCount(reason) == 2, "\(reason): \(aggregator.metrics.refusalCounts)")
        }
        #expect(aggregator.metrics.receivedRecordCount == cases.count + 3 + 1 + 3)
        client.stop()
        await aggregator.group.triggerGracefulShutdown()
        try await aggregating.value

        let (chain, failure) = try Self.verifiedChain(try fixture.openStore(), publicKey: fixture.publicKey)
        #expect(failure == nil, "\(failure.map { "\($0)" } ?? "")")
        #expect(chain == [meterID: [1, 2, 3]])
        let refusals = try fixture.openStore().refusals(limit: 100)
        #expect(Set(refusals.map(\.reason)) == Set(cases.map(\.reason) + ["equivocation"]))
        var events: [LedgerEvent] = []
        try fixture.openStore().forEachBlock { block in
            events += try block.events.map { try LedgerEvent(decoding: $0) }
            return true
        }
        #expect(events.contains { if case .equivocation(meterID, 1, _, _) = $0 { true } else { false } })
        await broker.stop()
    }
}
