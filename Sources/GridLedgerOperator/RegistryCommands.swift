import ArgumentParser
import Foundation
import LedgerCore
import LedgerStore

/// `gridledger registry …`: members, gateway keys and meters, recorded in the chain.
struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Add and list members, gateway keys and meters; revoke keys.",
        discussion: """
            Changes are written to the aggregator's database as pending; the running aggregator
            records each in its next block (so a verifier knows which key was valid when) and
            applies it to every record admitted after it. A change the registry refuses (an
            unknown member, a duplicate meter, …) is refused here already.

            Examples:
              gridledger registry add member --db ledger.db --id alice --role prosumer --name "Alice Example"
              gridledger registry add key --db ledger.db --gateway gw-01 --public-key 3b6a…e1 --valid-from 2026-01-01T00:00:00Z
              gridledger registry add meter --db ledger.db --meter gw-01:rs485:1 --gateway gw-01 --member alice --role grid --tariff standard
              gridledger registry revoke --db ledger.db --gateway gw-01 --public-key 3b6a…e1 --from 2026-06-01T12:00:00Z
              gridledger registry list --db ledger.db --json
            """,
        subcommands: [AddCommand.self, RevokeCommand.self, ListCommand.self])

    struct AddCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a member, a gateway key or a meter.",
            subcommands: [AddMember.self, AddKey.self, AddMeter.self])
    }

    struct DatabaseOption: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The aggregator's database.", valueName: "FILE"))
        var db: String = "/var/lib/gridledger-aggregator/ledger.db"

        @Option(name: .long, help: "Who makes the change, recorded with it (an id of [A-Za-z0-9._:-]).")
        var author: String = "cli"

        /// Checks `change` against the registry as it will be once pending changes are recorded,
        /// then queues it.
        func submit(_ change: RegistryChange) throws {
            let store = try open(db, access: .existing)
            var registry = Registry()
            do {
                for entry in try store.recordedRegistryEntries() { try registry.apply(entry.change) }
                for pending in try store.pendingRegistryEntries() { try registry.apply(pending.entry.change) }
                try registry.apply(change)
                let entry = RegistryEntry(change: change, recordedMillis: Int64(Date().timeIntervalSince1970 * 1000), author: author)
                let id = try store.enqueueRegistryEntry(entry)
                print("pending #\(id): \(change.summary); the aggregator records it in its next block")
            } catch let error as RegistryError {
                throw OperatorFailure("refused: \(error)")
            } catch {
                throw OperatorFailure("\(error)")
            }
        }
    }

    struct AddMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "member", abstract: "Add a community member.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Member id ([A-Za-z0-9._:-], ≤ 64).") var id: String
        @Option(help: "prosumer, consumer, operator or auditor.") var role: String
        @Option(help: "Name for people (≤ 128 bytes).") var name: String

        func run() throws { try database.submit(.addMember(Member(id: id, role: try parseRole(role, option: "--role"), name: name))) }
    }

    struct AddKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key", abstract: "Register a gateway's public key, or rotate to a new one from a stated time.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Gateway id.") var gateway: String
        @Option(help: "Ed25519 public key: 64 hex digits or base64 (as `gridledger-agent identity` prints).") var publicKey: String
        @Option(help: "Records captured from this time on may be signed with it (ISO 8601 or ms since epoch; default now).")
        var validFrom: String?

        func run() throws {
            let from = try validFrom.map { try parseTime($0, option: "--valid-from") } ?? Int64(Date().timeIntervalSince1970 * 1000)
            try database.submit(.addGatewayKey(gatewayID: gateway, publicKey: try parseKey(publicKey), validFromMillis: from))
        }
    }

    struct AddMeter: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "meter", abstract: "Register a meter of a gateway to a member.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Meter id as the gateway reports it (<gateway>:<bus>:<unit>[:<serial>]).") var meter: String
        @Option(help: "The only gateway whose records count for this meter.") var gateway: String
        @Option(help: "Member id.") var member: String
        @Option(help: "grid, pv, battery or load.") var role: String
        @Option(help: "Tariff group for billing.") var tariff: String = "standard"

        func run() throws {
            try database.submit(.addMeter(RegisteredMeter(meterID: meter, gatewayID: gateway, memberID: member, role: try parseRole(role, option: "--role"), tariffGroup: tariff)))
        }
    }

    struct RevokeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a gateway key: records captured from the stated time on and signed with it are refused.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Gateway id.") var gateway: String
        @Option(help: "The key to revoke (hex or base64).") var publicKey: String
        @Option(help: "Effective from (ISO 8601 or ms since epoch; default now).") var from: String?

        func run() throws {
            let effective = try from.map { try parseTime($0, option: "--from") } ?? Int64(Date().timeIntervalSince1970 * 1000)
            try database.submit(.revokeGatewayKey(gatewayID: gateway, publicKey: try parseKey(publicKey), effectiveMillis: effective))
        }
    }

    struct ListCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List members, gateway keys and meters.")
        @Option(name: .long, help: ArgumentHelp("The aggregator's database.", valueName: "FILE"))
        var db: String = "/var/lib/gridledger-aggregator/ledger.db"
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try open(db, access: .readOnly)
            var registry = Registry()
            for entry in try store.recordedRegistryEntries() { try registry.apply(entry.change) }
            let pending = try store.pendingRegistryEntries()
            if json {
                let object: [String: Any] = [
                    "members": registry.members.values.sorted { $0.id < $1.id }.map { ["id": $0.id, "role": $0.role.rawValue, "name": $0.name] },
                    "gatewayKeys": registry.keys.keys.sorted().flatMap { gateway in
                        registry.keys[gateway]!.map { key -> [String: Any] in
                            var entry: [String: Any] = ["gateway": gateway, "publicKey": Hex.encode(key.publicKey),
                                                        "fingerprint": KeyID.fingerprint(key.publicKey), "validFromMillis": key.validFromMillis]
                            if let revoked = key.revokedFromMillis { entry["revokedFromMillis"] = revoked }
                            return entry
                        }
                    },
                    "meters": registry.meters.values.sorted { $0.meterID < $1.meterID }.map {
                        ["meter": $0.meterID, "gateway": $0.gatewayID, "member": $0.memberID, "role": $0.role.rawValue, "tariffGroup": $0.tariffGroup]
                    },
                    "pending": pending.map { ["id": $0.id, "change": $0.entry.change.summary] },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("members (\(registry.members.count)):")
            for member in registry.members.values.sorted(by: { $0.id < $1.id }) { print("  \(member.id)  \(member.role.rawValue)  \(member.name)") }
            print("gateway keys:")
            for gateway in registry.keys.keys.sorted() {
                for key in registry.keys[gateway]! {
                    let revoked = key.revokedFromMillis.map { ", revoked from \(formatTime($0))" } ?? ""
                    print("  \(gateway)  \(KeyID.fingerprint(key.publicKey))  valid from \(formatTime(key.validFromMillis))\(revoked)")
                }
            }
            print("meters (\(registry.meters.count)):")
            for meter in registry.meters.values.sorted(by: { $0.meterID < $1.meterID }) {
                print("  \(meter.meterID)  \(meter.role.rawValue)  gateway \(meter.gatewayID)  member \(meter.memberID)  tariff \(meter.tariffGroup)")
            }
            if !pending.isEmpty {
                print("pending (recorded in the next block):")
                for item in pending { print("  #\(item.id)  \(item.entry.change.summary)") }
            }
        }
    }
}

/// A role named on the command line.
func parseRole<Role: RawRepresentable & CaseIterable>(_ text: String, option: String) throws -> Role where Role.RawValue == String {
    guard let role = Role(rawValue: text) else {
        throw ValidationError("\(option) '\(text)': expected one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return role
}

func open(_ path: String, access: SQLiteLedgerStore.Access) throws -> SQLiteLedgerStore {
    do {
        return try SQLiteLedgerStore(path: path, access: access)
    } catch {
        throw OperatorFailure("\(error)")
    }
}

/// A raw 32-byte Ed25519 public key from hex or base64.
func parseKey(_ text: String) throws -> [UInt8] {
    if let bytes = Hex.decode(text), bytes.count == 32 { return bytes }
    if let data = Data(base64Encoded: text), data.count == 32 { return Array(data) }
    throw ValidationError("'\(text)' is not a 32-byte public key in hex (64 digits) or base64")
}

/// ISO 8601 (`2026-01-01T00:00:00Z`) or milliseconds since the epoch.
func parseTime(_ text: String, option: String) throws -> Int64 {
    if let millis = Int64(text) { return millis }
    let formatter = ISO8601DateFormatter()
    if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    throw ValidationError("\(option) '\(text)': expected ISO 8601 (2026-01-01T00:00:00Z) or milliseconds since the epoch")
}

func formatTime(_ millis: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}
