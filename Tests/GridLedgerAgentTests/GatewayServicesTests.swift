import AgentOutbox
import Foundation
import GridLedgerRecords
import GridLedgerTestSupport
import Testing

@testable import GridLedgerAgent

@Suite struct GatewayKeyTests {
    @Test func keygenWritesMode0600AndRefusesToOverwrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("state/gateway.key")
        let key = try KeyFile.generate(at: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try KeyFile.load(from: path).publicKey.rawRepresentation == key.publicKey.rawRepresentation)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: KeyFile.Failure.self) { try KeyFile.generate(at: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func aKeyReadableByOthersOrMalformedIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("gateway.key")
        try KeyFile.generate(at: path)
        chmod(path, 0o644)
        let error = #expect(throws: KeyFile.Failure.self) { try KeyFile.load(from: path) }
        #expect(error?.description.contains("chmod 600") == true)
        let junk = directory.path("junk.key")
        try "# comment\nnot base64!\n".write(toFile: junk, atomically: true, encoding: .utf8)
        chmod(junk, 0o600)
        #expect(throws: KeyFile.Failure.self) { try KeyFile.load(from: junk) }
        #expect(throws: KeyFile.Failure.self) { try KeyFile.load(from: directory.path("missing.key")) }
    }
}

@Suite struct SystemdNotifierTests {
    /// A real datagram socket stands in for systemd: the notifier's messages must arrive there.
    @Test func notificationsReachTheSocket() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.notify("READY=1"))
        #expect(notifier.notify("WATCHDOG=1"))
        var buffer = [UInt8](repeating: 0, count: 256)
        var received: [String] = []
        for _ in 0..<2 {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 { received.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        #expect(received == ["READY=1", "WATCHDOG=1"])
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"]) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]) == nil)
    }
}

@Suite struct MetricsTextTests {
    @Test func prometheusTextHasHelpTypeAndLabelledSamples() {
        let metrics = AgentMetrics()
        metrics.update { counters in
            counters.recordsSigned = 12
            counters.outboxDepth = 3
            counters.meters["bus:1"] = .init(name: "grid", polls: 5, failed: 1, modbusErrors: 2)
        }
        let text = metrics.prometheusText(gatewayID: "gw")
        #expect(text.contains("# TYPE gridledger_agent_records_signed_total counter\ngridledger_agent_records_signed_total{gateway=\"gw\"} 12\n"))
        #expect(text.contains("gridledger_agent_outbox_depth{gateway=\"gw\"} 3\n"))
        #expect(text.contains("gridledger_agent_meter_modbus_errors_total{gateway=\"gw\",meter=\"grid\",bus_unit=\"bus:1\"} 2\n"))
    }
}

@Suite struct LostStateTests {
    /// A first start is fine; an outbox that vanished after chains began is refused, because
    /// restarting the chains would reuse sequence numbers.
    @Test func aVanishedOutboxIsRefusedButAFirstStartIsNot() throws {
        let directory = try TemporaryDirectory()
        let configuration = AgentConfiguration(
            gatewayID: "gw", stateDirectory: directory.url.path, broker: BrokerConfiguration(host: "127.0.0.1"), buses: [])
        try guardAgainstLostChainState(configuration)
        #expect(FileManager.default.createFile(atPath: configuration.outboxPath, contents: Data()))
        try guardAgainstLostChainState(configuration)  // outbox present: a normal restart
        try FileManager.default.removeItem(atPath: configuration.outboxPath)
        let error = #expect(throws: AgentStartupError.self) { try guardAgainstLostChainState(configuration) }
        #expect(error?.description.contains("reuse sequence numbers") == true)
        try FileManager.default.removeItem(atPath: directory.path("chains.started"))
        try guardAgainstLostChainState(configuration)  // the operator chose new chains
    }
}

@Suite struct PublisherMessageTests {
    let topics = GatewayTopics(gatewayID: "gw-1")

    func record(_ id: Int64, meter: Int, bytes: Int = 421) -> OutboxRecord {
        OutboxRecord(id: id, meterID: "gw-1:b:\(meter)", sequence: UInt64(id), captureMillis: id, payload: [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: bytes))
    }

    @Test func recordsGoOutAsBundlesInOutboxOrder() throws {
        let due = (1...300).map { record(Int64($0), meter: $0 % 8) }
        let messages = PublisherService.messages(due, topics: topics, recordsPerMessage: 64)
        #expect(messages.map(\.records.count) == [64, 64, 64, 64, 44])
        #expect(messages.allSatisfy { $0.topic == topics.bundle })
        #expect(messages.flatMap(\.records) == due)
        for message in messages {
            #expect(try ReadingBundle(decoding: message.payload).envelopes == message.records.map(\.payload))
        }
    }

    @Test func aBundleStaysWithinTheSizeBound() throws {
        // 2 000-byte envelopes: 32 fit in 65 536 bytes (3 + 32 × 2 002 = 64 067), not 33.
        let due = (1...100).map { record(Int64($0), meter: 1, bytes: 2000) }
        let messages = PublisherService.messages(due, topics: topics, recordsPerMessage: 256)
        #expect(messages.map(\.records.count) == [32, 32, 32, 4])
        #expect(messages.allSatisfy { $0.payload.count <= ReadingBundle.maximumSize })
        #expect(messages.flatMap(\.records) == due)
    }

    @Test func aLoneRecordIsABundleTooSoAGatewayUsesOneTopic() throws {
        let messages = PublisherService.messages([record(7, meter: 3)], topics: topics, recordsPerMessage: 64)
        #expect(messages.count == 1)
        #expect(messages[0].topic == topics.bundle)
        #expect(try ReadingBundle(decoding: messages[0].payload).envelopes == [record(7, meter: 3).payload])
    }

    @Test func oneRecordPerMessageUsesTheMetersTopic() {
        let due = (1...5).map { record(Int64($0), meter: $0) }
        let messages = PublisherService.messages(due, topics: topics, recordsPerMessage: 1)
        #expect(messages.map(\.topic) == due.map { topics.reading(meterID: $0.meterID) })
        #expect(messages.map(\.payload) == due.map(\.payload))
    }

    @Test func aPayloadNoBundleHoldsGoesAloneInItsPlace() {
        let odd = record(3, meter: 2, bytes: RecordEnvelope.maximumSize + 1)
        let due = [record(1, meter: 1), record(2, meter: 1), odd, record(4, meter: 1)]
        let messages = PublisherService.messages(due, topics: topics, recordsPerMessage: 64)
        #expect(messages.map(\.records.count) == [2, 1, 1])
        #expect(messages.map(\.topic) == [topics.bundle, topics.reading(meterID: odd.meterID), topics.bundle])
        #expect(messages.flatMap(\.records) == due)
    }
}
