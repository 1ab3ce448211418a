import Synchronization

/// The agent's counters: what an operator needs to see that readings flow from the meters to
/// the aggregator. Updated by the services, read by the metrics reporter and the watchdog.
public final class AgentMetrics: Sendable {
    public struct Counters: Sendable, Hashable {
        public var readingsPolled = 0
        public var readingsFailed = 0
        public var readingsPartial = 0
        /// Readings not recorded because the meter has no id yet (serial never read).
        public var readingsUnattributed = 0
        public var recordsSigned = 0
        public var batchesSigned = 0
        public var recordsPublished = 0
        public var recordsConfirmed = 0
        public var recordsThinned = 0
        public var publishFailures = 0
        public var confirmationsRefused = 0
        public var outboxErrors = 0
        public var outboxDepth = 0
        public var mqttConnected = false
        /// Wall time of the last signed batch (ms), for the watchdog.
        public var lastSignedMillis: Int64 = 0
        /// Real time spent in bus cycles (Modbus requests), signing batches, and storing them in
        /// the outbox, in microseconds.
        public var modbusMicros = 0
        public var signingMicros = 0
        public var outboxMicros = 0
        /// Modbus errors and polls per meter (`<bus>:<unit>` → counts), from the bus sessions.
        public var meters: [String: MeterCounters] = [:]
    }

    public struct MeterCounters: Sendable, Hashable {
        public var name: String
        public var meterID: String?
        public var polls = 0
        public var failed = 0
        public var modbusErrors = 0
    }

    private let counters: Mutex<Counters>

    public init() { counters = Mutex(Counters()) }

    public var snapshot: Counters { counters.withLock { $0 } }

    func update(_ body: (inout Counters) -> Void) { counters.withLock { body(&$0) } }

    /// The counters in the Prometheus text exposition format (version 0.0.4).
    public func prometheusText(gatewayID: String) -> String {
        let c = snapshot
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines.append("# HELP gridledger_agent_\(name) \(help)")
            lines.append("# TYPE gridledger_agent_\(name) \(type)")
            for sample in samples { lines.append("gridledger_agent_\(name){gateway=\"\(gatewayID)\"\(sample.labels)} \(sample.value)") }
        }
        metric("readings_polled_total", "counter", "Meter readings taken.", [("", "\(c.readingsPolled)")])
        metric("readings_failed_total", "counter", "Readings with no values (meter silent or refusing).", [("", "\(c.readingsFailed)")])
        metric("readings_partial_total", "counter", "Readings with some fields missing.", [("", "\(c.readingsPartial)")])
        metric("readings_unattributed_total", "counter", "Readings not recorded: meter serial not yet read.", [("", "\(c.readingsUnattributed)")])
        metric("records_signed_total", "counter", "Signed records written to the outbox.", [("", "\(c.recordsSigned)")])
        metric("batches_signed_total", "counter", "Signed batches.", [("", "\(c.batchesSigned)")])
        metric("records_published_total", "counter", "Record publications acknowledged by the broker (PUBACK).", [("", "\(c.recordsPublished)")])
        metric("records_confirmed_total", "counter", "Records confirmed by the aggregator and removed from the outbox.", [("", "\(c.recordsConfirmed)")])
        metric("records_thinned_total", "counter", "Records dropped by outbox thinning at its bound.", [("", "\(c.recordsThinned)")])
        metric("publish_failures_total", "counter", "Publications that failed (broker unreachable).", [("", "\(c.publishFailures)")])
        metric("outbox_depth", "gauge", "Records waiting for confirmation.", [("", "\(c.outboxDepth)")])
        metric("mqtt_connected", "gauge", "1 when connected to the broker.", [("", c.mqttConnected ? "1" : "0")])
        metric("modbus_microseconds_total", "counter", "Time spent in bus cycles (Modbus requests, decoding).", [("", "\(c.modbusMicros)")])
        metric("signing_microseconds_total", "counter", "Time spent signing batches.", [("", "\(c.signingMicros)")])
        metric("outbox_microseconds_total", "counter", "Time spent storing signed batches in the outbox.", [("", "\(c.outboxMicros)")])
        let meters = c.meters.sorted { $0.key < $1.key }
        metric("meter_polls_total", "counter", "Polls per meter.", meters.map { (",meter=\"\($0.value.name)\",bus_unit=\"\($0.key)\"", "\($0.value.polls)") })
        metric("meter_modbus_errors_total", "counter", "Failed Modbus requests per meter.", meters.map { (",meter=\"\($0.value.name)\",bus_unit=\"\($0.key)\"", "\($0.value.modbusErrors)") })
        return lines.joined(separator: "\n") + "\n"
    }
}
