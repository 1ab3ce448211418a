import Crypto
import Foundation
import GridLedgerCore
import GridLedgerRecords
import GridLedgerTestSupport
import LedgerCore
import LedgerStore
import Testing

/// The shipped executables as an operator uses them: `gridledger-aggregator keygen/identity/run
/// --check`, and `gridledger registry`, `verify`, `export`, `verify-proof` on a real database.
extension Integration {
    @Suite("Aggregator commands", .serialized)
    struct AggregatorCommandTests {
        static func aggregator(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger-aggregator"), arguments, timeout: .seconds(60))
        }

        static func gridledger(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger"), arguments, timeout: .seconds(60))
        }

        @Test func keygenIdentityAndCheck() async throws {
            let directory = try TemporaryDirectory()
            let config = try directory.write("aggregator.yaml", """
                stateDirectory: \(directory.path("state"))
                broker:
                  host: 127.0.0.1
                  port: 1883
                """)
            let created = try await Self.aggregator(["keygen", "--config", config])
            #expect(created.status == 0, "\(created.stderr)")
            let keyPath = directory.path("state/aggregator.key")
            #expect(try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int == 0o600)
            let again = try await Self.aggregator(["keygen", "--config", config])
            #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"), "\(again.stderr)")
            let identity = try await Self.aggregator(["identity", "--key", keyPath, "--json"])
            #expect(identity.status == 0 && identity.stdout.contains("publicKeyHex"), "\(identity.stderr)")
            let check = try await Self.aggregator(["run", "--config", config, "--check"])
            #expect(check.status == 0 && check.stdout.contains(": OK"), "\(check.stdout)\(check.stderr)")
            // A misspelt key names file, line and field.
            let bad = try directory.write("bad.yaml", "stateDirectory: /tmp/x\nbroker:\n  host: 127.0.0.1\nblock:\n  intervalSeconds: 1\n")
            let refused = try await Self.aggregator(["run", "--config", bad, "--check"])
            #expect(refused.status == 1 && refused.stderr.contains("bad.yaml:4") && refused.stderr.contains("unknown key 'block'"), "\(refused.stderr)")
        }

        /// Registry commands on a database, then a chain minted over it, verified, exported,
        /// verified from the export, tampered with, and one record's proof checked.
        @Test func registryVerifyExportAndProof() async throws {
            let directory = try TemporaryDirectory()
            let database = directory.path("ledger.db")
            let aggregatorKey = Curve25519.Signing.PrivateKey()
            let gatewayKey = Curve25519.Signing.PrivateKey()
            _ = try SQLiteLedgerStore(path: database, access: .aggregator(publicKey: Array(aggregatorKey.publicKey.rawRepresentation)))
            let meterID = "gw-01:bus0:1"
            for arguments in [
                ["registry", "add", "member", "--db", database, "--id", "alice", "--role", "prosumer", "--name", "Alice Example"],
                ["registry", "add", "key", "--db", database, "--gateway", "gw-01", "--public-key", Hex.encode(gatewayKey.publicKey.rawRepresentation), "--valid-from", "1970-01-01T00:00:01Z"],
                ["registry", "add", "meter", "--db", database, "--meter", meterID, "--gateway", "gw-01", "--member", "alice", "--role", "grid"],
            ] {
                let result = try await Self.gridledger(arguments)
                #expect(result.status == 0 && result.stdout.contains("pending"), "\(arguments): \(result.stderr)")
            }
            let refused = try await Self.gridledger(["registry", "add", "meter", "--db", database, "--meter", "gw-01:bus0:2", "--gateway", "gw-01", "--member", "bob", "--role", "pv"])
            #expect(refused.status == 1 && refused.stderr.contains("member 'bob' does not exist"), "\(refused.stderr)")
            let badRole = try await Self.gridledger(["registry", "add", "member", "--db", database, "--id", "x", "--role", "king", "--name", "X"])
            #expect(badRole.status == 64, "\(badRole.stderr)")

            // Mint what the aggregator would: the registry, then three linked records.
            let store = try SQLiteLedgerStore(path: database, access: .aggregator(publicKey: Array(aggregatorKey.publicKey.rawRepresentation)))
            let pending = try store.pendingRegistryEntries()
            let registryBlock = try Block.mint(height: 0, previousHash: ReadingRecord.zeroHash, timeMillis: 10_000, records: [],
                                               events: try pending.map { try LedgerEvent.registry($0.entry).encoded() }, key: aggregatorKey)
            try store.append(BlockCommit(block: registryBlock, recordKeys: [], heads: [:], registryEntryIDs: pending.map(\.id)))
            var previous = ReadingRecord.zeroHash
            var envelopes: [[UInt8]] = []
            for sequence in UInt64(1)...3 {
                let record = try ReadingRecord(
                    gatewayID: "gw-01", meterID: meterID, sequence: sequence, captureTimeMillis: 20_000 + Int64(sequence), flags: [],
                    profileID: "eastron-sdm630", status: .complete, previousHash: previous,
                    values: [GridLedgerCore.Measurement(.energyActiveImportTotal, ScaledValue(Int64(100 * sequence), exponent: 0))]).encoded()
                previous = ReadingRecord.hash(of: record)
                envelopes.append(try BatchSigner(gatewayID: "gw-01", key: gatewayKey).sign(records: [record], batchSequence: sequence, createdMillis: 20_000)[0].encoded())
            }
            let recordBlock = try Block.mint(height: 1, previousHash: registryBlock.header.hash, timeMillis: 21_000, records: envelopes, events: [], key: aggregatorKey)
            try store.append(BlockCommit(block: recordBlock, recordKeys: (1...3).map { (meterID, UInt64($0), 20_000 + Int64($0)) }, heads: [:]))

            let listed = try await Self.gridledger(["registry", "list", "--db", database])
            #expect(listed.status == 0 && listed.stdout.contains("alice  prosumer  Alice Example") && listed.stdout.contains(meterID), "\(listed.stdout)")

            let keyHex = Hex.encode(aggregatorKey.publicKey.rawRepresentation)
            let verified = try await Self.gridledger(["verify", "--db", database, "--aggregator-key", keyHex])
            #expect(verified.status == 0 && verified.stdout.contains("valid: 2 blocks, 3 records"), "\(verified.stdout)\(verified.stderr)")
            let wrongKey = try await Self.gridledger(["verify", "--db", database, "--aggregator-key", Hex.encode(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)])
            #expect(wrongKey.status == 1, "\(wrongKey.stdout)")

            let export = directory.path("chain.glchain")
            let exported = try await Self.gridledger(["export", "--db", database, "--output", export])
            #expect(exported.status == 0, "\(exported.stderr)")
            let fromExport = try await Self.gridledger(["verify", "--export", export, "--aggregator-key", keyHex, "--json"])
            #expect(fromExport.status == 0 && fromExport.stdout.contains("\"valid\":true"), "\(fromExport.stdout)\(fromExport.stderr)")

            // One flipped byte in the last record's value: reported exactly, non-zero exit.
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: export)))
            bytes[bytes.count - 80] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: directory.path("tampered.glchain")))
            let tampered = try await Self.gridledger(["verify", "--export", directory.path("tampered.glchain"), "--aggregator-key", keyHex, "--json"])
            #expect(tampered.status == 1 && tampered.stdout.contains("\"valid\":false") && tampered.stdout.contains("\"height\":1"), "\(tampered.stdout)")

            let proof = InclusionProof.make(block: recordBlock, index: 1)
            let proofPath = directory.path("proof.json")
            try JSONEncoder().encode(proof).write(to: URL(fileURLWithPath: proofPath))
            let good = try await Self.gridledger(["verify-proof", "--proof", proofPath, "--aggregator-key", keyHex, "--gateway-key", Hex.encode(gatewayKey.publicKey.rawRepresentation)])
            #expect(good.status == 0 && good.stdout.contains("#2") && good.stdout.contains("block 1"), "\(good.stdout)\(good.stderr)")
            let otherGateway = try await Self.gridledger(["verify-proof", "--proof", proofPath, "--aggregator-key", keyHex, "--gateway-key", Hex.encode(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)])
            #expect(otherGateway.status == 1 && otherGateway.stdout.contains("INVALID"), "\(otherGateway.stdout)")
        }

        @Test(.enabled(if: (try? TestEnvironment.tool("systemd-analyze")) != nil, "systemd-analyze is not installed"))
        func theSystemdUnitVerifies() async throws {
            let directory = try TemporaryDirectory()
            let unit = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("systemd/gridledger-aggregator.service"), encoding: .utf8)
            for directive in ["User=gridledger-aggregator", "StateDirectory=", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure", "--check"] {
                #expect(unit.contains(directive), "unit lacks \(directive)")
            }
            let path = try directory.write("gridledger-aggregator.service", unit.replacingOccurrences(of: "/usr/bin/gridledger-aggregator", with: try TestEnvironment.executable("gridledger-aggregator")))
            let result = try await ChildProcess.run(try TestEnvironment.tool("systemd-analyze"), ["verify", path], timeout: .seconds(60))
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(!result.stderr.contains("gridledger-aggregator.service"), "\(result.stderr)")
        }
    }
}
