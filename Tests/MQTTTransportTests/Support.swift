import GridLedgerTestSupport
import Logging
import MQTTTransport
import Synchronization
import Testing

/// Log lines captured in memory (every level), so tests can check what is and is not logged.
final class RecordedLog: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "mqtt-test") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    struct Handler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
        }
    }
}

/// A list shared between a collecting task and the test.
final class Collected<Element: Sendable>: Sendable {
    let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

/// Collects a client's received messages in the background.
final class Inbox: Sendable {
    private let received = Collected<MQTTMessage>()
    private let consumer: Task<Void, Never>

    init(_ client: MQTTClient) {
        let stream = client.messages
        consumer = Task { [received] in
            for await message in stream { received.append(message) }
        }
    }

    deinit { consumer.cancel() }

    var all: [MQTTMessage] { received.all }

    /// The first message (received so far or within `timeout`) matching `predicate`.
    func first(timeout: Duration = .seconds(5), where predicate: (MQTTMessage) -> Bool) async throws -> MQTTMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let message = all.first(where: predicate) { return message }
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("no matching message within \(timeout); received: \(all)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Collects a client's connection events in the background.
final class EventRecorder: Sendable {
    private let events = Collected<MQTTConnectionEvent>()
    private let consumer: Task<Void, Never>

    init(_ client: MQTTClient) {
        let stream = client.connectionEvents()
        consumer = Task { [events] in
            for await event in stream { events.append(event) }
        }
    }

    deinit { consumer.cancel() }

    var all: [MQTTConnectionEvent] { events.all }

    /// The reason of the first `.disconnected` event (so far or within `timeout`).
    func firstDisconnect(timeout: Duration = .seconds(5)) async throws -> String {
        try await eventually(timeout: timeout, "a disconnected event") {
            for case .disconnected(let reason) in all { return reason }
            return nil
        }
    }

    /// The reason of the first `.connectionFailed` event (so far or within `timeout`).
    func firstFailure(timeout: Duration = .seconds(5)) async throws -> String {
        try await eventually(timeout: timeout, "a connectionFailed event") {
            for case .connectionFailed(let reason) in all { return reason }
            return nil
        }
    }
}

/// Polls `condition` every 5 ms until it returns a value; throws after `timeout`.
@discardableResult
func eventually<T>(timeout: Duration = .seconds(5), _ what: String, _ condition: () throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try condition() { return value }
        guard ContinuousClock.now < deadline else { throw TestSupportError("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Waits until `condition` holds.
func eventually(timeout: Duration = .seconds(5), _ what: String, _ condition: () throws -> Bool) async throws {
    try await eventually(timeout: timeout, what) { try condition() ? () : nil }
}

/// A client for `port` with test-friendly timing: 1 s reconnect delay, 5 s keepalive.
func makeClient(
    _ name: String, port: Int, log: RecordedLog = RecordedLog(),
    _ adjust: (inout MQTTConfiguration) -> Void = { _ in }
) throws -> MQTTClient {
    var configuration = MQTTConfiguration(
        clientID: "\(name)-\(UInt32.random(in: 0...UInt32.max))", port: port, keepAliveSeconds: 5,
        reconnectMinimumSeconds: 1, reconnectMaximumSeconds: 1)
    adjust(&configuration)
    return try MQTTClient(configuration: configuration, logger: log.logger)
}

/// Runs `body` against a fresh broker and always stops it; prints the broker's log on failure.
func withBroker<T>(
    tls: TestCertificates? = nil, requireClientCertificate: Bool = false, passwordFile users: [String: String]? = nil,
    _ body: (MosquittoBroker) async throws -> T
) async throws -> T {
    let broker = try await MosquittoBroker.start(tls: tls, requireClientCertificate: requireClientCertificate, passwordFile: users)
    do {
        let result = try await body(broker)
        await broker.stop()
        return result
    } catch {
        await broker.stop()
        print("mosquitto log:\n\(broker.log)")
        throw error
    }
}
