public import MQTTTransport
import Foundation

/// The MQTT broker and how to reach it.
public struct BrokerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String?
    public var keepAliveSeconds: Int
    public var username: String?
    /// A file holding the password (one line), so the configuration itself holds no secret.
    public var passwordFile: String?
    public var tls: TLS?
    public var reconnectMinimumSeconds: Int
    public var reconnectMaximumSeconds: Int

    /// The MQTT client's own TLS settings: CA file, optional client certificate, hostname check.
    public typealias TLS = MQTTConfiguration.TLS

    public init(
        host: String, port: Int? = nil, clientID: String? = nil, keepAliveSeconds: Int = 30, username: String? = nil,
        passwordFile: String? = nil, tls: TLS? = nil, reconnectMinimumSeconds: Int = 1, reconnectMaximumSeconds: Int = 30
    ) {
        self.host = host
        self.port = port ?? (tls == nil ? 1883 : 8883)
        self.clientID = clientID
        self.keepAliveSeconds = keepAliveSeconds
        self.username = username
        self.passwordFile = passwordFile
        self.tls = tls
        self.reconnectMinimumSeconds = reconnectMinimumSeconds
        self.reconnectMaximumSeconds = reconnectMaximumSeconds
    }
}

extension BrokerConfiguration {
    /// Parses a `broker:` mapping (docs/AGENT.md and docs/AGGREGATOR.md list the keys).
    package static func parse(_ node: ConfigNode) throws(ConfigurationError) -> BrokerConfiguration {
        let map = try node.mapping(allowing: [
            "host", "port", "clientId", "keepalive", "username", "passwordFile", "tls", "reconnect",
        ])
        let host = try map.required("host").string()
        guard !host.isEmpty, host.utf8.count <= 253 else { throw try map.required("host").error("host must be 1…253 characters") }
        var tls: BrokerConfiguration.TLS?
        if let tlsNode = map.optional("tls") {
            let tlsMap = try tlsNode.mapping(allowing: ["caFile", "certificateFile", "keyFile", "verifyHostname"])
            let certificate = try tlsMap.optional("certificateFile").map { node throws(ConfigurationError) in try node.absolutePath() }
            let key = try tlsMap.optional("keyFile").map { node throws(ConfigurationError) in try node.absolutePath() }
            guard (certificate == nil) == (key == nil) else {
                throw tlsNode.error("a client certificate needs both certificateFile and keyFile")
            }
            tls = BrokerConfiguration.TLS(
                caFile: try tlsMap.required("caFile").absolutePath(), certificateFile: certificate, keyFile: key,
                verifyHostname: try tlsMap.optional("verifyHostname")?.bool() ?? true)
        }
        let username = try map.optional("username")?.string()
        let passwordFile = try map.optional("passwordFile").map { node throws(ConfigurationError) in try node.absolutePath() }
        if passwordFile != nil, username == nil {
            throw node.error("passwordFile needs a username")
        }
        var minimum = 1
        var maximum = 30
        if let reconnect = map.optional("reconnect") {
            let reconnectMap = try reconnect.mapping(allowing: ["minimumSeconds", "maximumSeconds"])
            minimum = try reconnectMap.optional("minimumSeconds")?.int(in: 1...3600) ?? minimum
            maximum = try reconnectMap.optional("maximumSeconds")?.int(in: 1...3600) ?? maximum
            guard maximum >= minimum else { throw reconnect.error("maximumSeconds must be ≥ minimumSeconds") }
        }
        let clientID = try map.optional("clientId")?.string()
        if let clientID, !(1...64).contains(clientID.utf8.count) {
            throw try map.required("clientId").error("client id must be 1…64 characters")
        }
        return BrokerConfiguration(
            host: host, port: try map.optional("port")?.int(in: 1...65535), clientID: clientID,
            keepAliveSeconds: try map.optional("keepalive")?.int(in: 5...3600) ?? 30,
            username: username, passwordFile: passwordFile, tls: tls,
            reconnectMinimumSeconds: minimum, reconnectMaximumSeconds: maximum)
    }

    /// The MQTT client settings, with the password read from ``passwordFile`` (one line).
    public func mqttConfiguration(defaultClientID: String) throws(ConfigurationError) -> MQTTConfiguration {
        var password: String?
        if let file = passwordFile {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(file: file, field: "", reason: "cannot read the broker password file")
            }
            password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        var mqtt = MQTTConfiguration(clientID: clientID ?? defaultClientID, host: host, port: port)
        mqtt.keepAliveSeconds = keepAliveSeconds
        mqtt.username = username
        mqtt.password = password
        mqtt.tls = tls
        mqtt.reconnectMinimumSeconds = reconnectMinimumSeconds
        mqtt.reconnectMaximumSeconds = reconnectMaximumSeconds
        return mqtt
    }
}
