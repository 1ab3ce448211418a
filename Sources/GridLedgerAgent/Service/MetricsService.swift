import AgentOutbox
import Foundation
import GridLedgerCore
import Logging
import MeterPolling
import ServiceLifecycle

/// Every interval: refreshes the outbox depth and per-meter Modbus counters, logs one summary
/// line, and (when configured) rewrites a Prometheus text file for node_exporter's textfile
/// collector — metrics without running an HTTP server on the gateway.
struct MetricsService: Service {
    let metrics: AgentMetrics
    let outbox: Outbox
    let queue: BlockingQueue
    let buses: [BusWorker<ProductionReader>]
    let names: [String: String]
    let gatewayID: String
    let configuration: MetricsConfiguration
    let logger: Logger

    func run() async throws {
        guard configuration.logIntervalMillis > 0 || configuration.textfile != nil else {
            // Nothing to report; returning early would end the whole group.
            try? await gracefulShutdown()
            return
        }
        let interval = Duration.milliseconds(configuration.logIntervalMillis > 0 ? configuration.logIntervalMillis : 15_000)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await refresh()
            report()
        }
    }

    func refresh() async {
        let outbox = self.outbox
        let depth = (try? await queue.run { try outbox.depth() }) ?? -1
        var meters: [String: AgentMetrics.MeterCounters] = [:]
        for bus in buses {
            for session in await bus.sessions() {
                let key = "\(bus.name):\(session.unit)"
                meters[key] = AgentMetrics.MeterCounters(
                    name: names[key] ?? session.name, polls: session.stats.polls, failed: session.stats.failed, modbusErrors: session.stats.errors)
            }
        }
        metrics.update { counters in
            counters.outboxDepth = depth
            counters.meters = meters
        }
    }

    func report() {
        let c = metrics.snapshot
        if configuration.logIntervalMillis > 0 {
            logger.info(
                "agent metrics",
                metadata: [
                    "readings.polled": "\(c.readingsPolled)", "readings.failed": "\(c.readingsFailed)",
                    "records.signed": "\(c.recordsSigned)", "records.published": "\(c.recordsPublished)",
                    "records.confirmed": "\(c.recordsConfirmed)", "records.thinned": "\(c.recordsThinned)",
                    "outbox.depth": "\(c.outboxDepth)", "mqtt.connected": "\(c.mqttConnected)",
                    "modbus.errors": "\(c.meters.values.reduce(0) { $0 + $1.modbusErrors })",
                ])
        }
        if let path = configuration.textfile {
            // Write and rename, so the collector never reads half a file.
            let temporary = path + ".tmp"
            do {
                try metrics.prometheusText(gatewayID: gatewayID).write(toFile: temporary, atomically: false, encoding: .utf8)
                if rename(temporary, path) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            } catch {
                logger.warning("cannot write the metrics file", metadata: ["file.path": "\(path)", "error": "\(error)"])
            }
        }
    }
}

/// Tells systemd the agent is ready, then pings its watchdog while readings keep being signed:
/// a poller stuck in a driver call stops the pings and systemd restarts the agent.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let interval: Duration?
    let metrics: AgentMetrics
    let clock: any WallClock
    /// Signing silent for longer than this counts as stuck.
    let staleAfterMillis: Int64
    let startedMillis: Int64
    let logger: Logger

    func run() async throws {
        notifier.notify("READY=1\nSTATUS=polling meters")
        defer { notifier.notify("STOPPING=1") }
        guard let interval else {
            try? await gracefulShutdown()
            return
        }
        let period = interval / 2
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let last = max(metrics.snapshot.lastSignedMillis, startedMillis)
            if clock.nowMillis() - last <= staleAfterMillis {
                notifier.notify("WATCHDOG=1")
            } else {
                logger.error("no readings signed recently: withholding the watchdog ping", metadata: ["watchdog.stale_ms": "\(clock.nowMillis() - last)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
        }
    }
}
