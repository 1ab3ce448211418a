import CMosquitto
public import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A change of the connection to the broker.
public enum MQTTConnectionEvent: Sendable, Hashable {
    /// CONNACK accepted; the birth message and the subscriptions have been sent.
    case connected
    /// An established connection ended (lost, or closed by ``MQTTClient/stop()``).
    case disconnected(reason: String)
    /// A connection attempt failed: CONNACK refused (credentials), TLS handshake failed (wrong
    /// CA, no client certificate), keepalive timeout, or the broker could not be reached when
    /// we attempt the connect ourselves (at start). libmosquitto's own reconnect loop reports
    /// only some of its failures (none for a refused TCP connect), and a TLS failure can come as
    /// more than one event (one per OpenSSL error line).
    case connectionFailed(reason: String)
}

/// Counters since the client was created.
public struct MQTTStatistics: Sendable, Hashable {
    /// Successful connects (CONNACK accepted), including reconnects.
    public var connects = 0
    /// Established connections that ended (lost or closed).
    public var disconnects = 0
    /// QoS 1 publishes acknowledged by PUBACK while their caller waited, plus QoS 0 publishes
    /// handed to libmosquitto.
    public var published = 0
    /// `publish` calls that threw.
    public var publishFailures = 0
    /// Messages received on subscriptions.
    public var received = 0
    /// Received messages dropped because ``MQTTConfiguration/incomingBufferLimit`` was reached
    /// (or nobody consumes ``MQTTClient/messages`` any more).
    public var droppedIncoming = 0
    /// Publishes holding an in-flight slot now (awaiting PUBACK, or QoS 0 not yet written).
    public var inFlight = 0

    public init() {}
}

/// A thin, thread-safe libmosquitto client: TLS, credentials, keepalive, reconnect with backoff,
/// QoS 1 publishes that return on PUBACK, a birth and a will message, bounded buffers.
///
/// ```swift
/// let client = try MQTTClient(configuration: MQTTConfiguration(clientID: "gw-0042"), logger: logger)
/// try client.start()                        // connects in the background, reconnects by itself
/// try await client.waitUntilConnected(timeout: .seconds(10))
/// try await client.publish("gridledger/gw-0042/batch", payload: bytes)   // returns on PUBACK
/// client.stop()
/// ```
///
/// libmosquitto runs its own network thread (`mosquitto_loop_start`); callbacks copy what they
/// need out of libmosquitto's buffers and update state guarded by a `Mutex`. Usually owned by an
/// ``MQTTService``.
public final class MQTTClient: Sendable {
    public let configuration: MQTTConfiguration
    private let core: ClientCore

    /// Validates `configuration` (see ``MQTTConfiguration/validate()``) and prepares the
    /// libmosquitto handle. Nothing connects before ``start()``.
    ///
    /// With a `messageSink`, received messages go to it instead of ``messages`` (which then
    /// stays empty): see ``MQTTMessageSink`` for the back-pressure it allows.
    public init(configuration: MQTTConfiguration, messageSink: (any MQTTMessageSink)? = nil, logger: Logger) throws(MQTTError) {
        try configuration.validate()
        let initialisation = Mosquitto.initialisation
        guard initialisation == Mosquitto.success else { throw MQTTError.library(initialisation) }
        guard let pointer = mosquitto_new(configuration.clientID, !configuration.persistentSession, nil) else {
            throw MQTTError.library(Mosquitto.errnoCode)
        }
        do throws(MQTTError) {
            try Self.configure(pointer, with: configuration)
        } catch {
            mosquitto_destroy(pointer)
            throw error
        }
        self.configuration = configuration
        core = ClientCore(handle: MosquittoHandle(pointer: pointer), configuration: configuration, messageSink: messageSink, logger: logger)
        // Unretained: `core` lives as long as this client, and `core.stop()` (at the latest in
        // deinit) joins the network thread and destroys the handle before `core` is released.
        mosquitto_user_data_set(pointer, Unmanaged.passUnretained(core).toOpaque())
        mosquitto_connect_callback_set(pointer) { mosq, userdata, code in
            onNetworkThread { _ in ClientCore.from(userdata)?.handleConnect(mosq, code: code) }
        }
        mosquitto_disconnect_callback_set(pointer) { _, userdata, code in
            onNetworkThread { savedErrno in ClientCore.from(userdata)?.handleDisconnect(code: code, errno: savedErrno) }
        }
        mosquitto_publish_callback_set(pointer) { _, userdata, mid in
            onNetworkThread { _ in ClientCore.from(userdata)?.handlePublish(mid: mid) }
        }
        mosquitto_message_callback_set(pointer) { _, userdata, message in
            onNetworkThread { _ in ClientCore.from(userdata)?.handleMessage(message) }
        }
        mosquitto_subscribe_callback_set(pointer) { _, userdata, mid, count, granted in
            onNetworkThread { _ in ClientCore.from(userdata)?.handleSubscribe(mid: mid, count: count, granted: granted) }
        }
        mosquitto_log_callback_set(pointer) { _, userdata, level, text in
            onNetworkThread { _ in ClientCore.from(userdata)?.handleLog(level: level, text: text) }
        }
    }

    deinit {
        core.stop()
    }

    private static func configure(_ pointer: OpaquePointer, with configuration: MQTTConfiguration) throws(MQTTError) {
        func check(_ rc: Int32, _ what: String) throws(MQTTError) {
            guard rc == Mosquitto.success else {
                throw .invalidConfiguration("\(what): \(Mosquitto.describe(rc, errno: errno))")
            }
        }
        try check(mosquitto_int_option(pointer, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311), "protocol version")
        // libmosquitto's own in-flight window (default 20) must not hold back what our slots admit
        // (plus the birth message).
        try check(mosquitto_int_option(pointer, MOSQ_OPT_SEND_MAXIMUM, Int32(min(configuration.maximumInFlight + 1, 65535))),
                  "send maximum")
        // Every MQTT packet goes out in one write; with Nagle's algorithm a PUBACK or a
        // confirmation waits for the peer's delayed ACK (40 ms on Linux) instead.
        try check(mosquitto_int_option(pointer, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        if let username = configuration.username {
            try check(mosquitto_username_pw_set(pointer, username, configuration.password), "username")
        }
        if let will = configuration.will {
            let rc = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(pointer, will.topic, Int32(bytes.count), bytes.baseAddress, Int32(will.qos), will.retain)
            }
            try check(rc, "will")
        }
        if let tls = configuration.tls {
            // The password callback declines: an encrypted key fails to load instead of OpenSSL
            // prompting on a terminal the daemon does not have.
            let rc = mosquitto_tls_set(pointer, tls.caFile, nil, tls.certificateFile, tls.keyFile) { _, _, _, _ in 0 }
            guard rc == Mosquitto.success else {
                throw .tls("CA \(tls.caFile), certificate \(tls.certificateFile ?? "none"), key \(tls.keyFile ?? "none"): \(Mosquitto.describe(rc, errno: errno))")
            }
            let insecure = mosquitto_tls_insecure_set(pointer, !tls.verifyHostname)
            guard insecure == Mosquitto.success else { throw .tls("hostname verification: \(Mosquitto.describe(insecure))") }
        }
        try check(mosquitto_reconnect_delay_set(pointer, UInt32(configuration.reconnectMinimumSeconds),
                                                UInt32(configuration.reconnectMaximumSeconds), true), "reconnect delay")
    }

    /// Starts connecting in the background (`mosquitto_connect_async` and libmosquitto's network
    /// thread). Returns at once, also when the broker is not reachable yet: the client keeps
    /// trying with backoff, and reconnects by itself whenever the connection drops. Calling it
    /// again while running does nothing; after ``stop()`` it throws ``MQTTError/stopped``.
    public func start() throws(MQTTError) {
        try core.start()
    }

    /// Sends a clean DISCONNECT when connected (so the broker discards the will), stops the
    /// network thread and frees libmosquitto's handle. Publishes waiting for a slot or a PUBACK
    /// fail with ``MQTTError/connectionLost``; ``messages`` and the event streams finish.
    /// Idempotent; called by deinit. Blocks for at most about 2 s (DISCONNECT on a stuck link).
    public func stop() {
        core.stop()
    }

    /// Connected to the broker (CONNACK accepted, not yet disconnected).
    public var isConnected: Bool { core.state.withLock { $0.connected } }

    /// Waits until connected. Throws ``MQTTError/notConnected`` after `timeout`, or
    /// `CancellationError` when the task is cancelled.
    public func waitUntilConnected(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isConnected {
            guard ContinuousClock.now < deadline else { throw MQTTError.notConnected }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until connected and every filter passed to ``subscribe(_:qos:)`` has its SUBACK on
    /// the current connection (so a message published from now on is delivered). Throws
    /// ``MQTTError/subscriptionRefused(_:)`` for a refused filter, ``MQTTError/notConnected``
    /// after `timeout`, `CancellationError` on cancellation.
    public func waitUntilSubscribed(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !core.subscriptionsAcknowledged() {
            guard ContinuousClock.now < deadline else { throw MQTTError.notConnected }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Connection changes from now on (starting with ``MQTTConnectionEvent/connected`` when
    /// connected already). Each call makes a new stream; each keeps the newest 16 events when
    /// not consumed, and finishes when the client stops.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        core.connectionEvents()
    }

    /// Publishes one message.
    ///
    /// - QoS 0 returns once libmosquitto has taken the message.
    /// - QoS 1 returns when the broker's PUBACK arrives.
    ///
    /// Throws ``MQTTError/notConnected`` at once when offline: nothing is queued (the caller keeps
    /// its own durable queue). Throws ``MQTTError/connectionLost`` when the connection drops (or
    /// the client stops) before the PUBACK; libmosquitto may still deliver that message after
    /// reconnecting, so a republished copy can arrive twice. When
    /// ``MQTTConfiguration/maximumInFlight`` publishes are outstanding, waits for a free slot.
    /// Throws ``MQTTError/cancelled`` when the task is cancelled while waiting.
    public func publish(_ topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) async throws(MQTTError) {
        try await core.publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    /// Publishes `message` (see ``publish(_:payload:qos:retain:)``).
    public func publish(_ message: MQTTMessage) async throws(MQTTError) {
        try await core.publish(message)
    }

    /// Subscribes to `filter` now if connected, and again after every reconnect (the session is
    /// clean). Returns without waiting for SUBACK: see ``waitUntilSubscribed(timeout:)``.
    /// Subscribing to a filter again updates its QoS.
    public func subscribe(_ filter: String, qos: Int = 1) throws(MQTTError) {
        try core.subscribe(filter, qos: qos)
    }

    /// Messages received on the subscriptions, copied out of libmosquitto's callback. One
    /// stream per client (consume it from one task). Holds at most
    /// ``MQTTConfiguration/incomingBufferLimit`` unconsumed messages, dropping the oldest
    /// (counted in ``MQTTStatistics/droppedIncoming``). QoS 1 messages are acknowledged to the
    /// broker on receipt, before they are consumed.
    public var messages: AsyncStream<MQTTMessage> { core.messageStream }

    public var statistics: MQTTStatistics {
        core.state.withLock { s in
            var statistics = s.statistics
            statistics.inFlight = s.inFlight.used
            return statistics
        }
    }
}

extension ClientCore {
    /// The core registered as userdata of a handle.
    static func from(_ userdata: UnsafeMutableRawPointer?) -> ClientCore? {
        guard let userdata else { return nil }
        return Unmanaged<ClientCore>.fromOpaque(userdata).takeUnretainedValue()
    }
}
