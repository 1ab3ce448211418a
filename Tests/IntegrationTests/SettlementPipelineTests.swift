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
import Testing

/// Billing contracts through the real pipeline: a contract deployed with the shipped
/// `gridledger contract deploy`, signed readings over mosquitto, the aggregator settling every
/// interval into its blocks (and resuming after a restart), `gridledger verify` re-deriving every
/// settlement, and `gridledger invoice` billing the members to the cent.
extension Integration.AggregatorPipelineTests {
    /// Three households of the example: A (member-0) exports, B and C import. Readings are
    /// captured in the past (as a gateway's outbox delivers them after an outage), so every
    /// interval is due at once and no test waits for a quarter hour.
    struct Community {
        static let minute: Int64 = 60_000
        let keys = (0..<3).map { _ in Curve25519.Signing.PrivateKey() }
        /// A full hour at least two hours ago: the contract's validFrom and the first boundary.
        let base: Int64 = {
            let hour: Int64 = 3_600_000
            return (Int64(Date().timeIntervalSince1970 * 1000) - 2 * hour) / hour * hour
        }()
        var previous: [[UInt8]] = Array(repeating: ReadingRecord.zeroHash, count: 3)
        var sequence: [UInt64] = [0, 0, 0]

        func meterID(_ member: Int) -> String { "gw-\(member):bus0:1:\(1000 + member * 10)" }

        /// Registers: at step k (5 min each), in Wh. Interval 0 (k 0…3): A exports 4 kWh, B and C
        /// import 3 kWh each. Interval 2 (k 6…9): A exports 1 kWh, B imports 1 kWh.
        static func counters(member: Int, step k: Int64) -> (importWh: Int64, exportWh: Int64) {
            let first = min(k, 3)
            let third = max(0, min(k, 9) - 6)
            switch member {
            case 0: return (50_000, 20_000 + first * 4000 / 3 + third * 1000 / 3)
            case 1: return (70_000 + first * 1000 + third * 1000 / 3, 0)
            default: return (90_000 + first * 1000, 0)
            }
        }

        mutating func envelope(member: Int, step k: Int64) throws -> [UInt8] {
            let (importWh, exportWh) = Self.counters(member: member, step: k)
            sequence[member] += 1
            let bytes = try ReadingRecord(
                gatewayID: "gw-\(member)", meterID: meterID(member), sequence: sequence[member], captureTimeMillis: base + k * 5 * Self.minute,
                flags: [.clockSynchronized], profileID: "eastron-sdm630", status: .complete, previousHash: previous[member],
                values: [
                    Measurement(.energyActiveImportTotal, ScaledValue(importWh, exponent: 0)),
                    Measurement(.energyActiveExportTotal, ScaledValue(exportWh, exponent: 0)),
                ]).encoded()
            previous[member] = ReadingRecord.hash(of: bytes)
            return try BatchSigner(gatewayID: "gw-\(member)", key: keys[member])
                .sign(records: [bytes], batchSequence: sequence[member], createdMillis: base).first!.encoded()
        }

        func contract(version: Int = 1) -> String {
            let validFrom = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(base / 1000)))
            return """
                contract: gridledger-contract/v1
                id: e2e
                version: \(version)
                validFrom: \(validFrom)
                currency: EUR
                minorUnitDigits: 2
                timeZone: Europe/Vienna
                settlementIntervalMinutes: 15
                billingPeriod: month
                members: all
                mechanism:
                  kind: mid-market-rate
                prices:
                  retail:
                    default: "0.30"
                  feedIn: "0.08"
                data:
                  estimateAfterMinutes: 10080
                """
        }

        /// The billing period (in Vienna) that holds `base`.
        var periodID: String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Europe/Vienna")!
            let parts = calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: TimeInterval(base / 1000)))
            return String(format: "%04d-%02d", parts.year!, parts.month!)
        }
    }

    @Test func theAggregatorSettlesContractsThatVerifyAndInvoice() async throws {
        let broker = try await MosquittoBroker.start()
        let agents = try (0..<3).map { try AgentFixture(gatewayID: "gw-\($0)", meters: [], brokerYAML: Self.brokerYAML(broker)) }
        let fixture = try AggregatorFixture(broker: broker, gateways: agents, metersPerGateway: 1)
        var community = Community()
        let database = fixture.configuration.databaseFile
        let contractFile = try fixture.directory.write("contract.yaml", community.contract())
        let gridledger = try TestEnvironment.executable("gridledger")
        func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(gridledger, arguments, timeout: .seconds(60))
        }

        func startAggregator() throws -> (Aggregator, Task<Void, any Error>) {
            let aggregator = try buildAggregator(configuration: fixture.configuration, logger: Logger(label: "test.aggregator"), shutdownSignals: [])
            return (aggregator, Task { try await aggregator.run() })
        }
        var (aggregator, aggregating) = try startAggregator()
        try await waitUntil("the registry block") { aggregator.metrics.blockHeight >= 0 }
        let store = try SQLiteLedgerStore(path: database, access: .existing)
        for (member, key) in community.keys.enumerated() {
            try store.enqueueRegistryEntry(RegistryEntry(
                change: .addGatewayKey(gatewayID: "gw-\(member)", publicKey: Array(key.publicKey.rawRepresentation), validFromMillis: 1),
                recordedMillis: 1, author: "test"))
        }
        let deployed = try await run(["contract", "deploy", contractFile, "--db", database, "--wait", "30"])
        #expect(deployed.status == 0 && deployed.stdout.contains("deployed in block"), "\(deployed.stdout)\(deployed.stderr)")
        let again = try await run(["contract", "deploy", contractFile, "--db", database])
        #expect(again.status != 0 && again.stderr.contains("already deployed"), "\(again.stderr)")

        var configuration = MQTTConfiguration(clientID: "settlement-e2e", host: "127.0.0.1", port: broker.port)
        configuration.keepAliveSeconds = 10
        let client = try MQTTClient(configuration: configuration, logger: Logger(label: "test.client"))
        try client.start()
        try await client.waitUntilConnected(timeout: .seconds(10))
        func publish(steps: ClosedRange<Int64>) async throws {
            for k in steps {
                for member in 0..<3 {
                    let topic = GatewayTopics(gatewayID: "gw-\(member)").reading(meterID: community.meterID(member))
                    try await client.publish(topic, payload: try community.envelope(member: member, step: k), qos: 1)
                }
            }
        }
        func settlements(upTo steps: Int64) throws -> Int {
            try store.settlementPayloads(fromMillis: community.base, toMillis: community.base + steps * 5 * Community.minute).count
        }

        // An hour of readings: four quarter hours settle, the fifth waits for its end boundary.
        try await publish(steps: 0...12)
        try await waitUntil("four settled intervals") { (try? settlements(upTo: 12)) == 4 }
        await aggregator.group.triggerGracefulShutdown()
        try await aggregating.value

        // A restart resumes the contract from the chain and settles the next interval.
        (aggregator, aggregating) = try startAggregator()
        try await publish(steps: 13...15)
        try await waitUntil("the fifth interval after a restart") { (try? settlements(upTo: 15)) == 5 }
        client.stop()
        await aggregator.group.triggerGracefulShutdown()
        try await aggregating.value
        #expect(aggregator.metrics.refusalCounts.values.reduce(0, +) == 0, "\(aggregator.metrics.refusalCounts)")

        let verify = try await run(["verify", "--db", database, "--aggregator-key", Hex.encode(fixture.publicKey), "--json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("\"valid\":true") && verify.stdout.contains("\"settlements\":5") && verify.stdout.contains("\"contracts\":1"),
                "\(verify.stdout)")

        // Invoices to the cent: interval 0 as in the issue (B and C pay 0.68, A receives 0.76), and
        // in interval 2 supply meets demand (1 kWh at p_mid = 0.19).
        let expected: [(member: String, total: String, fromCommunity: String, baseline: String, savings: String)] = [
            ("member-0", "-0.95", "0.000", "-0.40", "0.55"),
            ("member-1", "0.87", "3.000", "1.20", "0.33"),
            ("member-2", "0.68", "2.000", "0.90", "0.22"),
        ]
        for item in expected {
            let invoice = try await run(["invoice", "--db", database, "--member", item.member, "--period", community.periodID, "--format", "json"])
            #expect(invoice.status == 0, "\(invoice.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(invoice.stdout.utf8)) as? [String: Any] ?? [:]
            func decimal(_ key: String) -> String? { (object[key] as? [String: Any])?["decimal"] as? String }
            #expect(decimal("total") == item.total, "\(item.member): \(invoice.stdout)")
            #expect(decimal("baselineTotal") == item.baseline && decimal("savings") == item.savings, "\(item.member): \(invoice.stdout)")
            #expect(((object["energy"] as? [String: Any])?["fromCommunity"] as? [String: Any])?["kWh"] as? String == item.fromCommunity)
            #expect(object["provisional"] as? Bool == true, "the rest of the month is not settled yet")
        }
        let csv = try await run(["invoice", "--db", database, "--member", "member-0", "--period", community.periodID, "--format", "csv"])
        #expect(csv.stdout.split(separator: "\r\n").contains("total,,,,-0.95,EUR"), "\(csv.stdout)")
        let unknown = try await run(["invoice", "--db", database, "--member", "nobody", "--period", community.periodID])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown member 'nobody'"), "\(unknown.stderr)")
        await broker.stop()
    }
}
