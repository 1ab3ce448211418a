import GridLedgerRecords
import ServiceConfiguration
public import DeviceProfiles
import Foundation
import MeterPolling
import ModbusTransport
import Yams

extension AgentConfiguration {
    /// Largest configuration file accepted.
    public static let maximumFileSize = ConfigurationFile.maximumSize

    /// Reads and validates the configuration file at `path`. Errors name the file, line and field.
    public static func load(path: String) throws(ConfigurationError) -> AgentConfiguration {
        try parse(yaml: try ConfigurationFile.read(path: path), file: path)
    }

    /// Parses configuration text; `file` is used in error messages.
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> AgentConfiguration {
        let top = try ConfigurationFile.root(yaml: yaml, file: file).mapping(allowing: [
            "gateway", "stateDirectory", "keyFile", "profiles", "broker", "outbox", "metrics", "buses",
        ])
        let gateway = try top.required("gateway").identifier(maximum: 32)
        let stateDirectory = try top.optional("stateDirectory").map { node throws(ConfigurationError) in try node.absolutePath() } ?? "/var/lib/gridledger-agent"
        let keyFile = try top.optional("keyFile").map { node throws(ConfigurationError) in try node.absolutePath() }
        let profiles = try top.optional("profiles").map { node throws(ConfigurationError) in try node.string() }
        let broker = try BrokerConfiguration.parse(try top.required("broker"))
        let outbox = try top.optional("outbox").map { node throws(ConfigurationError) in try parseOutbox(node) } ?? OutboxConfiguration()
        let metrics = try top.optional("metrics").map { node throws(ConfigurationError) in try parseMetrics(node) } ?? MetricsConfiguration()
        let busNodes = try top.required("buses").sequence()
        guard !busNodes.isEmpty else { throw try top.required("buses").error("at least one bus is needed") }
        var buses: [AgentBus] = []
        var busNames: Set<String> = []
        for node in busNodes {
            let bus = try parseBus(node)
            guard busNames.insert(bus.bus.name).inserted else {
                throw node.error("bus name '\(bus.bus.name)' is used twice")
            }
            buses.append(bus)
        }
        return AgentConfiguration(
            gatewayID: gateway, stateDirectory: stateDirectory, keyFile: keyFile, profilesDirectory: profiles,
            broker: broker, outbox: outbox, metrics: metrics, buses: buses)
    }

    private static func parseOutbox(_ node: ConfigNode) throws(ConfigurationError) -> OutboxConfiguration {
        let map = try node.mapping(allowing: ["bound", "republishAfterSeconds", "recordsPerMessage"])
        return OutboxConfiguration(
            bound: try map.optional("bound")?.int(in: 100...10_000_000) ?? 100_000,
            republishAfterMillis: try map.optional("republishAfterSeconds")?.milliseconds(inSeconds: 1...86_400) ?? 300_000,
            recordsPerMessage: try map.optional("recordsPerMessage")?.int(in: 1...ReadingBundle.maximumEnvelopes)
                ?? OutboxConfiguration.defaultRecordsPerMessage)
    }

    private static func parseMetrics(_ node: ConfigNode) throws(ConfigurationError) -> MetricsConfiguration {
        let map = try node.mapping(allowing: ["logIntervalSeconds", "textfile"])
        var interval: Int64 = 60_000
        if let intervalNode = map.optional("logIntervalSeconds") {
            interval = try intervalNode.milliseconds(inSeconds: 0...86_400)
            guard interval == 0 || interval >= 1000 else { throw intervalNode.error("use 0 (off) or at least 1 s") }
        }
        return MetricsConfiguration(
            logIntervalMillis: interval,
            textfile: try map.optional("textfile").map { node throws(ConfigurationError) in try node.absolutePath() })
    }

    private static func parseBus(_ node: ConfigNode) throws(ConfigurationError) -> AgentBus {
        let map = try node.mapping(allowing: ["name", "endpoint", "timeoutMs", "interFrameDelayMs", "perSlaveDelayMs", "meters"])
        let name = try map.required("name").identifier(maximum: 32)
        let endpointNode = try map.required("endpoint")
        let endpointText = try endpointNode.string()
        let endpoint: ModbusEndpoint
        do {
            endpoint = try ModbusEndpoint(parsing: endpointText.contains("://") ? endpointText : "tcp://\(endpointText)")
        } catch {
            throw endpointNode.error("\(error)")
        }
        let timeout = try map.optional("timeoutMs")?.int(in: 10...60_000) ?? 1000
        let pacing = BusPacing(
            interFrameDelay: .milliseconds(try map.optional("interFrameDelayMs")?.int(in: 0...1000) ?? 0),
            perSlaveDelay: .milliseconds(try map.optional("perSlaveDelayMs")?.int(in: 0...1000) ?? 0))
        let meterNodes = try map.required("meters").sequence()
        guard !meterNodes.isEmpty else { throw try map.required("meters").error("at least one meter is needed") }
        var meters: [MeterConfiguration] = []
        var agentMeters: [AgentMeter] = []
        for meterNode in meterNodes {
            let meterMap = try meterNode.mapping(allowing: ["name", "unit", "profile", "role", "invert", "intervalSeconds"])
            let unit = UInt8(try meterMap.required("unit").int(in: 1...247))
            guard !agentMeters.contains(where: { $0.unit == unit }) else {
                throw try meterMap.required("unit").error("unit \(unit) is used twice on bus '\(name)'")
            }
            let meterName = try meterMap.optional("name")?.identifier(maximum: 64) ?? "unit\(unit)"
            let roleNode = try meterMap.required("role")
            guard let role = AgentMeter.Role(rawValue: try roleNode.string()) else {
                throw roleNode.error("role must be one of \(AgentMeter.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let interval = try meterMap.optional("intervalSeconds")?.milliseconds(inSeconds: 0.1...86_400) ?? 1000
            meters.append(MeterConfiguration(
                name: meterName, unit: unit, profile: try meterMap.required("profile").string(), pollIntervalMillis: interval))
            agentMeters.append(AgentMeter(name: meterName, unit: unit, role: role, invert: try meterMap.optional("invert")?.bool() ?? false))
        }
        let bus = BusConfiguration(
            name: name, endpoint: endpoint,
            timeouts: ModbusClient.Timeouts(response: .milliseconds(timeout), byte: .milliseconds(min(timeout, 100))),
            pacing: pacing, meters: meters)
        return AgentBus(bus: bus, meters: agentMeters)
    }

    /// Checks every meter's profile against `catalog`, naming the meter in the error.
    public func checkProfiles(in catalog: ProfileCatalog, file: String) throws(ConfigurationError) {
        for (busIndex, bus) in buses.enumerated() {
            for (meterIndex, meter) in bus.bus.meters.enumerated() where meter.profile != "sunspec" {
                do {
                    _ = try catalog.profile(meter.profile)
                } catch {
                    throw ConfigurationError(file: file, field: "buses[\(busIndex)].meters[\(meterIndex)].profile", reason: "\(error)")
                }
            }
        }
    }
}
