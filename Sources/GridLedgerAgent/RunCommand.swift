import ArgumentParser
import Foundation
import Logging

/// `gridledger-agent run`: the gateway service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Poll the configured meters, sign every reading, and publish it over MQTT.",
        discussion: """
            Runs until SIGTERM or SIGINT: polls every bus, signs each poll cycle as one batch
            (docs/FORMAT.md), stores the records in the outbox (<stateDirectory>/outbox.sqlite)
            before publishing them, and removes them when the aggregator confirms them.
            The configuration file is described in docs/AGENT.md; the topics in docs/MQTT.md.
            Under systemd (Type=notify) it reports readiness and pings the watchdog.

            Examples:
              gridledger-agent run --config /etc/gridledger/agent.yaml
              gridledger-agent run --config agent.yaml --log-level debug
              gridledger-agent run --config agent.yaml --check      # validate and exit

            Exit status: 0 after a clean shutdown, 1 when the agent cannot start, 64 for bad options.
            """)

    @Option(name: .long, help: ArgumentHelp("The agent's YAML configuration.", valueName: "FILE"))
    var config: String = "/etc/gridledger/agent.yaml"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(name: .long, help: "Check the configuration, key and profiles, print a summary, and exit.")
    var check = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let catalog = try loadCatalog(configuration.profilesDirectory)
        do {
            try configuration.checkProfiles(in: catalog, file: config)
        } catch {
            throw CommandFailure("\(error)")
        }
        if check {
            _ = try loadKey(configuration.keyFile)
            let meters = configuration.buses.reduce(0) { $0 + $1.meters.count }
            print("\(config): gateway \(configuration.gatewayID), \(configuration.buses.count) bus(es), \(meters) meter(s), broker \(configuration.broker.host):\(configuration.broker.port)\(configuration.broker.tls == nil ? "" : " (TLS)"): OK")
            return
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gridledger.agent")
        let agent: Agent
        do {
            agent = try buildAgent(configuration: configuration, logger: logger)
        } catch {
            throw CommandFailure("\(error)")
        }
        do {
            try await agent.run()
        } catch {
            throw CommandFailure("agent stopped: \(error)")
        }
    }
}

func loadConfiguration(_ path: String) throws -> AgentConfiguration {
    do {
        return try AgentConfiguration.load(path: path)
    } catch {
        throw CommandFailure("\(error)")
    }
}
