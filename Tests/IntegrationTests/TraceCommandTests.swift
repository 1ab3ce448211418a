import Foundation
import GridLedgerTestSupport
import Testing

/// `gridledger trace import` and `trace check` as an operator runs them: the recorded OPSD house
/// (skipped when ../shared/traces is absent) and a generated power series.
extension Integration {
    @Suite("Trace commands", .serialized)
    struct TraceCommandTests {
        static func gridledger(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger"), arguments, timeout: .seconds(120))
        }

        static let opsdFile = TestEnvironment.repositoryRoot.appendingPathComponent("../shared/traces/opsd-residential4-60min.csv").standardizedFileURL.path

        /// `trace check --json` of `path`, parsed.
        static func checkJSON(_ path: String) async throws -> [String: Any] {
            let result = try await gridledger(["trace", "check", path, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }

        static func meter(_ summary: [String: Any], _ id: String) throws -> [String: Any] {
            let meters = try #require(summary["meters"] as? [[String: Any]])
            return try #require(meters.first { $0["meter"] as? String == id })
        }

        @Test(.enabled(if: FileManager.default.fileExists(atPath: opsdFile), "needs ../shared/traces/opsd-residential4-60min.csv"))
        func importsTheRecordedHouseAndChecksIt() async throws {
            let directory = try TemporaryDirectory()
            let output = directory.path("residential4.csv")
            let imported = try await Self.gridledger(["trace", "import", "--format", "opsd", Self.opsdFile, "--output", output])
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.contains("wrote \(output): 8 meters, 90059 samples from 11867 rows, 2015-10-04T01:00:00Z … 2017-02-09T11:00:00Z"), "\(imported.stdout)")
            #expect(imported.stdout.contains("DE_KN_residential4:grid: 11524 samples, 2015-10-11T19:00:00Z … 2017-02-09T11:00:00Z\n  import 77 → 6321393 Wh: 6321316 Wh (6321.316 kWh)\n  export 0 → 9563098 Wh: 9563098 Wh (9563.098 kWh)"), "\(imported.stdout)")

            let summary = try await Self.checkJSON(output)
            #expect(summary["valid"] as? Bool == true)
            #expect(summary["samples"] as? Int == 90059)
            #expect(summary["skipped"] as? Int == 0)
            let grid = try Self.meter(summary, "DE_KN_residential4:grid")
            #expect((grid["first"] as? [String: Any])?["importWh"] as? Int == 77)
            #expect((grid["last"] as? [String: Any])?["importWh"] as? Int == 6_321_393)
            #expect((grid["last"] as? [String: Any])?["exportWh"] as? Int == 9_563_098)
            #expect((grid["exported"] as? [String: Any])?["kWh"] as? String == "9563.098")
            let pv = try Self.meter(summary, "DE_KN_residential4:pv")
            #expect((pv["last"] as? [String: Any])?["exportWh"] as? Int == 12_336_971)

            // The output exists now: refused, unless --force.
            let again = try await Self.gridledger(["trace", "import", "--format", "opsd", Self.opsdFile, "--output", output, "--only", "grid"])
            #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"), "\(again.stderr)")
            let forced = try await Self.gridledger(["trace", "import", "--format", "opsd", Self.opsdFile, "--output", output, "--only", "grid", "--force"])
            #expect(forced.status == 0 && forced.stdout.contains("1 meter, 11524 samples"), "\(forced.stdout)\(forced.stderr)")
        }

        @Test func importsAPowerSeriesAndChecksIt() async throws {
            let directory = try TemporaryDirectory()
            // A day at 15 minutes: 1 kW by night, −2.5 kW (export) from 08:00 to 16:00.
            var csv = "timestamp,power_w\n"
            let start = Date(timeIntervalSince1970: 1_780_272_000)  // 2026-06-01T00:00:00Z
            let formatter = ISO8601DateFormatter()
            for step in 0..<96 {
                let hour = step / 4
                csv += "\(formatter.string(from: start.addingTimeInterval(Double(step) * 900))),\((8..<16).contains(hour) ? "-2500.0" : "1000")\n"
            }
            let input = try directory.write("series.csv", csv)
            let output = directory.path("trace.csv")
            let imported = try await Self.gridledger(["trace", "import", "--format", "power-series", input, "--meter", "house-7:grid", "-o", output])
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.contains("1 meter, 97 samples from 96 rows, 2026-06-01T00:00:00Z … 2026-06-02T00:00:00Z"), "\(imported.stdout)")
            // 16 h at 1 kW = 16 kWh imported, 8 h at 2.5 kW = 20 kWh exported.
            #expect(imported.stdout.contains("import 0 → 16000 Wh: 16000 Wh (16.000 kWh)"), "\(imported.stdout)")
            #expect(imported.stdout.contains("export 0 → 20000 Wh: 20000 Wh (20.000 kWh)"), "\(imported.stdout)")

            let check = try await Self.gridledger(["trace", "check", output])
            #expect(check.status == 0 && check.stdout.hasPrefix("\(output): valid, 1 meter, 97 samples from 97 rows"), "\(check.stdout)\(check.stderr)")
            let summary = try await Self.checkJSON(output)
            let meter = try Self.meter(summary, "house-7:grid")
            #expect((meter["imported"] as? [String: Any])?["wh"] as? Int == 16000)
            #expect((meter["exported"] as? [String: Any])?["wh"] as? Int == 20000)
            #expect(summary["columns"] as? [String] == ["timestamp", "meter", "import_wh", "export_wh", "power_w"])
        }

        @Test func badInputsNameLineAndFieldAndOptionsAreChecked() async throws {
            let directory = try TemporaryDirectory()
            let series = try directory.write("series.csv", "timestamp,power_w\n2026-06-01T00:00:00Z,100\n2026-06-01T00:15:00Z,1O0\n2026-06-01T00:30:00Z,100\n")
            let output = directory.path("out.csv")
            let refused = try await Self.gridledger(["trace", "import", "--format", "power-series", series, "--meter", "m", "-o", output])
            #expect(refused.status == 1 && refused.stderr.contains("line 3: power_w: '1O0' is not a decimal number of W"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
            // Skipping the second row hides the step: it has to be given.
            let hidden = try await Self.gridledger(["trace", "import", "--format", "power-series", series, "--meter", "m", "-o", output, "--skip-bad"])
            #expect(hidden.status == 1 && hidden.stderr.contains("line 4: step:") && hidden.stderr.contains("--step 900"), "\(hidden.stderr)")
            let skipped = try await Self.gridledger(["trace", "import", "--format", "power-series", series, "--meter", "m", "-o", output, "--skip-bad", "--step", "900"])
            #expect(skipped.status == 0 && skipped.stdout.contains("skipped 1:\n  line 3: power_w:"), "\(skipped.stdout)\(skipped.stderr)")

            let noMeter = try await Self.gridledger(["trace", "import", "--format", "power-series", series, "-o", directory.path("x.csv")])
            #expect(noMeter.status == 64 && noMeter.stderr.contains("needs --meter"), "\(noMeter.stderr)")
            let badMeter = try await Self.gridledger(["trace", "import", "--format", "power-series", series, "--meter", "a b", "-o", directory.path("x.csv")])
            #expect(badMeter.status == 64 && badMeter.stderr.contains("--meter 'a b'"), "\(badMeter.stderr)")

            let trace = try directory.write("trace.csv", "timestamp,meter,import_wh,export_wh\n2026-06-01T00:00:00Z,m,10,0\n2026-06-01T00:15:00Z,m,9,0\n")
            let check = try await Self.gridledger(["trace", "check", trace])
            #expect(check.status == 1 && check.stderr.contains("line 3: import_wh: 9 Wh is less than 10 Wh on line 2"), "\(check.stderr)")
            let json = try await Self.gridledger(["trace", "check", trace, "--json"])
            #expect(json.status == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["valid"] as? Bool == false)
            #expect((object["error"] as? [String: Any])?["line"] as? Int == 3)
            #expect((object["error"] as? [String: Any])?["field"] as? String == "import_wh")
            let lenient = try await Self.gridledger(["trace", "check", trace, "--skip-bad"])
            #expect(lenient.status == 0 && lenient.stdout.contains("skipped 1:"), "\(lenient.stdout)")

            let missing = try await Self.gridledger(["trace", "check", directory.path("nothing.csv")])
            #expect(missing.status == 1 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        }
    }
}
