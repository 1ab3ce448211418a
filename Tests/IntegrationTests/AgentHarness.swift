import Crypto
import Foundation
import GridLedgerAgent
import GridLedgerRecords
import GridLedgerTestSupport
import Logging
import MQTTTransport
import Synchronization

/// Plays the aggregator's part for agent tests: subscribes to a gateway's readings, verifies
/// every envelope with the gateway's public key, keeps every record by (meter, sequence), and
/// optionally confirms the highest contiguous sequence per meter as the aggregator will.
final class ReadingCollector: Sendable {
    struct Received: Sendable {
        var bytes: [UInt8]
        var record: ReadingRecord
        var topic: String
    }

    struct State {
        /// meter id → sequence → record bytes first seen.
        var records: [String: [UInt64: Received]] = [:]
        var arrivals: [(meterID: String, sequence: UInt64)] = []
        var refused: [String] = []
        /// Same (meter, sequence) with different bytes: a reused number.
        var conflicts: [String] = []
        var duplicates = 0
    }

    let client: MQTTClient
    let topics: GatewayTopics
    let publicKey: Curve25519.Signing.PublicKey
    let confirm: Bool
    private let state = Mutex(State())
    private let verifier = RecordVerifier()

    init(port: Int, topics: GatewayTopics, publicKey: Curve25519.Signing.PublicKey, confirm: Bool) throws {
        var configuration = MQTTConfiguration(clientID: "collector-\(UUID().uuidString.prefix(8))", host: "127.0.0.1", port: port)
        configuration.reconnectMinimumSeconds = 1
        configuration.reconnectMaximumSeconds = 1
        configuration.incomingBufferLimit = 100_000
        client = try MQTTClient(configuration: configuration, logger: Logger(label: "test.collector"))
        self.topics = topics
        self.publicKey = publicKey
        self.confirm = confirm
    }

    func start() async throws {
        try client.subscribe(topics.allReadings, qos: 1)
        try client.subscribe(topics.bundle, qos: 1)
        try client.subscribe(topics.status, qos: 1)
        try client.start()
        try await client.waitUntilConnected(timeout: .seconds(10))
    }

    /// Consumes messages until cancelled.
    func collect() async {
        for await message in client.messages {
            if message.topic == topics.status {
                statusHistory.withLock { $0.append(String(decoding: message.payload, as: UTF8.self)) }
                continue
            }
            guard message.topic == topics.bundle else {
                await accept(message.payload, topic: message.topic)
                continue
            }
            do {
                for envelope in try ReadingBundle(decoding: message.payload).envelopes { await accept(envelope, topic: message.topic) }
            } catch {
                state.withLock { $0.refused.append("bundle: \(error)") }
            }
        }
    }

    /// One envelope, from its meter's topic or from the gateway's bundle topic.
    private func accept(_ envelope: [UInt8], topic: String) async {
        do {
            let verified = try verifier.verify(envelope, publicKey: publicKey)
            let meterID = verified.record.meterID
            let expectedTopics = [topics.reading(meterID: meterID), topics.bundle]
            let contiguous: UInt64? = state.withLock { state in
                guard expectedTopics.contains(topic), verified.record.gatewayID == topics.gatewayID else {
                    state.refused.append("record of \(meterID) on \(topic)")
                    return nil
                }
                state.arrivals.append((meterID, verified.record.sequence))
                if let known = state.records[meterID]?[verified.record.sequence] {
                    if known.bytes == verified.bytes { state.duplicates += 1 } else { state.conflicts.append("\(meterID)#\(verified.record.sequence)") }
                } else {
                    state.records[meterID, default: [:]][verified.record.sequence] = Received(bytes: verified.bytes, record: verified.record, topic: topic)
                }
                var highest: UInt64 = 0
                while state.records[meterID]?[highest + 1] != nil { highest += 1 }
                return highest
            }
            if confirm, let contiguous, contiguous > 0 {
                let payload = Confirmation(confirmed: [meterID: contiguous]).encoded()
                try? await client.publish(topics.confirm, payload: payload, qos: 1)
            }
        } catch {
            state.withLock { $0.refused.append("\(error)") }
        }
    }

    let statusHistory = Mutex<[String]>([])

    var snapshot: State { state.withLock { $0 } }

    /// Waits (bounded) until `condition` holds for the collected state.
    func waitUntil(timeout: Duration = .seconds(30), _ what: String, _ condition: (State) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(snapshot) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let current = snapshot
        throw TestSupportError("timed out waiting for \(what): \(current.records.mapValues { $0.count }) refused \(current.refused.prefix(3))")
    }

    /// For every meter: sequences 1…max all present, each record's previous hash is the hash of
    /// the record before it, and no number was used for two different records.
    func checkChains() -> [String] {
        let current = snapshot
        var problems = current.conflicts.map { "reused sequence \($0)" } + current.refused.map { "refused: \($0)" }
        for (meterID, records) in current.records {
            let highest = records.keys.max() ?? 0
            for sequence in 1...max(highest, 1) {
                guard let received = records[sequence] else {
                    problems.append("\(meterID): sequence \(sequence) missing (highest \(highest))")
                    continue
                }
                let expected = sequence == 1 ? ReadingRecord.zeroHash : records[sequence - 1].map { ReadingRecord.hash(of: $0.bytes) }
                if let expected, received.record.previousHash != expected {
                    problems.append("\(meterID): sequence \(sequence) does not link to \(sequence - 1)")
                }
            }
        }
        return problems
    }
}

/// A simulated meter fleet, a key, and the agent's configuration file, in one temporary directory.
struct AgentFixture {
    let directory: TemporaryDirectory
    let gatewayID: String
    let configPath: String
    let keyPath: String
    let publicKey: Curve25519.Signing.PublicKey

    /// `meters`: (profile, TCP port of its simulator). `brokerYAML` is the `broker:` block's body.
    /// `recordsPerMessage`: the outbox setting, nil for its default (bundles).
    init(
        gatewayID: String = "gw-test", meters: [(profile: String, port: Int)], brokerYAML: String, intervalSeconds: String = "0.2", metricsYAML: String? = nil,
        recordsPerMessage: Int? = nil
    ) throws {
        directory = try TemporaryDirectory(prefix: "agent")
        self.gatewayID = gatewayID
        let state = directory.path("state")
        keyPath = "\(state)/gateway.key"
        publicKey = try KeyFile.generate(at: keyPath).publicKey
        var yaml = """
            gateway: \(gatewayID)
            stateDirectory: \(state)
            profiles: \(TestEnvironment.profilesDirectory.path)
            broker:
            \(brokerYAML.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
            outbox:
              republishAfterSeconds: 5\(recordsPerMessage.map { "\n  recordsPerMessage: \($0)" } ?? "")
            metrics:
            \(metricsYAML ?? "  logIntervalSeconds: 1\n  textfile: \(directory.path("metrics.prom"))")
            buses:

            """
        for (index, meter) in meters.enumerated() {
            yaml += """
                  - name: bus\(index)
                    endpoint: tcp://127.0.0.1:\(meter.port)
                    timeoutMs: 300
                    meters:
                      - name: meter\(index)
                        unit: 1
                        profile: \(meter.profile)
                        role: \(index == 0 ? "grid" : "pv")
                        intervalSeconds: \(intervalSeconds)

                """
        }
        configPath = try directory.write("agent.yaml", yaml)
    }

    var outboxPath: String { directory.path("state/outbox.sqlite") }
}
