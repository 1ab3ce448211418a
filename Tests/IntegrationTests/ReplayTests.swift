import Foundation
import GridLedgerTestSupport
import LedgerStore
import Testing
import Traces

/// `gridledger replay` as an operator runs it: simulated meters, real agents, a real mosquitto
/// and the aggregator, on trace time. Exactness against a recorded house (skipped when
/// ../shared/traces is absent), and determinism of the settlements across runs and speeds.
extension Integration {
    @Suite("Trace replay", .serialized)
    struct ReplayTests {
        static func gridledger(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger"), arguments, timeout: .seconds(300))
        }

        /// Replays into `workDirectory` and returns the JSON summary.
        static func replay(_ arguments: [String], workDirectory: String) async throws -> [String: Any] {
            let result = try await gridledger(["replay"] + arguments + ["--work-dir", workDirectory, "--json", "--quiet"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        }

        /// Every settlement event of the ledger, in chain order.
        static func settlementPayloads(_ database: String) throws -> [[UInt8]] {
            try SQLiteLedgerStore(path: database, access: .readOnly).settlementPayloads(fromMillis: 0, toMillis: .max)
        }

        @Test(.enabled(if: FileManager.default.fileExists(atPath: TraceCommandTests.opsdFile), "needs ../shared/traces/opsd-residential4-60min.csv"))
        func theRecordedHouseIsBilledExactlyItsRegisterDifferencesAtTwoSpeeds() async throws {
            let directory = try TemporaryDirectory()
            let trace = directory.path("house.csv")
            let imported = try await Self.gridledger(["trace", "import", "--format", "opsd", TraceCommandTests.opsdFile, "--output", trace, "--only", "grid"])
            #expect(imported.status == 0, "\(imported.stderr)")

            // Two days across a billing period's end (2016-12-31T23:00Z in Europe/Berlin), with
            // registers above 9.4 MWh, which a float32 kWh register could not hold to the Wh.
            let (from, to) = ("2016-12-30T00:00:00Z", "2017-01-01T00:00:00Z")
            let samples = try Trace.parse(Array(try #require(FileManager.default.contents(atPath: trace)))).samples
            let first = try #require(samples.first { $0.millis == TraceTime.millis(rfc3339: from) })
            let last = try #require(samples.first { $0.millis == TraceTime.millis(rfc3339: to) })
            let (importWh, exportWh) = (last.importWh - first.importWh, last.exportWh - first.exportWh)
            #expect(first.exportWh > 9_400_000 && exportWh > 0 && importWh > 0)

            var settlements: [[[UInt8]]] = []
            for (index, pace) in [["--as-fast-as-possible"], ["--speed", "72000x"]].enumerated() {
                let work = directory.path("run-\(index)")
                let summary = try await Self.replay(
                    ["--trace", trace, "--profile", "shelly-pro-3em", "--from", from, "--to", to] + pace, workDirectory: work)
                #expect(summary["valid"] as? Bool == true && summary["refused"] as? [String: Int] == [:], "\(summary)")
                #expect(summary["steps"] as? Int == 49 && summary["records"] as? Int == 49, "\(summary)")
                let database = try #require(summary["database"] as? String)

                // The invoices, as `gridledger invoice` makes them from the ledger alone.
                var billedImport = 0
                var billedExport = 0
                for period in ["2016-12", "2017-01"] {
                    let invoice = try await Self.gridledger(["invoice", "--db", database, "--member", "DE_KN_residential4", "--period", period, "--format", "json"])
                    #expect(invoice.status == 0, "\(period): \(invoice.stderr)")
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(invoice.stdout.utf8)) as? [String: Any])
                    let energy = try #require(object["energy"] as? [String: Any])
                    billedImport += try #require((energy["imported"] as? [String: Any])?["wh"] as? Int)
                    billedExport += try #require((energy["exported"] as? [String: Any])?["wh"] as? Int)
                }
                #expect(Int64(billedImport) == importWh, "run \(index): billed \(billedImport) Wh, registers moved \(importWh) Wh")
                #expect(Int64(billedExport) == exportWh, "run \(index): billed \(billedExport) Wh, registers moved \(exportWh) Wh")
                settlements.append(try Self.settlementPayloads(database))
            }
            #expect(settlements[0].count == 192, "48 hours of quarter hours")
            #expect(settlements[0] == settlements[1], "the same settlements at both speeds")
        }

        @Test func aGeneratedCommunityReplaysToByteIdenticalSettlements() async throws {
            let directory = try TemporaryDirectory()
            let trace = directory.path("community.csv")
            let generated = try await Self.gridledger([
                "community", "generate", "--seed", "7", "--households", "4", "--pv", "2", "--batteries", "1", "--start", "2026-06-01",
                "--pv-meters", "--output", trace,
            ])
            #expect(generated.status == 0, "\(generated.stderr)")

            var runs: [(summary: [String: Any], settlements: [[UInt8]])] = []
            for (index, pace) in [["--as-fast-as-possible"], ["--speed", "360000x"]].enumerated() {
                let summary = try await Self.replay(["--trace", trace] + pace, workDirectory: directory.path("run-\(index)"))
                #expect(summary["valid"] as? Bool == true && summary["traceMatches"] as? Bool == true, "\(summary)")
                #expect(summary["households"] as? Int == 4 && summary["meters"] as? Int == 6, "four grid meters and two PV meters")
                runs.append((summary, try Self.settlementPayloads(try #require(summary["database"] as? String))))
            }
            #expect(runs[0].settlements.count == 96, "a day of quarter hours")
            #expect(runs[0].settlements == runs[1].settlements, "byte-identical settlements")
            let invoices = runs.map { try? JSONSerialization.data(withJSONObject: $0.summary["invoices"] ?? [], options: [.sortedKeys]) }
            #expect(invoices[0] != nil && invoices[0] == invoices[1], "the same invoices")

            // The community shares energy: the PV households' surplus reaches the others.
            let members = try #require(runs[0].summary["members"] as? [[String: Any]])
            #expect(members.contains { ($0["toCommunityWh"] as? Int ?? 0) > 0 } && members.contains { ($0["fromCommunityWh"] as? Int ?? 0) > 0 })
        }

        @Test func aReplayRefusesBadInputClearly() async throws {
            let directory = try TemporaryDirectory()
            let trace = try directory.write("t.csv", "timestamp,meter,import_wh,export_wh\n2026-06-01T00:00:00Z,h1:grid,10,0\n2026-06-01T00:15:00Z,h1:grid,20,0\n")
            let outside = try await Self.gridledger(["replay", "--trace", trace, "--from", "2027-01-01T00:00:00Z", "--days", "1"])
            #expect(outside.status == 1 && outside.stderr.contains("outside the trace (2026-06-01T00:00:00Z … 2026-06-01T00:15:00Z)"), "\(outside.stderr)")
            let backwards = try await Self.gridledger(["replay", "--trace", trace, "--from", "2027-01-01T00:00:00Z"])
            #expect(backwards.status == 1 && backwards.stderr.contains("would end (2026-06-01T00:15:00Z) before it starts"), "\(backwards.stderr)")
            let profile = try await Self.gridledger(["replay", "--trace", trace, "--profile", "sunspec-203"])
            #expect(profile.status == 1 && profile.stderr.contains("SunSpec model"), "\(profile.stderr)")
            let speed = try await Self.gridledger(["replay", "--trace", trace, "--speed", "fast"])
            #expect(speed.status == 64 && speed.stderr.contains("--speed 'fast'"), "\(speed.stderr)")
            let busy = directory.path("busy")
            try FileManager.default.createDirectory(atPath: busy, withIntermediateDirectories: false)
            _ = try directory.write("busy/x", "")
            let notEmpty = try await Self.gridledger(["replay", "--trace", trace, "--work-dir", busy])
            #expect(notEmpty.status == 1 && notEmpty.stderr.contains("is not empty"), "\(notEmpty.stderr)")
        }
    }
}
