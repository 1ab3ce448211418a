/// The MQTT topic tree of one gateway (docs/MQTT.md). Pure functions, so the agent, the
/// aggregator and the tests name topics the same way.
public struct GatewayTopics: Sendable, Hashable {
    public static let root = "gridledger/v1"
    public let gatewayID: String

    public init(gatewayID: String) { self.gatewayID = gatewayID }

    /// Retained `online` / `offline` (the last will).
    public var status: String { "\(Self.root)/\(gatewayID)/status" }
    /// Record envelopes of one meter, QoS 1.
    public func reading(meterID: String) -> String { "\(Self.root)/\(gatewayID)/\(meterID)/reading" }
    /// Bundles of record envelopes, possibly of several meters, QoS 1 (docs/MQTT.md).
    public var bundle: String { "\(Self.root)/\(gatewayID)/readings" }
    /// Every reading topic of this gateway, for a subscriber.
    public var allReadings: String { "\(Self.root)/\(gatewayID)/+/reading" }
    /// Confirmations from the aggregator: highest contiguous sequence stored, per meter.
    public var confirm: String { "\(Self.root)/\(gatewayID)/confirm" }
    /// Every gateway's readings, for the aggregator.
    public static let everyReading = "\(root)/+/+/reading"
    /// Every gateway's bundles, for the aggregator.
    public static let everyBundle = "\(root)/+/readings"

    /// The gateway and meter a reading topic names, or nil for any other topic.
    public static func parseReading(_ topic: String) -> (gatewayID: String, meterID: String)? {
        guard let claim = parseIngest(topic), let meterID = claim.meterID else { return nil }
        return (claim.gatewayID, meterID)
    }

    /// The gateway a bundle topic names, or nil for any other topic.
    public static func parseBundle(_ topic: String) -> String? {
        guard let claim = parseIngest(topic), claim.meterID == nil else { return nil }
        return claim.gatewayID
    }

    /// What a topic the aggregator reads says about the records it carries (a per-meter reading
    /// topic or a gateway's bundle topic), or nil for any other topic. Splits the topic once.
    public static func parseIngest(_ topic: String) -> TopicClaim? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count >= 4, levels[0] == "gridledger", levels[1] == "v1", !levels[2].isEmpty else { return nil }
        if levels.count == 5, levels[4] == "reading", !levels[3].isEmpty {
            return TopicClaim(gatewayID: String(levels[2]), meterID: String(levels[3]))
        }
        if levels.count == 4, levels[3] == "readings" { return TopicClaim(gatewayID: String(levels[2])) }
        return nil
    }
}

/// What the MQTT topic of a reading or bundle claims about the records in it: the gateway, and
/// on a per-meter topic the meter. Ingest refuses a record that contradicts it.
public struct TopicClaim: Sendable, Hashable {
    public var gatewayID: String
    /// Nil on a bundle topic, which may carry any of the gateway's meters.
    public var meterID: String?

    public init(gatewayID: String, meterID: String? = nil) {
        self.gatewayID = gatewayID
        self.meterID = meterID
    }
}
