import Foundation
import GridLedgerTestSupport
import Testing

/// `gridledger community generate` as an operator runs it: the file, its header and rows, the
/// summary, the refusal to overwrite, byte-identical reruns, and clear errors.
extension Integration {
    @Suite("Community command", .serialized)
    struct CommunityCommandTests {
        static func gridledger(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger"), arguments, timeout: .seconds(60))
        }

        static let arguments = ["community", "generate", "--seed", "42", "--households", "10", "--pv", "4", "--batteries", "2",
                                "--start", "2026-06-01", "--days", "1", "--pv-meters"]

        @Test func generatesTheTraceAndRefusesToOverwrite() async throws {
            let directory = try TemporaryDirectory()
            let output = directory.path("community.csv")
            let result = try await Self.gridledger(Self.arguments + ["--output", output])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("14 meters × 97 instants = 1358 rows"), "\(result.stdout)")
            #expect(result.stdout.contains("self-sufficiency"), "\(result.stdout)")
            let text = try String(contentsOfFile: output, encoding: .utf8)
            let lines = text.split(separator: "\n")
            let data = lines.filter { !$0.hasPrefix("#") }
            #expect(data.first == "timestamp,meter,import_wh,export_wh,power_w")
            #expect(data.count == 1 + 14 * 97)
            // 1 June local midnight in CEST is 22:00 UTC the day before; 24 h later the last rows.
            #expect(data[1].hasPrefix("2026-05-31T22:00:00Z,h01:grid,0,0,"), "\(data[1])")
            #expect(data.last?.hasPrefix("2026-06-01T22:00:00Z,h10:") == true, "\(data.last ?? "")")
            #expect(Set(data.dropFirst().map { $0.split(separator: ",")[1] }).count == 14)
            // The comment says how to make the file again.
            #expect(lines.contains { $0.hasPrefix("# gridledger community generate --seed 42 --households 10 --pv 4 --batteries 2") })

            // The trace reader accepts it.
            let check = try await Self.gridledger(["trace", "check", output])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

            let again = try await Self.gridledger(Self.arguments + ["--output", output])
            #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"), "\(again.stderr)")
            let forced = try await Self.gridledger(Self.arguments + ["--output", output, "--force"])
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(try String(contentsOfFile: output, encoding: .utf8) == text, "the same seed gives the same bytes")

            let other = directory.path("other.csv")
            var seed43 = Self.arguments
            seed43[3] = "43"
            let different = try await Self.gridledger(seed43 + ["--output", other])
            #expect(different.status == 0, "\(different.stderr)")
            #expect(try String(contentsOfFile: other, encoding: .utf8) != text)
        }

        @Test func explainsItselfAndRefusesBadOptions() async throws {
            let help = try await Self.gridledger(["community", "generate", "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("BDEW standard load profile H0") && help.stdout.contains("Examples:"), "\(help.stdout)")
            let directory = try TemporaryDirectory()
            let output = directory.path("x.csv")
            let cases: [([String], String)] = [
                (["--households", "0"], "--households: 0 is not in 1…10000"),
                (["--households", "3", "--pv", "4"], "--pv: 4 PV households"),
                (["--households", "3", "--pv", "2", "--batteries", "3"], "--batteries: 3 batteries"),
                (["--households", "3", "--resolution", "10"], "--resolution: 10 minutes"),
                (["--households", "3", "--start", "2026-02-30"], "--start '2026-02-30'"),
                (["--households", "3", "--time-zone", "mars"], "--time-zone 'mars'"),
                (["--households", "10000", "--days", "30"], "more than the trace format's 10000000"),
            ]
            for (options, message) in cases {
                var arguments = ["community", "generate", "--seed", "1", "--start", "2026-06-01", "--output", output]
                if let index = options.firstIndex(of: "--start") {
                    arguments[5] = options[index + 1]
                    arguments += options[..<index] + options[(index + 2)...]
                } else {
                    arguments += options
                }
                let result = try await Self.gridledger(arguments)
                #expect(result.status == 64 && result.stderr.contains(message), "\(options): \(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }
}
