import ArgumentParser
import Crypto
import Foundation
import LedgerCore
import LedgerStore
import Settlement

/// `gridledger verify`: checks a whole chain offline.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a whole chain offline, from the aggregator's database or an export.",
        discussion: """
            Checks every block's signature, height and link, both Merkle roots, every registry
            change, every record's gateway signature with the key valid at its capture time, and per
            meter the sequence, hash chain, capture time and energy counters. Holes must be declared
            by missing-data events. Then re-runs every billing contract recorded in the chain and
            checks that each block's settlements are byte for byte what the contracts derive from
            the chain's own readings. Reports the first failure exactly (block, record or event,
            reason).

            Pin the aggregator's public key with --aggregator-key (as `gridledger-aggregator identity`
            prints it): without it the key stored in the file itself is used, which proves the chain
            is consistent but not whose it is.

            Examples:
              gridledger verify --db /var/lib/gridledger-aggregator/ledger.db --aggregator-key 5f1c…
              gridledger verify --export chain.glchain --aggregator-key 5f1c… --json

            Exit status: 0 valid, 1 invalid or unreadable, 64 for bad options.
            """)

    @Option(help: ArgumentHelp("The aggregator's database (read-only).", valueName: "FILE")) var db: String?
    @Option(help: ArgumentHelp("A chain export made by `gridledger export`.", valueName: "FILE")) var export: String?
    @Option(help: "The aggregator's Ed25519 public key (hex or base64).") var aggregatorKey: String?
    @Option(help: "How far a capture time may be ahead of its block's time, in seconds (the aggregator's rules.futureToleranceSeconds).")
    var futureToleranceSeconds: Int = 120
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard (db == nil) != (export == nil) else { throw ValidationError("give exactly one of --db or --export") }
        guard (0...86400).contains(futureToleranceSeconds) else { throw ValidationError("--future-tolerance-seconds must be 0…86400") }
    }

    func run() throws {
        let started = Date()
        let pinned = try aggregatorKey.map(parseKey)
        let verdict: ChainVerdict
        do {
            if let db {
                verdict = try ChainVerdict.verify(database: db, pinnedKey: pinned, futureToleranceMillis: Int64(futureToleranceSeconds) * 1000)
            } else {
                guard let export, let data = FileManager.default.contents(atPath: export) else { throw OperatorFailure("cannot read \(export ?? "")") }
                verdict = try ChainVerdict.verify(export: Array(data), pinnedKey: pinned, futureToleranceMillis: Int64(futureToleranceSeconds) * 1000)
            }
        } catch let error as OperatorFailure {
            throw error
        } catch {
            throw OperatorFailure("\(error)")
        }
        let verifier = verdict.chain
        let settlements = verdict.settlements
        let failure = verdict.failure
        let keySource = verdict.keySource
        let seconds = Date().timeIntervalSince(started)
        if json {
            var object: [String: Any] = [
                "valid": failure == nil, "blocks": verifier.blockCount, "records": verifier.recordCount, "events": verifier.eventCount,
                "missingRecords": verifier.missingRecords, "meters": verifier.heads.count, "aggregatorKey": keySource,
                "seconds": (seconds * 1000).rounded() / 1000,
                "contracts": settlements.contractCount, "settlements": settlements.settlementCount,
                "unsettledIntervals": settlements.failures.map { ["intervalStartMillis": $0.intervalStartMillis, "reason": $0.reason] as [String: Any] },
            ]
            if let failure {
                var detail: [String: Any] = ["height": failure.height, "reason": failure.reason]
                if let record = failure.record { detail["record"] = record }
                if let event = failure.event { detail["event"] = event }
                object["failure"] = detail
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if let failure {
            print("INVALID at \(failure)")
            print("verified before it: \(verifier.blockCount) blocks, \(verifier.recordCount) records")
        } else {
            print("valid: \(verifier.blockCount) blocks, \(verifier.recordCount) records, \(verifier.eventCount) events, \(verifier.heads.count) meters, \(verifier.missingRecords) records declared missing (aggregator key \(keySource))")
            print("settlements: \(settlements.settlementCount) re-derived byte for byte under \(settlements.contractCount) contract(s)")
        }
        if !json {
            // Not a chain failure: the contract itself cannot settle these (e.g. arithmetic bounds),
            // and the aggregator recorded no settlement for them either.
            for unsettled in settlements.failures { print("note: not settled by the contract: \(unsettled)") }
        }
        if failure != nil { throw ExitCode(1) }
    }
}

/// What verifying a whole chain found: the chain verifier and the settlement verifier after the
/// last block they accepted, and the first failure, if any.
struct ChainVerdict {
    var chain: ChainVerifier
    var settlements: SettlementVerifier
    var failure: ChainFailure?
    /// "pinned", or that the key was taken from the file.
    var keySource: String
    /// The headers of the blocks verified, in order.
    var headers: [BlockHeader] = []

    var isValid: Bool { failure == nil }

    /// Verifies the aggregator's database (opened read-only).
    static func verify(database path: String, pinnedKey: [UInt8]?, futureToleranceMillis: Int64) throws -> ChainVerdict {
        let store = try open(path, access: .readOnly)
        var verdict = try ChainVerdict(storedKey: try store.aggregatorKey(), pinnedKey: pinnedKey, futureToleranceMillis: futureToleranceMillis)
        try verdict.run { visit in try store.forEachBlock { block in try visit(block); return true } }
        return verdict
    }

    /// Verifies a chain export (`gridledger export`).
    static func verify(export bytes: [UInt8], pinnedKey: [UInt8]?, futureToleranceMillis: Int64) throws -> ChainVerdict {
        var reader = try ChainExport.Reader(bytes)
        var verdict = try ChainVerdict(storedKey: reader.aggregatorKey, pinnedKey: pinnedKey, futureToleranceMillis: futureToleranceMillis)
        try verdict.run { visit in
            while let block = try reader.next() { try visit(block) }
        }
        return verdict
    }

    private init(storedKey: [UInt8], pinnedKey: [UInt8]?, futureToleranceMillis: Int64) throws {
        if let pinnedKey {
            guard pinnedKey == storedKey else {
                throw OperatorFailure("the chain names aggregator key \(KeyID.fingerprint(storedKey)), not the pinned \(KeyID.fingerprint(pinnedKey))")
            }
            keySource = "pinned"
        } else {
            keySource = "taken from the file (not pinned)"
        }
        let key = try Curve25519.Signing.PublicKey(rawRepresentation: pinnedKey ?? storedKey)
        chain = ChainVerifier(aggregatorKey: key, rules: LedgerRules(futureToleranceMillis: futureToleranceMillis))
        settlements = SettlementVerifier(parse: DeployedContract.parse)
    }

    /// Feeds every block `blocks` yields to both verifiers; the first failure stops it.
    private mutating func run(_ blocks: (_ visit: (Block) throws -> Void) throws -> Void) throws {
        do {
            try blocks { block in
                try chain.verify(block)
                headers.append(block.header)
                try settlements.verify(block, records: chain.lastBlockRecords, registry: chain.registry)
            }
        } catch let error as ChainFailure {
            failure = error
        } catch {
            failure = ChainFailure(height: chain.lastBlock.map { $0.height + 1 } ?? 0, reason: "unreadable block: \(error)")
        }
    }
}

/// `gridledger export`: the whole chain in one file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the whole chain from the aggregator's database to one file for auditors.",
        discussion: """
            The format is in docs/FORMAT.md ("Chain export"); `gridledger verify --export FILE`
            checks it. The database is opened read-only, so the aggregator may keep running.

            Example:
              gridledger export --db /var/lib/gridledger-aggregator/ledger.db --output chain.glchain
            """)

    @Option(help: ArgumentHelp("The aggregator's database.", valueName: "FILE")) var db: String
    @Option(help: ArgumentHelp("The export file (must not exist).", valueName: "FILE")) var output: String

    func run() throws {
        let store = try open(db, access: .readOnly)
        guard !FileManager.default.fileExists(atPath: output) else { throw OperatorFailure("\(output) exists: refusing to overwrite it") }
        guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o644]),
              let handle = FileHandle(forWritingAtPath: output)
        else { throw OperatorFailure("cannot create \(output)") }
        defer { try? handle.close() }
        var blocks = 0
        var records = 0
        do {
            try handle.write(contentsOf: ChainExport.preamble(aggregatorKey: try store.aggregatorKey()))
            try store.forEachBlock { block in
                try handle.write(contentsOf: ChainExport.encode(block))
                blocks += 1
                records += block.records.count
                return true
            }
            try handle.synchronize()
        } catch {
            throw OperatorFailure("export failed: \(error)")
        }
        print("exported \(blocks) blocks, \(records) records to \(output)")
    }
}

/// `gridledger verify-proof`: one record against a block header.
struct VerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check one record's inclusion proof (from the read API) against the aggregator's key.",
        discussion: """
            Verifies the block signature, the record's audit path to the block's records root and,
            with --gateway-key, the gateway's own signature over the record's batch.

            Example:
              curl -s -H "Authorization: Bearer $TOKEN" \\
                https://aggregator/v1/meters/gw-01:rs485:1/records/42/proof > proof.json
              gridledger verify-proof --proof proof.json --aggregator-key 5f1c… --gateway-key 3b6a…

            Exit status: 0 valid, 1 invalid, 64 for bad options.
            """)

    @Option(help: ArgumentHelp("The proof JSON ('-' for standard input).", valueName: "FILE")) var proof: String
    @Option(help: "The aggregator's Ed25519 public key (hex or base64).") var aggregatorKey: String
    @Option(help: "The gateway's Ed25519 public key (hex or base64), to check its signature too.") var gatewayKey: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let data: Data?
        if proof == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: proof)
        }
        guard let data, data.count <= 1 << 20 else { throw OperatorFailure("cannot read \(proof) (at most 1 MiB)") }
        let decoded: InclusionProof
        do {
            decoded = try JSONDecoder().decode(InclusionProof.self, from: data)
        } catch {
            throw OperatorFailure("\(proof) is not an inclusion proof: \(error)")
        }
        let aggregator = try Curve25519.Signing.PublicKey(rawRepresentation: try parseKey(aggregatorKey))
        let gateway = try gatewayKey.map { try Curve25519.Signing.PublicKey(rawRepresentation: try parseKey($0)) }
        do {
            let verified = try decoded.verify(aggregatorKey: aggregator, gatewayKey: gateway)
            let record = verified.record.record
            if json {
                let object: [String: Any] = [
                    "valid": true, "height": verified.header.height, "meter": record.meterID, "sequence": record.sequence,
                    "captureTimeMillis": record.captureTimeMillis, "gatewaySignatureChecked": gateway != nil,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print("valid: record \(record.meterID) #\(record.sequence) (captured \(formatTime(record.captureTimeMillis))) is in block \(verified.header.height)\(gateway == nil ? "; gateway signature not checked (no --gateway-key)" : ", signed by the gateway")")
            }
        } catch {
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: ["valid": false, "reason": "\(error)"], options: [.sortedKeys]), as: UTF8.self))
            } else {
                print("INVALID: \(error)")
            }
            throw ExitCode(1)
        }
    }
}
