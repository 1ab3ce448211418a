import ServiceConfiguration
import ArgumentParser
import Crypto
import Foundation

/// `gridledger-agent keygen`: creates the gateway's signing key.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create the gateway's Ed25519 signing key (mode 0600); never overwrites one.",
        discussion: """
            The key file goes where the configuration's keyFile says (default
            <stateDirectory>/gateway.key), or to --key. Enrol the printed public key at the
            aggregator (`gridledger-agent identity` prints it again at any time).

            Examples:
              gridledger-agent keygen --config /etc/gridledger/agent.yaml
              gridledger-agent keygen --key /var/lib/gridledger-agent/gateway.key
            """)

    @OptionGroup var location: KeyLocation

    func run() throws {
        let (path, gateway) = try location.resolve()
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try KeyFile.generate(at: path)
        } catch {
            throw CommandFailure("\(error)")
        }
        print("created \(path) (mode 0600)")
        print(IdentityCommand.describe(gateway: gateway, key: key.publicKey), terminator: "")
    }
}

/// `gridledger-agent identity`: what the aggregator needs to enrol this gateway.
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Print the gateway id and public key for enrolment at the aggregator.",
        discussion: """
            Examples:
              gridledger-agent identity --config /etc/gridledger/agent.yaml
              gridledger-agent identity --key gateway.key --gateway gw-berlin-01 --json
            """)

    @OptionGroup var location: KeyLocation

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let (path, gateway) = try location.resolve()
        let key = try loadKey(path).publicKey
        if json {
            let object: [String: String] = [
                "gateway": gateway ?? "", "publicKeyHex": key.rawRepresentation.map { String(format: "%02x", $0) }.joined(),
                "publicKeyBase64": key.rawRepresentation.base64EncodedString(), "fingerprint": KeyFile.fingerprint(key),
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(object), as: UTF8.self))
        } else {
            print(Self.describe(gateway: gateway, key: key), terminator: "")
        }
    }

    static func describe(gateway: String?, key: Curve25519.Signing.PublicKey) -> String {
        """
        gateway:            \(gateway ?? "(not configured)")
        public key (hex):    \(key.rawRepresentation.map { String(format: "%02x", $0) }.joined())
        public key (base64): \(key.rawRepresentation.base64EncodedString())
        fingerprint:         \(KeyFile.fingerprint(key))

        """
    }
}

/// Where the key is: from the configuration file, or given directly.
struct KeyLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The agent's YAML configuration (its keyFile and gateway).", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The key file, instead of the configuration's.", valueName: "FILE"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("The gateway id to print with --key.", valueName: "ID"))
    var gateway: String?

    func validate() throws {
        guard (config == nil) != (key == nil) else { throw ValidationError("give either --config FILE or --key FILE") }
    }

    func resolve() throws -> (path: String, gateway: String?) {
        if let key { return (key, gateway) }
        let configuration = try loadConfiguration(config!)
        return (configuration.keyFile, gateway ?? configuration.gatewayID)
    }
}

func loadKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
    do {
        return try KeyFile.load(from: path)
    } catch {
        throw CommandFailure("\(error)")
    }
}
