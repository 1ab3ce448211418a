import GridLedgerTestSupport
import Logging
import MQTTTransport
import Testing

@Suite("MQTT configuration and argument validation")
struct ConfigurationTests {
    private func refusal(_ adjust: (inout MQTTConfiguration) -> Void) -> String? {
        var configuration = MQTTConfiguration(clientID: "gw")
        adjust(&configuration)
        do {
            _ = try MQTTClient(configuration: configuration, logger: RecordedLog().logger)
            return nil
        } catch {
            guard case .invalidConfiguration(let message) = error else { return "unexpected: \(error)" }
            return message
        }
    }

    private func expectRefusal(
        containing expected: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ adjust: (inout MQTTConfiguration) -> Void
    ) {
        let message = refusal(adjust)
        #expect(message?.contains(expected) == true, "\(message ?? "accepted")", sourceLocation: sourceLocation)
    }

    private func expectAccepted(sourceLocation: SourceLocation = #_sourceLocation, _ adjust: (inout MQTTConfiguration) -> Void) {
        let message = refusal(adjust)
        #expect(message == nil, sourceLocation: sourceLocation)
    }

    @Test func defaults() {
        let configuration = MQTTConfiguration(clientID: "gw")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 1883)
        #expect(configuration.keepAliveSeconds == 30)
        #expect(configuration.reconnectMinimumSeconds == 1)
        #expect(configuration.reconnectMaximumSeconds == 30)
        #expect(configuration.maximumInFlight == 100)
        #expect(configuration.incomingBufferLimit == 1024)
        #expect(configuration.tls == nil)
        #expect(MQTTConfiguration.TLS(caFile: "ca.pem").verifyHostname)
        expectAccepted { _ in }
    }

    @Test func tlsFilesAreChecked() throws {
        let directory = try TemporaryDirectory(prefix: "mqtt-config")
        let file = try directory.write("cert.pem", "not really a certificate")
        expectRefusal(containing: "TLS CA file /nonexistent/ca.pem cannot be read") { $0.tls = .init(caFile: "/nonexistent/ca.pem") }
        expectRefusal(containing: "is not a regular file") { $0.tls = .init(caFile: directory.url.path) }
        expectRefusal(containing: "keyFile \(file) is given without a client certificateFile") { $0.tls = .init(caFile: file, keyFile: file) }
        expectRefusal(containing: "without its keyFile") { $0.tls = .init(caFile: file, certificateFile: file) }
        expectRefusal(containing: "TLS client key /nonexistent/key.pem") { $0.tls = .init(caFile: file, certificateFile: file, keyFile: "/nonexistent/key.pem") }
        expectAccepted { $0.tls = .init(caFile: file, certificateFile: file, keyFile: file) }
    }

    @Test func fieldsAreChecked() {
        expectRefusal(containing: "clientID is empty") { $0.clientID = "" }
        expectRefusal(containing: "host is empty") { $0.host = "" }
        expectRefusal(containing: "port 0 is not in 1...65535") { $0.port = 0 }
        expectRefusal(containing: "port 65536 is not in 1...65535") { $0.port = 65536 }
        expectRefusal(containing: "keepAliveSeconds 4 is not in 5...65535") { $0.keepAliveSeconds = 4 }
        expectRefusal(containing: "a password needs a username") { $0.password = "x" }
        expectRefusal(containing: "reconnectMinimumSeconds 0") { $0.reconnectMinimumSeconds = 0 }
        expectRefusal(containing: "reconnectMaximumSeconds 5") { $0.reconnectMinimumSeconds = 10; $0.reconnectMaximumSeconds = 5 }
        expectRefusal(containing: "maximumInFlight 0") { $0.maximumInFlight = 0 }
        expectRefusal(containing: "incomingBufferLimit 0") { $0.incomingBufferLimit = 0 }
        expectRefusal(containing: "will topic 'gw/+/status'") { $0.will = MQTTMessage(topic: "gw/+/status", text: "offline") }
        expectRefusal(containing: "birth qos 2") { $0.birth = MQTTMessage(topic: "gw/status", text: "online", qos: 2) }
    }

    @Test func publishAndSubscribeArgumentsAreChecked() async throws {
        let client = try MQTTClient(configuration: MQTTConfiguration(clientID: "gw"), logger: RecordedLog().logger)
        await #expect(throws: MQTTError.invalidArgument("topic 'a/+/b': wildcards (+, #) are not allowed in a topic name")) {
            try await client.publish("a/+/b", payload: [])
        }
        await #expect(throws: MQTTError.invalidArgument("qos 2 is not 0 or 1")) { try await client.publish("a/b", payload: [], qos: 2) }
        #expect(throws: MQTTError.invalidArgument("'a/#/b' is not a valid topic filter")) { try client.subscribe("a/#/b") }
        #expect(throws: MQTTError.invalidArgument("qos 3 is not 0 or 1")) { try client.subscribe("a/#", qos: 3) }
    }

    @Test func descriptionsNeverShowThePassword() {
        let configuration = MQTTConfiguration(clientID: "gw", username: "gateway", password: "hunter2-secret")
        #expect("\(configuration)".contains("password: <redacted>"))
        #expect(!"\(configuration)".contains("hunter2-secret"))
        #expect(!String(reflecting: configuration).contains("hunter2-secret"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("hunter2-secret"))
    }

    @Test func errorsDescribeThemselves() {
        #expect("\(MQTTError.notConnected)" == "not connected to the MQTT broker")
        #expect("\(MQTTError.invalidConfiguration("port 0 is not in 1...65535"))" == "invalid MQTT configuration: port 0 is not in 1...65535")
        #expect("\(MQTTError.library(code: 14, message: "Connection refused"))" == "libmosquitto error 14: Connection refused")
    }

    @Test func aStoppedClientRefusesWork() async throws {
        let client = try MQTTClient(configuration: MQTTConfiguration(clientID: "idle", port: 1), logger: RecordedLog().logger)
        await #expect(throws: MQTTError.notConnected) { try await client.publish("a/b", payload: [1]) }
        client.stop()
        client.stop()
        #expect(throws: MQTTError.stopped) { try client.start() }
        #expect(throws: MQTTError.stopped) { try client.subscribe("a/#") }
        await #expect(throws: MQTTError.notConnected) { try await client.publish("a/b", payload: [1]) }
        var iterator = client.messages.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        #expect(client.statistics.publishFailures == 2)
        await #expect(throws: MQTTError.notConnected) { try await client.waitUntilConnected(timeout: .milliseconds(20)) }
    }
}
