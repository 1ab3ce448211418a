import Foundation
import GridLedgerTestSupport
import Testing

/// The shipped `gridledger-agent` executable: key commands, configuration checking, and the
/// systemd unit that runs it.
extension Integration {
    @Suite("Agent commands")
    struct AgentCommandTests {
        func agent(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger-agent"), arguments, timeout: .seconds(30))
        }

        @Test func keygenThenIdentityPrintTheSameKeyAndKeygenNeverOverwrites() async throws {
            let directory = try TemporaryDirectory()
            let key = directory.path("state/gateway.key")
            let created = try await agent(["keygen", "--key", key, "--gateway", "gw-7"])
            #expect(created.status == 0, "\(created.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let identity = try await agent(["identity", "--key", key, "--gateway", "gw-7", "--json"])
            #expect(identity.status == 0, "\(identity.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(identity.stdout.utf8)) as? [String: String]
            let hex = try #require(json?["publicKeyHex"])
            #expect(hex.count == 64)
            #expect(json?["gateway"] == "gw-7")
            #expect(created.stdout.contains(hex), "keygen printed another key than identity")
            let again = try await agent(["keygen", "--key", key])
            #expect(again.status == 1)
            #expect(again.stderr.contains("refusing to overwrite"))
            let unchanged = try await agent(["identity", "--key", key, "--json"])
            #expect(unchanged.stdout.contains(hex))
        }

        @Test func runCheckReportsConfigurationErrorsWithFileLineAndField() async throws {
            let directory = try TemporaryDirectory()
            let config = try directory.write("agent.yaml", """
                gateway: gw-1
                stateDirectory: \(directory.path("state"))
                profiles: \(TestEnvironment.profilesDirectory.path)
                broker:
                  host: 127.0.0.1
                buses:
                  - name: b
                    endpoint: tcp://127.0.0.1:1502
                    meters:
                      - unit: 1
                        profile: eastron-sdm630
                        role: grid
                        intervall: 5
                """)
            let bad = try await agent(["run", "--config", config, "--check"])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("\(config):13: buses[0].meters[0].intervall: unknown key 'intervall'"), "\(bad.stderr)")

            try directory.write("agent.yaml", try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "    intervall: 5", with: "    intervalSeconds: 5")
                .replacingOccurrences(of: "eastron-sdm630", with: "no-such-meter"))
            let unknownProfile = try await agent(["run", "--config", config, "--check"])
            #expect(unknownProfile.status == 1)
            #expect(unknownProfile.stderr.contains("buses[0].meters[0].profile"), "\(unknownProfile.stderr)")

            try directory.write("agent.yaml", try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "no-such-meter", with: "eastron-sdm630"))
            let noKey = try await agent(["run", "--config", config, "--check"])
            #expect(noKey.status == 1)
            #expect(noKey.stderr.contains("gridledger-agent keygen"), "\(noKey.stderr)")
            #expect(try await agent(["keygen", "--config", config]).status == 0)
            let good = try await agent(["run", "--config", config, "--check"])
            #expect(good.status == 0, "\(good.stderr)")
            #expect(good.stdout.contains("gateway gw-1, 1 bus(es), 1 meter(s)"))
        }

        /// `systemd-analyze verify` checks the unit's syntax and directives; the ExecStart path
        /// is pointed at the built binary because /usr/bin has none here.
        @Test(.enabled(if: (try? TestEnvironment.tool("systemd-analyze")) != nil, "systemd-analyze is not installed"))
        func theSystemdUnitVerifies() async throws {
            let directory = try TemporaryDirectory()
            let unit = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("systemd/gridledger-agent.service"), encoding: .utf8)
            for directive in ["Type=notify", "WatchdogSec=", "User=gridledger", "SupplementaryGroups=dialout", "StateDirectory=", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure"] {
                #expect(unit.contains(directive), "unit lacks \(directive)")
            }
            let path = try directory.write("gridledger-agent.service", unit.replacingOccurrences(of: "/usr/bin/gridledger-agent", with: try TestEnvironment.executable("gridledger-agent")))
            let result = try await ChildProcess.run(try TestEnvironment.tool("systemd-analyze"), ["verify", path], timeout: .seconds(60))
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(!result.stderr.contains("gridledger-agent.service"), "\(result.stderr)")
        }
    }
}
