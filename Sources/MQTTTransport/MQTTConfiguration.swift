#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One MQTT application message: what we publish, what a subscription delivers, a will or a birth.
public struct MQTTMessage: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var payload: [UInt8]
    /// 0 or 1 (QoS 2 is not used by GridLedger).
    public var qos: Int
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }

    /// A message with a UTF-8 text payload, such as a retained `online` / `offline` status.
    public init(topic: String, text: String, qos: Int = 1, retain: Bool = false) {
        self.init(topic: topic, payload: Array(text.utf8), qos: qos, retain: retain)
    }

    /// Topic, size and flags; never the payload (it may be large or binary).
    public var description: String {
        "MQTTMessage(\(topic), \(payload.count) bytes, qos \(qos)\(retain ? ", retained" : ""))"
    }
}

/// How an ``MQTTClient`` reaches its broker.
///
/// ```swift
/// var configuration = MQTTConfiguration(clientID: "gw-0042", host: "broker.example", port: 8883)
/// configuration.tls = .init(caFile: "/etc/gridledger/ca.pem",
///                           certificateFile: "/etc/gridledger/gw.pem", keyFile: "/etc/gridledger/gw.key")
/// configuration.will = MQTTMessage(topic: "gridledger/gw-0042/status", text: "offline", retain: true)
/// configuration.birth = MQTTMessage(topic: "gridledger/gw-0042/status", text: "online", retain: true)
/// ```
///
/// The password never appears in `description`, `debugDescription` or a mirror of this value.
public struct MQTTConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// TLS settings. Without them the connection is plain TCP.
    public struct TLS: Sendable, Hashable {
        /// PEM file with the CA certificate(s) that signed the broker's certificate.
        public var caFile: String
        /// PEM client certificate, for brokers that require one; needs ``keyFile``.
        public var certificateFile: String?
        /// PEM private key (unencrypted) of ``certificateFile``.
        public var keyFile: String?
        /// Check that the broker's certificate names the host we connect to (SAN DNS or IP).
        /// Turning this off still verifies the chain against ``caFile``.
        public var verifyHostname: Bool

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyHostname = verifyHostname
        }
    }

    public var host: String
    public var port: Int
    public var clientID: String
    /// MQTT keepalive: the broker drops us after 1.5 × this without traffic, and we notice a dead
    /// link within about the same time. 5...65535 (libmosquitto refuses less than 5).
    public var keepAliveSeconds: Int
    public var username: String?
    /// Sent in CONNECT only; never logged, never in descriptions.
    public var password: String?
    public var tls: TLS?
    /// Last will: the broker publishes it when we vanish without a DISCONNECT (typically retained
    /// `offline`). A clean stop suppresses it, so ``MQTTService`` publishes it itself on shutdown.
    public var will: MQTTMessage?
    /// Published after every successful (re)connect (typically retained `online`).
    public var birth: MQTTMessage?
    /// First reconnect delay; it grows up to ``reconnectMaximumSeconds`` while attempts fail.
    public var reconnectMinimumSeconds: Int
    public var reconnectMaximumSeconds: Int
    /// Bound on our QoS 1 publishes awaiting PUBACK; further publishes wait for a free slot.
    public var maximumInFlight: Int
    /// Bound on received messages not yet consumed from ``MQTTClient/messages``; the oldest are
    /// dropped (and counted) beyond it.
    public var incomingBufferLimit: Int
    /// Ask the broker to keep our subscriptions and queue QoS 1 messages while we are away
    /// (MQTT clean session off), under the same ``clientID``. The aggregator uses it so that a
    /// restart does not miss what gateways published meanwhile.
    public var persistentSession: Bool = false

    public init(
        clientID: String,
        host: String = "127.0.0.1",
        port: Int = 1883,
        keepAliveSeconds: Int = 30,
        username: String? = nil,
        password: String? = nil,
        tls: TLS? = nil,
        will: MQTTMessage? = nil,
        birth: MQTTMessage? = nil,
        reconnectMinimumSeconds: Int = 1,
        reconnectMaximumSeconds: Int = 30,
        maximumInFlight: Int = 100,
        incomingBufferLimit: Int = 1024
    ) {
        self.clientID = clientID
        self.host = host
        self.port = port
        self.keepAliveSeconds = keepAliveSeconds
        self.username = username
        self.password = password
        self.tls = tls
        self.will = will
        self.birth = birth
        self.reconnectMinimumSeconds = reconnectMinimumSeconds
        self.reconnectMaximumSeconds = reconnectMaximumSeconds
        self.maximumInFlight = maximumInFlight
        self.incomingBufferLimit = incomingBufferLimit
    }

    /// `host:port`, as logged under `mqtt.broker`.
    public var broker: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String {
        var parts = ["clientID: \(clientID)", "broker: \(broker)", "keepAlive: \(keepAliveSeconds)s"]
        if let username { parts.append("username: \(username)") }
        if password != nil { parts.append("password: <redacted>") }
        if let tls {
            var text = "tls: ca \(tls.caFile)"
            if let certificateFile = tls.certificateFile { text += ", cert \(certificateFile)" }
            if let keyFile = tls.keyFile { text += ", key \(keyFile)" }
            if !tls.verifyHostname { text += ", hostname not verified" }
            parts.append(text)
        }
        if let will { parts.append("will: \(will)") }
        if let birth { parts.append("birth: \(birth)") }
        parts.append("reconnect: \(reconnectMinimumSeconds)...\(reconnectMaximumSeconds)s")
        parts.append("maximumInFlight: \(maximumInFlight)")
        parts.append("incomingBufferLimit: \(incomingBufferLimit)")
        return "MQTTConfiguration(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    /// A mirror without the password, so `dump(_:)` and `String(reflecting:)` cannot leak it.
    public var customMirror: Mirror {
        Mirror(self, children: ["description": description], displayStyle: .struct)
    }

    /// Checks everything that can be checked before connecting; the message names the field.
    public func validate() throws(MQTTError) {
        func invalid(_ message: String) -> MQTTError { .invalidConfiguration(message) }
        guard !clientID.isEmpty else { throw invalid("clientID is empty") }
        guard clientID.utf8.count <= 65535, !clientID.utf8.contains(0) else {
            throw invalid("clientID must be at most 65535 UTF-8 bytes without NUL")
        }
        guard !host.isEmpty, !host.utf8.contains(0) else { throw invalid("host is empty") }
        guard (1...65535).contains(port) else { throw invalid("port \(port) is not in 1...65535") }
        guard (5...65535).contains(keepAliveSeconds) else {
            throw invalid("keepAliveSeconds \(keepAliveSeconds) is not in 5...65535")
        }
        if password != nil && username == nil {
            throw invalid("a password needs a username (MQTT 3.1.1 sends no password without one)")
        }
        if let username, username.isEmpty || username.utf8.contains(0) { throw invalid("username is empty or contains NUL") }
        guard reconnectMinimumSeconds >= 1 else {
            throw invalid("reconnectMinimumSeconds \(reconnectMinimumSeconds) is less than 1")
        }
        guard reconnectMaximumSeconds >= reconnectMinimumSeconds, reconnectMaximumSeconds <= 86_400 else {
            throw invalid("reconnectMaximumSeconds \(reconnectMaximumSeconds) is not in \(reconnectMinimumSeconds)...86400")
        }
        guard (1...65535).contains(maximumInFlight) else {
            throw invalid("maximumInFlight \(maximumInFlight) is not in 1...65535")
        }
        guard incomingBufferLimit >= 1 else { throw invalid("incomingBufferLimit \(incomingBufferLimit) is less than 1") }
        if let will { try Self.checkMessage(will, role: "will") }
        if let birth { try Self.checkMessage(birth, role: "birth") }
        if let tls {
            try Self.checkReadableFile(tls.caFile, role: "TLS CA file")
            switch (tls.certificateFile, tls.keyFile) {
            case (nil, nil):
                break
            case (.some, nil):
                throw invalid("TLS client certificate \(tls.certificateFile!) is given without its keyFile")
            case (nil, .some):
                throw invalid("TLS keyFile \(tls.keyFile!) is given without a client certificateFile")
            case (.some(let certificate), .some(let key)):
                try Self.checkReadableFile(certificate, role: "TLS client certificate")
                try Self.checkReadableFile(key, role: "TLS client key")
            }
        }
    }

    static func checkMessage(_ message: MQTTMessage, role: String) throws(MQTTError) {
        if let problem = TopicRules.problem(withTopic: message.topic) {
            throw .invalidConfiguration("\(role) topic '\(message.topic)': \(problem)")
        }
        guard (0...1).contains(message.qos) else { throw .invalidConfiguration("\(role) qos \(message.qos) is not 0 or 1") }
        guard message.payload.count <= TopicRules.maximumPayload else {
            throw .invalidConfiguration("\(role) payload of \(message.payload.count) bytes is too large")
        }
    }

    static func checkReadableFile(_ path: String, role: String) throws(MQTTError) {
        guard !path.isEmpty else { throw .invalidConfiguration("\(role) path is empty") }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalidConfiguration("\(role) \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .invalidConfiguration("\(role) \(path) is not a regular file") }
        guard access(path, R_OK) == 0 else {
            throw .invalidConfiguration("\(role) \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
    }
}

/// MQTT topic rules checked before handing a topic to libmosquitto, for clear errors.
enum TopicRules {
    /// MQTT's remaining-length limit bounds the payload (minus topic and header; close enough).
    static let maximumPayload = 268_435_455 - 65_535 - 4

    /// Why `topic` cannot be published to, or nil.
    static func problem(withTopic topic: String) -> String? {
        if topic.isEmpty { return "empty topic" }
        if topic.utf8.count > 65535 { return "longer than 65535 bytes" }
        if topic.utf8.contains(0) { return "contains NUL" }
        if topic.contains("+") || topic.contains("#") { return "wildcards (+, #) are not allowed in a topic name" }
        return nil
    }
}
