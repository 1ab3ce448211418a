import GridLedgerTestSupport
import MQTTTransport
import Testing

@Suite("MQTT over TLS against mosquitto", .serialized)
struct TLSTests {
    let certificates: TestCertificates

    init() async throws {
        certificates = try await TestCertificates.generate()
    }

    private func clientTLS(caFile: String? = nil, withCertificate: Bool = true) -> MQTTConfiguration.TLS {
        MQTTConfiguration.TLS(
            caFile: caFile ?? certificates.caFile,
            certificateFile: withCertificate ? certificates.clientCertificate : nil,
            keyFile: withCertificate ? certificates.clientKey : nil)
    }

    @Test func connectsWithTheCAAndAClientCertificateAndVerifiesTheHostname() async throws {
        try await withBroker(tls: certificates, requireClientCertificate: true) { broker in
            // 127.0.0.1 is verified against the server certificate's IP subjectAltName.
            let client = try makeClient("tls", port: broker.port) { $0.tls = clientTLS() }
            defer { client.stop() }
            let inbox = Inbox(client)
            try client.subscribe("gridledger/tls/echo")
            try client.start()
            try await client.waitUntilSubscribed(timeout: .seconds(5))
            try await client.publish("gridledger/tls/echo", payload: [0, 1, 2, 3])
            #expect(try await inbox.first { $0.topic == "gridledger/tls/echo" }.payload == [0, 1, 2, 3])
        }
    }

    @Test func neverConnectsWithTheWrongCA() async throws {
        try await withBroker(tls: certificates, requireClientCertificate: true) { broker in
            let client = try makeClient("wrong-ca", port: broker.port) { $0.tls = clientTLS(caFile: certificates.otherCAFile) }
            defer { client.stop() }
            let events = EventRecorder(client)
            try client.start()
            let reason = try await events.firstFailure()
            #expect(!client.isConnected)
            #expect(client.statistics.connects == 0)
            #expect(reason.contains("certificate verify failed"), "\(reason)")
        }
    }

    @Test func refusedWithoutAClientCertificateWhenOneIsRequired() async throws {
        try await withBroker(tls: certificates, requireClientCertificate: true) { broker in
            let client = try makeClient("no-cert", port: broker.port) { $0.tls = clientTLS(withCertificate: false) }
            defer { client.stop() }
            let events = EventRecorder(client)
            try client.start()
            _ = try await events.firstFailure()
            #expect(!client.isConnected)
            #expect(client.statistics.connects == 0)
        }
    }

    /// libmosquitto 2.0.11 ends its network thread when a TLS connection is reset; the client
    /// notices and starts a new one, so TLS clients survive broker crashes and restarts.
    @Test func reconnectsOverTLSAfterBrokerRestartsAndCrashes() async throws {
        try await withBroker(tls: certificates, requireClientCertificate: true) { broker in
            let log = RecordedLog()
            let client = try makeClient("tls-outage", port: broker.port, log: log) { $0.tls = clientTLS() }
            defer { client.stop() }
            try client.start()
            try await client.waitUntilConnected(timeout: .seconds(5))
            try await broker.restart()
            try await eventually(timeout: .seconds(10), "reconnected after a restart") { client.statistics.connects == 2 }
            await broker.crash()
            try await broker.restart()
            do {
                try await eventually(timeout: .seconds(10), "reconnected after a crash") { client.statistics.connects == 3 }
            } catch {
                print("client log:\n\(log.text)")
                throw error
            }
            try await client.publish("gridledger/tls/after-crash", payload: [1])
            #expect(log.text.contains("network thread ended"))
        }
    }
}

@Suite("MQTT credentials against mosquitto", .serialized)
struct CredentialTests {
    static let password = "s3cret-Pa55word"

    @Test func goodPasswordConnectsAndBadOneIsRefused() async throws {
        try await withBroker(passwordFile: ["gateway": Self.password]) { broker in
            let log = RecordedLog()
            let good = try makeClient("good", port: broker.port, log: log) {
                $0.username = "gateway"
                $0.password = Self.password
            }
            defer { good.stop() }
            try good.start()
            try await good.waitUntilConnected(timeout: .seconds(5))

            let bad = try makeClient("bad", port: broker.port, log: log) {
                $0.username = "gateway"
                $0.password = "wrong-Pa55word"
            }
            defer { bad.stop() }
            let events = EventRecorder(bad)
            try bad.start()
            let reason = try await events.firstFailure()
            #expect(reason.contains("not authorised"), "\(reason)")
            #expect(!bad.isConnected)
            #expect(bad.statistics.connects == 0)

            let anonymous = try makeClient("anonymous", port: broker.port, log: log)
            defer { anonymous.stop() }
            let anonymousEvents = EventRecorder(anonymous)
            try anonymous.start()
            _ = try await anonymousEvents.firstFailure()
            #expect(anonymous.statistics.connects == 0)

            good.stop()
            bad.stop()
            #expect(log.text.contains("MQTT connected"))
            #expect(log.text.contains("mqtt.broker=127.0.0.1:\(broker.port)"))
            #expect(!log.text.contains(Self.password))
            #expect(!log.text.contains("wrong-Pa55word"))
            #expect(!"\(good.configuration)".contains(Self.password))
            #expect(!String(reflecting: good.configuration).contains(Self.password))
            var dumped = ""
            dump(good.configuration, to: &dumped)
            #expect(!dumped.contains(Self.password))
        }
    }
}
