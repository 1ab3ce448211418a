import AgentOutbox
import Foundation
import GridLedgerAgent
import GridLedgerCore
import GridLedgerRecords
import GridLedgerTestSupport
import Logging
import MQTTTransport
import MeterSimulator
import Testing

/// The agent end to end with real parts: simulated Modbus meters, a real mosquitto on loopback,
/// the agent (in process through `buildAgent`, or as the shipped executable), and a collector
/// that verifies every record as the aggregator will.
extension Integration {
    @Suite("Agent pipeline", .serialized)
    struct AgentPipelineTests {
        static func startMeters(_ count: Int) async throws -> [SimulatorServer] {
            var simulators: [SimulatorServer] = []
            for index in 0..<count {
                simulators.append(try await SimulatorServer.start(.init(
                    profile: try catalog.profile("eastron-sdm630"), endpoint: .tcp(host: "127.0.0.1", port: 0),
                    serialNumber: UInt64(1000 + index))))
            }
            return simulators
        }

        static func brokerYAML(_ broker: MosquittoBroker) -> String {
            "host: 127.0.0.1\nport: \(broker.port)\nreconnect:\n  minimumSeconds: 1\n  maximumSeconds: 1"
        }

        @Test func signedRecordsArriveVerifiedInOrderAndConfirmedRecordsLeaveTheOutbox() async throws {
            let broker = try await MosquittoBroker.start()
            let meters = try await Self.startMeters(2)
            let fixture = try AgentFixture(meters: meters.map { ("eastron-sdm630", $0.port!) }, brokerYAML: Self.brokerYAML(broker))
            let collector = try ReadingCollector(port: broker.port, topics: GatewayTopics(gatewayID: fixture.gatewayID), publicKey: fixture.publicKey, confirm: true)
            try await collector.start()
            let collecting = Task { await collector.collect() }
            defer { collecting.cancel() }

            let agent = try buildAgent(
                configuration: try AgentConfiguration.load(path: fixture.configPath), logger: Logger(label: "test.agent"),
                clockSynchronized: { true }, environment: [:], shutdownSignals: [])
            let running = Task { try await agent.run() }
            try await collector.waitUntil("10 records of each meter") { state in
                state.records.count == 2 && state.records.values.allSatisfy { $0.count >= 10 }
            }
            try await collector.waitUntil("confirmations to empty the outbox of the first records") { _ in
                agent.metrics.snapshot.recordsConfirmed >= 10
            }
            await agent.group.triggerGracefulShutdown()
            try await running.value

            let state = collector.snapshot
            // Stable meter ids: gateway, bus, unit and the serial number the meter reports.
            #expect(Set(state.records.keys) == ["gw-test:bus0:1:1000", "gw-test:bus1:1:1001"])
            // Without an outage, every meter's records arrive in sequence order.
            for meterID in state.records.keys {
                let sequences = state.arrivals.filter { $0.meterID == meterID }.map(\.sequence)
                #expect(sequences == Array(1...UInt64(sequences.count)), "\(meterID) arrived as \(sequences.prefix(20))")
            }
            #expect(collector.checkChains().isEmpty, "\(collector.checkChains())")
            let first = try #require(state.records["gw-test:bus0:1:1000"]?[1]?.record)
            #expect(first.status == .complete)
            #expect(first.flags.contains(.clockSynchronized))
            #expect(first.values.contains { $0.quantity == .energyActiveImportTotal })
            // Confirmed records left the outbox; the chain heads stayed.
            let outbox = agent.outbox
            let depth = try outbox.depth()
            let signed = agent.metrics.snapshot.recordsSigned
            #expect(depth <= signed - agent.metrics.snapshot.recordsConfirmed)
            #expect(try outbox.chainHeads().values.map(\.sequence).reduce(0, +) == UInt64(signed))
            // Retained status: online while running, offline after the graceful stop.
            try await collector.waitUntil("the offline status") { _ in collector.statusHistory.withLock { $0.last } == "offline" }
            #expect(collector.statusHistory.withLock { $0 }.contains("online"))
            // The metrics file is Prometheus text with the counters.
            let metricsText = try String(contentsOfFile: fixture.directory.path("metrics.prom"), encoding: .utf8)
            #expect(metricsText.contains("gridledger_agent_records_signed_total{gateway=\"gw-test\"}"))
            for meter in meters { await meter.stop() }
            await broker.stop()
        }

        /// The power-cut and outage test: the broker goes away and comes back, and the agent is
        /// killed with SIGKILL several times; afterwards every sequence of every meter exists
        /// exactly once (received, or still in the outbox), linked, and no number was reused.
        @Test func brokerOutageAndRepeatedKill9LoseNothingAndReuseNothing() async throws {
            let broker = try await MosquittoBroker.start()
            let meters = try await Self.startMeters(2)
            let fixture = try AgentFixture(meters: meters.map { ("eastron-sdm630", $0.port!) }, brokerYAML: Self.brokerYAML(broker), intervalSeconds: "0.1")
            let topics = GatewayTopics(gatewayID: fixture.gatewayID)
            let collector = try ReadingCollector(port: broker.port, topics: topics, publicKey: fixture.publicKey, confirm: true)
            try await collector.start()
            let collecting = Task { await collector.collect() }
            defer { collecting.cancel() }
            let executable = try TestEnvironment.executable("gridledger-agent")
            func startAgent() throws -> ChildProcess { try ChildProcess(executable, ["run", "--config", fixture.configPath, "--log-level", "debug"]) }

            var agent = try startAgent()
            try await collector.waitUntil("first records") { $0.records.count == 2 && $0.records.values.allSatisfy { $0.count >= 5 } }

            // Outage: readings keep being signed into the outbox while the broker is away.
            await broker.stop()
            try await Task.sleep(for: .seconds(2))
            try await broker.restart()

            // Power cuts: SIGKILL at arbitrary moments, then restart.
            for round in 0..<3 {
                try await Task.sleep(for: .milliseconds(700 + round * 300))
                kill(agent.processIdentifier, SIGKILL)
                _ = try await agent.waitForExit(timeout: .seconds(10))
                agent = try startAgent()
            }
            let before = collector.snapshot.records.mapValues { $0.keys.max() ?? 0 }
            try await collector.waitUntil(timeout: .seconds(40), "records after the restarts, contiguous") { state in
                state.records.allSatisfy { meterID, records in
                    var highest: UInt64 = 0
                    while records[highest + 1] != nil { highest += 1 }
                    return highest > (before[meterID] ?? 0) + 5
                }
            }
            #expect(await agent.stop() == 0, "graceful stop: \(agent.standardError.suffix(2000))")

            // Everything signed is either received or still waiting in the outbox.
            let outbox = try Outbox(path: fixture.outboxPath)
            let heads = try outbox.chainHeads()
            let pending = try outbox.due(limit: 1_000_000, republishBeforeMillis: .max)
            let state = collector.snapshot
            #expect(state.conflicts.isEmpty, "reused sequence numbers: \(state.conflicts)")
            #expect(state.refused.isEmpty, "\(state.refused.prefix(5))")
            for (meterID, head) in heads {
                let received = Set(state.records[meterID]?.keys.map { $0 } ?? [])
                let waiting = Set(pending.filter { $0.meterID == meterID }.map(\.sequence))
                let missing = Set(1...head.sequence).subtracting(received).subtracting(waiting)
                #expect(missing.isEmpty, "\(meterID): missing \(missing.sorted().prefix(20)) of 1…\(head.sequence)")
                #expect(received.max() ?? 0 <= head.sequence, "\(meterID): received a sequence beyond the stored head")
            }
            // The received part of every chain links without a break.
            let linkProblems = collector.checkChains().filter { !$0.contains("missing") }
            #expect(linkProblems.isEmpty, "\(linkProblems)")
            #expect(state.duplicates >= 0)
            for meter in meters { await meter.stop() }
            await broker.stop()
        }

        @Test func agentConnectsOverTLSWithAClientCertificate() async throws {
            let certificates = try await TestCertificates.generate()
            let broker = try await MosquittoBroker.start(tls: certificates, requireClientCertificate: true)
            let meters = try await Self.startMeters(1)
            let fixture = try AgentFixture(
                meters: [("eastron-sdm630", meters[0].port!)],
                brokerYAML: """
                    host: localhost
                    port: \(broker.port)
                    tls:
                      caFile: \(certificates.caFile)
                      certificateFile: \(certificates.clientCertificate)
                      keyFile: \(certificates.clientKey)
                    """,
                metricsYAML: "  logIntervalSeconds: 0")  // metrics off: the service must idle, not end the group
            let agent = try buildAgent(
                configuration: try AgentConfiguration.load(path: fixture.configPath), logger: Logger(label: "test.agent"),
                clockSynchronized: { false }, environment: [:], shutdownSignals: [])
            let running = Task { try await agent.run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while agent.metrics.snapshot.recordsPublished < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(agent.metrics.snapshot.recordsPublished >= 3)
            #expect(agent.client.isConnected)
            await agent.group.triggerGracefulShutdown()
            try await running.value
            await meters[0].stop()
            await broker.stop()
        }
    }
}
