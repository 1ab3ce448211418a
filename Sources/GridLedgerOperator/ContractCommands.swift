import ArgumentParser
import Contracts
import Foundation
import LedgerCore
import LedgerStore

/// `gridledger contract …`: billing contracts, recorded in the chain.
struct ContractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract",
        abstract: "Check, deploy and list billing contracts.",
        discussion: """
            A contract is a YAML document (docs/contracts/README.md lists every field; examples in
            docs/contracts/). Deploying queues it in the aggregator's database; the running
            aggregator records the document byte for byte in its next block and settles every
            interval from the contract's validFrom on. A later version of the same contract id
            supersedes it from its own validFrom. The aggregator refuses a contract that would
            change settled intervals (validFrom before the first unsettled interval), reaches back
            more than 40 days, or does not raise the version; `contract list` shows why.

            Examples:
              gridledger contract check docs/contracts/mid-market-example.yaml
              gridledger contract deploy docs/contracts/mid-market-example.yaml --db ledger.db --wait 10
              gridledger contract list --db ledger.db --json
            """,
        subcommands: [CheckCommand.self, DeployCommand.self, ListCommand.self])

    struct CheckCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Validate a contract document and print what it says (no database needed).")
        @Argument(help: ArgumentHelp("The contract document.", valueName: "FILE")) var file: String

        func run() throws {
            let (contract, _) = try loadContract(file)
            print(summary(contract))
        }
    }

    struct DeployCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy", abstract: "Queue a contract for the aggregator's next block.")
        @Argument(help: ArgumentHelp("The contract document.", valueName: "FILE")) var file: String
        @Option(help: ArgumentHelp("The aggregator's database.", valueName: "FILE")) var db: String = "/var/lib/gridledger-aggregator/ledger.db"
        @Option(help: "Wait up to this many seconds for the aggregator to record or refuse it (0: do not wait).")
        var wait: Int = 0

        func validate() throws {
            guard (0...3600).contains(wait) else { throw ValidationError("--wait must be 0…3600 seconds") }
        }

        func run() throws {
            let (contract, bytes) = try loadContract(file)
            let store = try open(db, access: .existing)
            let submissions = try store.contractSubmissions()
            for submission in submissions {
                guard let other = try? Contract.parse(submission.document, file: "submission \(submission.id)") else { continue }
                switch submission.state {
                case .rejected: continue
                case .pending, .deployed:
                    if other.hash == contract.hash { throw OperatorFailure("refused: this exact document is already \(describe(submission.state)) (submission #\(submission.id))") }
                    if other.id == contract.id, other.version >= contract.version {
                        throw OperatorFailure("refused: \(contract.id) version \(contract.version) is not above version \(other.version), already \(describe(submission.state)) (submission #\(submission.id))")
                    }
                }
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let id: Int64
            do { id = try store.enqueueContract(bytes, submittedMillis: now) } catch { throw OperatorFailure("\(error)") }
            print("pending #\(id): \(contract.id) v\(contract.version) (sha256 \(Hex.encode(contract.hash))); the aggregator records it in its next block")
            guard wait > 0 else { return }
            let deadline = Date().addingTimeInterval(TimeInterval(wait))
            while Date() < deadline {
                Thread.sleep(forTimeInterval: 0.2)
                guard let submission = try store.contractSubmissions().first(where: { $0.id == id }) else { continue }
                switch submission.state {
                case .pending: continue
                case .deployed(let height):
                    print("deployed in block \(height)")
                    return
                case .rejected(let reason):
                    throw OperatorFailure("the aggregator refused #\(id): \(reason)")
                }
            }
            throw OperatorFailure("#\(id) is still pending after \(wait) s: is the aggregator running on \(db)?")
        }
    }

    struct ListCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List submitted contracts: pending, deployed (with block) and refused (with why).")
        @Option(help: ArgumentHelp("The aggregator's database.", valueName: "FILE")) var db: String = "/var/lib/gridledger-aggregator/ledger.db"
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try open(db, access: .readOnly)
            let submissions = try store.contractSubmissions()
            var rows: [[String: Any]] = []
            for submission in submissions {
                var row: [String: Any] = ["submission": submission.id, "submittedMillis": submission.submittedMillis, "bytes": submission.document.count]
                switch submission.state {
                case .pending: row["state"] = "pending"
                case .deployed(let height): row["state"] = "deployed"; row["height"] = height
                case .rejected(let reason): row["state"] = "refused"; row["reason"] = reason
                }
                if let contract = try? Contract.parse(submission.document, file: "submission \(submission.id)") {
                    row["id"] = contract.id
                    row["version"] = contract.version
                    row["validFromMillis"] = contract.validFromMillis
                    row["sha256"] = Hex.encode(contract.hash)
                }
                rows.append(row)
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["contracts": rows], options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            if rows.isEmpty { print("no contracts submitted") }
            for row in rows {
                let name = (row["id"] as? String).map { "\($0) v\(row["version"] ?? "?")" } ?? "(does not parse)"
                let from = (row["validFromMillis"] as? Int64).map { " from \(formatTime($0))" } ?? ""
                var state = row["state"] as? String ?? ""
                if let height = row["height"] { state += " in block \(height)" }
                if let reason = row["reason"] { state += ": \(reason)" }
                print("#\(row["submission"] ?? "")  \(name)\(from)  \(state)")
            }
        }
    }
}

/// Reads and validates a contract file: the size the chain allows, then every field.
private func loadContract(_ path: String) throws -> (Contract, [UInt8]) {
    guard let data = FileManager.default.contents(atPath: path) else { throw OperatorFailure("cannot read \(path)") }
    let bytes = Array(data)
    do {
        return (try Contract.parse(bytes, file: path), bytes)
    } catch {
        throw OperatorFailure("invalid contract: \(error)")
    }
}

private func describe(_ state: ContractSubmission.State) -> String {
    switch state {
    case .pending: "pending"
    case .deployed(let height): "deployed in block \(height)"
    case .rejected: "refused"
    }
}

private func summary(_ contract: Contract) -> String {
    let members: String = switch contract.members {
    case .all: "every prosumer and consumer with a grid meter"
    case .listed(let ids): ids.joined(separator: ", ")
    }
    return """
        valid: \(contract.id) version \(contract.version)
          sha256      \(Hex.encode(contract.hash))
          valid from  \(formatTime(contract.validFromMillis))
          mechanism   \(contract.mechanismKind)
          interval    \(contract.intervalMillis / 60_000) min, billing period \(contract.billingPeriod.rawValue) in \(contract.timeZone)
          currency    \(contract.currency) (\(contract.minorUnitDigits) minor digits)
          members     \(members)
        """
}
