import AggregatorAPI
import ArgumentParser
import Crypto
import Foundation
import GridLedgerAggregator
import LedgerCore
import Logging
import ServiceConfiguration

/// The aggregator's command line: `gridledger-aggregator <subcommand>`.
struct AggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridledger-aggregator",
        abstract: "GridLedger aggregator: verifies signed readings, mints meter-attested blocks, serves the read API.",
        discussion: "The configuration file is described in docs/AGGREGATOR.md.",
        subcommands: [RunCommand.self, KeygenCommand.self, IdentityCommand.self])

    /// The asynchronous entry point (`main(nil)` picks the async overload).
    static func runAsMain() async { await main(nil) }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The aggregator's YAML configuration.", valueName: "FILE"))
    var config: String = "/etc/gridledger/aggregator.yaml"

    func load() throws -> AggregatorConfiguration {
        do {
            return try AggregatorConfiguration.load(path: config)
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// `gridledger-aggregator run`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Verify readings from the broker, mint blocks, confirm to gateways, serve the read API.",
        discussion: """
            Runs until SIGTERM or SIGINT. Subscribes to gridledger/v1/+/+/reading, verifies every
            record against the registry (docs/AGGREGATOR.md), commits blocks to the database
            (default <stateDirectory>/ledger.db) and confirms committed records on
            gridledger/v1/<gateway>/confirm. On shutdown it commits what it accepted first.

            Examples:
              gridledger-aggregator run --config /etc/gridledger/aggregator.yaml
              gridledger-aggregator run --config aggregator.yaml --check

            Exit status: 0 after a clean shutdown, 1 when it cannot start or stops on an error.
            """)

    @OptionGroup var options: ConfigOption

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(name: .long, help: "Check the configuration and key, print a summary, and exit.")
    var check = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        let configuration = try options.load()
        if check {
            let key = try loadKey(configuration.keyFile)
            print("""
                \(options.config): key \(KeyID.fingerprint(Array(key.publicKey.rawRepresentation))), database \(configuration.databaseFile), \
                broker \(configuration.broker.host):\(configuration.broker.port)\(configuration.broker.tls == nil ? "" : " (TLS)"), \
                http \(configuration.http.map { "\($0.host):\($0.port)" } ?? "off"): OK
                """)
            return
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gridledger.aggregator")
        let aggregator: Aggregator
        do {
            var extensions: [AggregatorExtension] = []
            if let http = configuration.http {
                extensions.append(try ReadAPI.extension(settings: http, logger: logger))
            }
            aggregator = try buildAggregator(configuration: configuration, logger: logger, extensions: extensions)
        } catch {
            throw CommandFailure("\(error)")
        }
        do {
            try await aggregator.run()
        } catch {
            throw CommandFailure("aggregator stopped: \(error)")
        }
    }
}

func loadKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
    do {
        return try KeyFile.load(from: path, creationHint: "gridledger-aggregator keygen")
    } catch {
        throw CommandFailure("\(error)")
    }
}

struct KeyLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The aggregator's YAML configuration (its keyFile).", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The key file, instead of the configuration's.", valueName: "FILE"))
    var key: String?

    func validate() throws {
        guard (config == nil) != (key == nil) else { throw ValidationError("give exactly one of --config or --key") }
    }

    func path() throws -> String {
        if let key { return key }
        do {
            return try AggregatorConfiguration.load(path: config!).keyFile
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// `gridledger-aggregator keygen`.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create the aggregator's Ed25519 block-signing key (mode 0600); never overwrites one.",
        discussion: """
            Verifiers need the printed public key (`gridledger verify --aggregator-key`).

            Examples:
              gridledger-aggregator keygen --config /etc/gridledger/aggregator.yaml
              gridledger-aggregator keygen --key /var/lib/gridledger-aggregator/aggregator.key
            """)

    @OptionGroup var location: KeyLocation

    func run() throws {
        let path = try location.path()
        do {
            let key = try KeyFile.generate(at: path)
            print("created \(path) (mode 0600)")
            print(IdentityCommand.describe(key.publicKey), terminator: "")
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// `gridledger-aggregator identity`.
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Print the aggregator's public key, which verifiers of its chain need.")

    @OptionGroup var location: KeyLocation

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let key = try loadKey(try location.path()).publicKey
        if json {
            let object: [String: String] = [
                "publicKeyHex": Hex.encode(key.rawRepresentation), "fingerprint": KeyID.fingerprint(Array(key.rawRepresentation)),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(Self.describe(key), terminator: "")
        }
    }

    static func describe(_ key: Curve25519.Signing.PublicKey) -> String {
        """
        public key (hex):    \(Hex.encode(key.rawRepresentation))
        fingerprint:         \(KeyID.fingerprint(Array(key.rawRepresentation)))

        """
    }
}
