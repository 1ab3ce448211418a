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
    /// Every reading topic of this gateway, for a subscriber.
    public var allReadings: String { "\(Self.root)/\(gatewayID)/+/reading" }
    /// Confirmations from the aggregator: highest contiguous sequence stored, per meter.
    public var confirm: String { "\(Self.root)/\(gatewayID)/confirm" }
    /// Every gateway's readings, for the aggregator.
    public static let everyReading = "\(root)/+/+/reading"

    /// The gateway and meter a reading topic names, or nil for any other topic.
    public static func parseReading(_ topic: String) -> (gatewayID: String, meterID: String)? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count == 5, levels[0] == "gridledger", levels[1] == "v1", levels[4] == "reading",
              !levels[2].isEmpty, !levels[3].isEmpty
        else { return nil }
        return (String(levels[2]), String(levels[3]))
    }
}
