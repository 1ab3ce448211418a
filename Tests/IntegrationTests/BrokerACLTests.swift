import Foundation
import GridLedgerTestSupport
import Logging
import MQTTTransport
import Synchronization
import Testing

/// The shipped broker set-up (deploy/mosquitto): mosquitto runs the shipped mosquitto.conf (only
/// its listener, file paths, persistence and pid file replaced for the test, plus debug logging)
/// with the shipped ACL file byte for byte and a password file made by add-gateway.sh, and real
/// clients prove what a gateway's credential can and cannot do.
///
/// Absence is shown with markers, never with sleeps: mosquitto acknowledges a denied QoS 1 publish
/// (PUBACK) and drops it, so the test publishes the forbidden message, waits for its PUBACK, then
/// publishes a permitted marker that the same subscriber must receive. The broker queues messages
/// for a subscriber in the order it processes them, so once the marker has arrived, the forbidden
/// message would have arrived before it.
extension Integration {
    @Suite("Broker ACL", .serialized)
    struct BrokerACLTests {
        /// `deploy/mosquitto` of this checkout (this file is `Tests/IntegrationTests/BrokerACLTests.swift`).
        static let deployDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/mosquitto")
        static var addGatewayScript: String { deployDirectory.appendingPathComponent("add-gateway.sh").path }

        // MARK: add-gateway.sh

        @Test func addGatewayScriptRefusesUnsafeIdsAndCreatesAPrivatePasswordFile() async throws {
            let directory = try TemporaryDirectory(prefix: "add-gateway")
            let file = directory.path("passwd")

            let help = try await Self.runScript(["--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Usage: add-gateway.sh PASSWORD_FILE GATEWAY_ID"))
            let missingArgument = try await Self.runScript([file])
            #expect(missingArgument.status == 2 && missingArgument.stdout.isEmpty)

            // Ids that would reach other topics through the ACL's %u, that mosquitto's password
            // file cannot hold, or that would get the aggregator's rights.
            for id in ["gw/b", "gw-a/+", "+", "#", "gw a", "", "gw:1", String(repeating: "g", count: 65), "aggregator"] {
                let result = try await Self.runScript([file, id])
                #expect(result.status == 1, "'\(id)' accepted: \(result.stdout) \(result.stderr)")
                #expect(result.stdout.isEmpty, "'\(id)'")
            }
            #expect(!FileManager.default.fileExists(atPath: file), "a refused id created the password file")

            let added = try await Self.runScript([file, "gw-a"])
            #expect(added.status == 0, "\(added.stderr)")
            let password = added.stdout.trimmingCharacters(in: .newlines)
            // 24 random bytes in base64, printed once and nothing else on stdout.
            #expect(password.count == 32 && Data(base64Encoded: password)?.count == 24, "\(added.stdout)")
            #expect(added.stderr.contains("passwordFile"))
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            if getuid() == 0, getpwnam("mosquitto") != nil {
                // Readable by the broker after it drops root, by nobody else.
                #expect(attributes[.ownerAccountName] as? String == "mosquitto")
            }
            let contents = try String(contentsOfFile: file, encoding: .utf8)
            #expect(contents.hasPrefix("gw-a:$"))
            #expect(!contents.contains(password), "the password file must hold a hash, not the password")

            // An existing gateway keeps its password; a second one is added to the same file.
            let again = try await Self.runScript([file, "gw-a"])
            #expect(again.status == 1 && again.stdout.isEmpty)
            #expect(try String(contentsOfFile: file, encoding: .utf8) == contents)
            let second = try await Self.runScript([file, "gw.b_2-X"])
            #expect(second.status == 0, "\(second.stderr)")
            let users = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { $0.prefix { $0 != ":" } }
            #expect(users == ["gw-a", "gw.b_2-X"])
            #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }

        // MARK: the ACL

        @Test func aGatewayPublishesReadingsAndStatusOnlyUnderItsOwnID() async throws {
            try await ShippedBroker.run(gateways: ["gw-a", "gw-b"]) { setup in
                let aggregator = try await setup.connect("aggregator", subscribe: [
                    "gridledger/v1/+/+/reading", "gridledger/v1/+/readings", "gridledger/v1/+/status",
                ])
                let gatewayA = try await setup.connect("gw-a")

                // Forged: a reading, a bundle and a retained status in gw-b's name.
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-b/m1/reading", "forged reading")
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-b/readings", "forged bundle")
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-b/status", "offline", retain: true)
                // Permitted, on the same connection: the markers.
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-a/m1/reading", "own reading")
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-a/readings", "own bundle")
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-a/status", "online", retain: true)

                try await aggregator.inbox.waitFor("gridledger/v1/gw-a/m1/reading", "own reading")
                try await aggregator.inbox.waitFor("gridledger/v1/gw-a/readings", "own bundle")
                try await aggregator.inbox.waitFor("gridledger/v1/gw-a/status", "online")
                #expect(aggregator.inbox.topics == ["gridledger/v1/gw-a/m1/reading", "gridledger/v1/gw-a/readings", "gridledger/v1/gw-a/status"])
                try await setup.waitForDenial(by: "gw-a", topic: "gridledger/v1/gw-b/m1/reading")
                try await setup.waitForDenial(by: "gw-a", topic: "gridledger/v1/gw-b/readings")
                try await setup.waitForDenial(by: "gw-a", topic: "gridledger/v1/gw-b/status")

                // The patterns apply to `aggregator` too; the ACL's deny line takes those gateway
                // rights away again (only the log can show it: nobody may read these topics).
                try await Self.publish(aggregator.client, "gridledger/v1/aggregator/m1/reading", "forged reading")
                try await Self.publish(aggregator.client, "gridledger/v1/aggregator/status", "online", retain: true)
                try await setup.waitForDenial(by: "aggregator", topic: "gridledger/v1/aggregator/m1/reading")
                try await setup.waitForDenial(by: "aggregator", topic: "gridledger/v1/aggregator/status")

                // Nothing was retained in gw-b's name: a new subscriber gets gw-a's retained status
                // only (retained messages are queued when the subscription is made, so before a
                // message published after its SUBACK). One connection per user name: stop the first.
                aggregator.client.stop()
                let late = try await setup.connect("aggregator", subscribe: ["gridledger/v1/+/status"])
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-a/status", "marker")
                try await late.inbox.waitFor("gridledger/v1/gw-a/status", "marker")
                #expect(late.inbox.topics == ["gridledger/v1/gw-a/status", "gridledger/v1/gw-a/status"])
                #expect(late.inbox.texts == ["online", "marker"])
            }
        }

        @Test func aGatewayReadsOnlyItsOwnConfirmationsAndNoReadings() async throws {
            try await ShippedBroker.run(gateways: ["gw-a", "gw-b"]) { setup in
                let aggregator = try await setup.connect("aggregator", subscribe: ["gridledger/v1/+/+/reading", "gridledger/v1/+/readings"])
                let gatewayB = try await setup.connect("gw-b", subscribe: ["gridledger/v1/gw-b/confirm"])
                // gw-a snoops on gw-b's confirmations and on everybody's readings; mosquitto accepts
                // every subscription and filters on delivery.
                let gatewayA = try await setup.connect("gw-a", subscribe: [
                    "gridledger/v1/gw-b/confirm", "gridledger/v1/+/+/reading", "gridledger/v1/+/readings", "gridledger/v1/gw-a/confirm",
                ])

                try await Self.publish(gatewayB.client, "gridledger/v1/gw-b/m1/reading", "reading of b")
                try await Self.publish(gatewayB.client, "gridledger/v1/gw-b/readings", "bundle of b")
                try await aggregator.inbox.waitFor("gridledger/v1/gw-b/m1/reading", "reading of b")
                try await aggregator.inbox.waitFor("gridledger/v1/gw-b/readings", "bundle of b")
                try await Self.publish(aggregator.client, "gridledger/v1/gw-b/confirm", #"{"confirmed":{"gw-b:bus0:1":7}}"#)
                try await Self.publish(aggregator.client, "gridledger/v1/gw-a/confirm", "marker for a")

                try await gatewayB.inbox.waitFor("gridledger/v1/gw-b/confirm", #"{"confirmed":{"gw-b:bus0:1":7}}"#)
                try await gatewayA.inbox.waitFor("gridledger/v1/gw-a/confirm", "marker for a")
                #expect(gatewayA.inbox.topics == ["gridledger/v1/gw-a/confirm"], "gw-a received \(gatewayA.inbox.all)")
                #expect(gatewayB.inbox.topics == ["gridledger/v1/gw-b/confirm"])
            }
        }

        @Test func noGatewayCanForgeAConfirmation() async throws {
            try await ShippedBroker.run(gateways: ["gw-a", "gw-b"]) { setup in
                let aggregator = try await setup.connect("aggregator")
                let gatewayA = try await setup.connect("gw-a", subscribe: ["gridledger/v1/gw-a/confirm"])
                let gatewayB = try await setup.connect("gw-b", subscribe: ["gridledger/v1/gw-b/confirm"])

                // A confirmation makes the agent delete records: gw-a must not send one, neither
                // to itself nor to gw-b.
                let forged = #"{"confirmed":{"gw-a:bus0:1":999999}}"#
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-a/confirm", forged)
                try await Self.publish(gatewayA.client, "gridledger/v1/gw-b/confirm", forged)
                try await Self.publish(aggregator.client, "gridledger/v1/gw-a/confirm", "marker for a")
                try await Self.publish(aggregator.client, "gridledger/v1/gw-b/confirm", "marker for b")

                try await gatewayA.inbox.waitFor("gridledger/v1/gw-a/confirm", "marker for a")
                try await gatewayB.inbox.waitFor("gridledger/v1/gw-b/confirm", "marker for b")
                #expect(gatewayA.inbox.texts == ["marker for a"], "gw-a received \(gatewayA.inbox.all)")
                #expect(gatewayB.inbox.texts == ["marker for b"], "gw-b received \(gatewayB.inbox.all)")
                try await setup.waitForDenial(by: "gw-a", topic: "gridledger/v1/gw-a/confirm")
                try await setup.waitForDenial(by: "gw-a", topic: "gridledger/v1/gw-b/confirm")
            }
        }

        @Test func aGatewayCannotTakeOverTheAggregatorsSession() async throws {
            try await ShippedBroker.run(gateways: ["gw-a", "gw-b"]) { setup in
                let aggregator = try await setup.connect("aggregator", clientID: "gridledger-aggregator", subscribe: ["gridledger/v1/+/+/reading"])
                // Same client id as the aggregator: without use_username_as_clientid the broker
                // would disconnect the aggregator and hand its session to gw-a.
                let impostor = try await setup.connect("gw-a", clientID: "gridledger-aggregator")
                let gatewayB = try await setup.connect("gw-b")
                try await Self.publish(gatewayB.client, "gridledger/v1/gw-b/m1/reading", "after the impostor")
                // A disconnect would have reached the aggregator before this reading.
                try await aggregator.inbox.waitFor("gridledger/v1/gw-b/m1/reading", "after the impostor")
                #expect(aggregator.client.statistics.disconnects == 0 && aggregator.client.isConnected)
                #expect(impostor.client.isConnected)
            }
        }

        @Test func wrongPasswordUnknownUserAndAnonymousAreRefused() async throws {
            try await ShippedBroker.run(gateways: ["gw-a", "gw-b"]) { setup in
                // The right credentials connect (the control).
                _ = try await setup.connect("gw-a")
                let attempts: [(what: String, user: String?, password: String?)] = [
                    ("wrong password", "gw-a", "not-the-password"),
                    ("another gateway's password", "gw-a", setup.passwords["gw-b"]),
                    ("unknown user", "gw-c", setup.passwords["gw-a"]),
                    ("anonymous", nil, nil),
                ]
                for attempt in attempts {
                    let client = try setup.client(attempt.user ?? "anonymous", user: attempt.user, password: attempt.password)
                    let events = client.connectionEvents()
                    try client.start()
                    let reason = try await Self.firstFailure(events, attempt.what)
                    #expect(reason.contains("not authorised"), "\(attempt.what): \(reason)")
                    #expect(!client.isConnected && client.statistics.connects == 0, "\(attempt.what) connected")
                    client.stop()
                }
            }
        }

        // MARK: - Support

        /// A broker from the shipped files, its clients, and the gateways' passwords.
        final class ShippedBroker: Sendable {
            let broker: MosquittoBroker.Deployment
            let certificates: TestCertificates
            let directory: TemporaryDirectory
            /// User name → password, for the gateways (from add-gateway.sh) and `aggregator`.
            let passwords: [String: String]
            private let clients = Mutex<[MQTTClient]>([])

            private init(broker: MosquittoBroker.Deployment, certificates: TestCertificates, directory: TemporaryDirectory, passwords: [String: String]) {
                self.broker = broker
                self.certificates = certificates
                self.directory = directory
                self.passwords = passwords
            }

            /// Starts a broker, runs `body`, and always stops every client and the broker; a
            /// thrown error carries the broker's log.
            static func run(gateways: [String], _ body: (ShippedBroker) async throws -> Void) async throws {
                let setup = try await start(gateways: gateways)
                do {
                    try await body(setup)
                } catch {
                    await setup.stop()
                    throw TestSupportError("\(error)\nmosquitto log:\n\(setup.broker.log.suffix(6000))")
                }
                await setup.stop()
            }

            static func start(gateways: [String]) async throws -> ShippedBroker {
                let certificates = try await TestCertificates.generate()
                let directory = try TemporaryDirectory(prefix: "broker-acl")
                // mosquitto drops root before it reads the password and ACL files.
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.url.path)

                // Gateways through the shipped script; it creates the file (0600, owned by the
                // user mosquitto drops to).
                let passwordFile = directory.path("passwd")
                var passwords: [String: String] = [:]
                for gateway in gateways {
                    let result = try await runScript([passwordFile, gateway])
                    guard result.status == 0 else { throw TestSupportError("add-gateway.sh \(gateway) failed: \(result.stderr)") }
                    passwords[gateway] = result.stdout.trimmingCharacters(in: .newlines)
                }
                // The aggregator as docs/BROKER.md adds it (there with a prompt instead of -b).
                let aggregatorPassword = UUID().uuidString
                let added = try await ChildProcess.run(
                    try TestEnvironment.tool("mosquitto_passwd"), ["-b", passwordFile, "aggregator", aggregatorPassword], timeout: .seconds(10))
                guard added.status == 0 else { throw TestSupportError("mosquitto_passwd aggregator failed: \(added.stderr)") }
                passwords["aggregator"] = aggregatorPassword

                // The shipped ACL, unchanged.
                let shippedACL = try Data(contentsOf: deployDirectory.appendingPathComponent("acl"))
                let aclFile = directory.path("acl")
                try shippedACL.write(to: URL(fileURLWithPath: aclFile))
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: aclFile)

                let port = try MosquittoBroker.freeLoopbackPort()
                let shipped = try String(contentsOf: deployDirectory.appendingPathComponent("mosquitto.conf"), encoding: .utf8)
                let configuration = try testConfiguration(from: shipped, port: port, directory: directory, certificates: certificates)
                let configurationFile = try directory.write("mosquitto.conf", configuration)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: configurationFile)

                let broker = try await MosquittoBroker.startDeployment(configurationFile: configurationFile, port: port)
                return ShippedBroker(broker: broker, certificates: certificates, directory: directory, passwords: passwords)
            }

            /// The shipped mosquitto.conf with the test's listener (loopback, free port, same TLS
            /// settings with the test certificates), password and ACL files, without persistence
            /// and pid file, and with debug logging (which names every denied publish). Every
            /// replaced setting must exist in the shipped file, so the test notices when it changes.
            static func testConfiguration(from shipped: String, port: Int, directory: TemporaryDirectory, certificates: TestCertificates) throws -> String {
                let replacements: [String: String?] = [
                    "listener": "listener \(port) 127.0.0.1",
                    "cafile": "cafile \(certificates.caFile)",
                    "certfile": "certfile \(certificates.serverCertificate)",
                    "keyfile": "keyfile \(certificates.serverKey)",
                    "password_file": "password_file \(directory.path("passwd"))",
                    "acl_file": "acl_file \(directory.path("acl"))",
                    "persistence": "persistence false",
                    "persistence_location": "persistence_location \(directory.url.path)/",
                    "pid_file": nil,
                ]
                var replaced: Set<String> = []
                var lines: [String] = []
                for line in shipped.split(separator: "\n") {
                    let setting = line.trimmingCharacters(in: .whitespaces)
                    guard !setting.isEmpty, !setting.hasPrefix("#") else { continue }
                    let key = String(setting.prefix { $0 != " " && $0 != "\t" })
                    if let replacement = replacements[key] {
                        guard replaced.insert(key).inserted else { throw TestSupportError("mosquitto.conf sets \(key) twice") }
                        if let replacement { lines.append(replacement) }
                    } else {
                        lines.append(setting)
                    }
                }
                let missing = Set(replacements.keys).subtracting(replaced)
                guard missing.isEmpty else { throw TestSupportError("the shipped mosquitto.conf lacks \(missing.sorted())") }
                lines.append("log_type debug")
                return lines.joined(separator: "\n") + "\n"
            }

            /// A client for this broker over TLS (hostname checked), not started. The broker
            /// replaces its client id with its user name (`use_username_as_clientid`).
            func client(_ name: String, user: String?, password: String?, clientID: String? = nil) throws -> MQTTClient {
                let configuration = MQTTConfiguration(
                    clientID: clientID ?? "\(name)-\(UInt32.random(in: 0...UInt32.max))", host: "127.0.0.1", port: broker.port,
                    keepAliveSeconds: 5, username: user, password: password, tls: .init(caFile: certificates.caFile),
                    reconnectMinimumSeconds: 1, reconnectMaximumSeconds: 1)
                let client = try MQTTClient(configuration: configuration, logger: Logger(label: "test.broker-acl.\(name)"))
                clients.withLock { $0.append(client) }
                return client
            }

            /// A client logged in as `user` with its password, connected, its `filters` acknowledged.
            func connect(_ user: String, clientID: String? = nil, subscribe filters: [String] = []) async throws -> (client: MQTTClient, inbox: Inbox) {
                let client = try self.client(user, user: user, password: passwords[user], clientID: clientID)
                let inbox = Inbox(client)
                for filter in filters { try client.subscribe(filter, qos: 1) }
                try client.start()
                try await client.waitUntilConnected(timeout: .seconds(10))
                try await client.waitUntilSubscribed(timeout: .seconds(10))
                return (client, inbox)
            }

            /// Waits (bounded) until mosquitto's debug log names a denied publish by `user` on `topic`
            /// (the log names the client id, which the broker replaced with the user name).
            func waitForDenial(by user: String, topic: String) async throws {
                let prefix = "Denied PUBLISH from \(user) ("
                try await BrokerACLTests.waitUntil("mosquitto to log the denied publish on \(topic)") {
                    broker.log.split(separator: "\n").contains { $0.contains(prefix) && $0.contains("'\(topic)'") }
                }
            }

            func stop() async {
                for client in clients.withLock({ $0 }) { client.stop() }
                await broker.stop()
            }
        }

        /// Collects a client's received messages in the background.
        final class Inbox: Sendable {
            private final class Storage: Sendable {
                let messages = Mutex<[MQTTMessage]>([])
            }
            private let storage = Storage()
            private let consumer: Task<Void, Never>

            init(_ client: MQTTClient) {
                let stream = client.messages
                consumer = Task { [storage] in
                    for await message in stream { storage.messages.withLock { $0.append(message) } }
                }
            }

            deinit { consumer.cancel() }

            var all: [MQTTMessage] { storage.messages.withLock { $0 } }
            var topics: [String] { all.map(\.topic) }
            var texts: [String] { all.map { String(decoding: $0.payload, as: UTF8.self) } }

            /// Waits (bounded) until a message with this topic and text has arrived.
            func waitFor(_ topic: String, _ text: String, timeout: Duration = .seconds(10)) async throws {
                try await BrokerACLTests.waitUntil("'\(text)' on \(topic) (received: \(all))", timeout: timeout) {
                    all.contains { $0.topic == topic && $0.payload == Array(text.utf8) }
                }
            }
        }

        /// Polls `condition` every 10 ms; throws after `timeout`.
        static func waitUntil(_ what: @autoclosure () -> String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws {
            let deadline = ContinuousClock.now + timeout
            while try !condition() {
                guard ContinuousClock.now < deadline else { throw TestSupportError("timed out after \(timeout) waiting for \(what())") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        /// A QoS 1 publish, returning on PUBACK (which mosquitto sends for a denied publish too);
        /// gives up after 10 s.
        static func publish(_ client: MQTTClient, _ topic: String, _ text: String, retain: Bool = false) async throws {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await client.publish(topic, payload: Array(text.utf8), qos: 1, retain: retain)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return false
                }
                let acknowledged = try await group.next() ?? false
                group.cancelAll()
                guard acknowledged else { throw TestSupportError("no PUBACK within 10 s for \(topic)") }
            }
        }

        /// The reason of the first `.connectionFailed` event, within 10 s.
        static func firstFailure(_ events: AsyncStream<MQTTConnectionEvent>, _ what: String) async throws -> String {
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    for await event in events {
                        switch event {
                        case .connectionFailed(let reason): return reason
                        case .connected: return "connected"
                        case .disconnected: continue
                        }
                    }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                let reason = try await group.next() ?? nil
                group.cancelAll()
                guard let reason else { throw TestSupportError("\(what): no connection failure within 10 s") }
                return reason
            }
        }

        static func runScript(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.tool("bash"), [addGatewayScript] + arguments, timeout: .seconds(20))
        }
    }
}
