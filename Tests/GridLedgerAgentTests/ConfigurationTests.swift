import GridLedgerTestSupport
import Testing

@testable import GridLedgerAgent

@Suite struct ConfigurationTests {
    static let valid = """
        gateway: gw-1
        stateDirectory: /var/lib/gl
        broker:
          host: mqtt.example.net
          username: gw-1
          passwordFile: /etc/gridledger/password
          tls:
            caFile: /etc/gridledger/ca.pem
        outbox:
          bound: 5000
        buses:
          - name: house
            endpoint: rtu:///dev/ttyUSB0?baud=19200&parity=E
            meters:
              - name: grid
                unit: 1
                profile: eastron-sdm630
                role: grid
              - unit: 2
                profile: eastron-sdm120
                role: pv
                invert: true
                intervalSeconds: 5
          - name: inverter
            endpoint: 192.0.2.10:502
            meters:
              - unit: 126
                profile: sunspec
                role: pv
        """

    @Test func aCompleteFileParsesWithItsDefaults() throws {
        let configuration = try AgentConfiguration.parse(yaml: Self.valid, file: "agent.yaml")
        #expect(configuration.gatewayID == "gw-1")
        #expect(configuration.keyFile == "/var/lib/gl/gateway.key")
        #expect(configuration.outboxPath == "/var/lib/gl/outbox.sqlite")
        #expect(configuration.broker.port == 8883)  // TLS default
        #expect(configuration.broker.tls?.verifyHostname == true)
        #expect(configuration.outbox.bound == 5000)
        #expect(configuration.outbox.republishAfterMillis == 300_000)
        #expect(configuration.outbox.recordsPerMessage == 64)
        #expect(configuration.buses.count == 2)
        let house = configuration.buses[0]
        #expect(house.meters.map(\.role) == [.grid, .pv])
        #expect(house.meters[1].invert)
        #expect(house.meters[1].name == "unit2")
        #expect(house.bus.meters[1].pollIntervalMillis == 5000)
        #expect(house.bus.endpoint == .rtu(.init(device: "/dev/ttyUSB0", baud: 19200, parity: .even)))
        #expect(configuration.buses[1].bus.endpoint == .tcp(host: "192.0.2.10", port: 502))
    }

    @Test(arguments: [
        ("gatewy: gw-1", "agent.yaml:1: gatewy: unknown key 'gatewy'"),
        ("gateway: gw/1", "agent.yaml:1: gateway: 'gw/1' must be 1…32 characters"),
        ("gateway: gw:1", "agent.yaml:1: gateway: 'gw:1' must be 1…32 characters"),
    ])
    func topLevelErrorsNameTheLineAndField(replacement: String, expected: String) {
        let yaml = Self.valid.replacingOccurrences(of: "gateway: gw-1", with: replacement)
        do {
            _ = try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml")
            Issue.record("accepted: \(replacement)")
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error.description)")
        }
    }

    @Test func nestedErrorsNameTheirPath() {
        let cases: [(String, String, String)] = [
            ("unit: 2", "unit: 300", "agent.yaml:19: buses[0].meters[1].unit: 300 is outside 1…247"),
            ("role: pv\n        invert", "role: sun\n        invert", "agent.yaml:21: buses[0].meters[1].role: role must be one of grid, pv, battery, load"),
            ("invert: true", "invert: maybe", "agent.yaml:22: buses[0].meters[1].invert: 'maybe' is not true or false"),
            ("intervalSeconds: 5", "intervalSeconds: 0.01", "agent.yaml:23: buses[0].meters[1].intervalSeconds: 0.01 s is outside"),
            ("baud=19200", "baud=12345", "agent.yaml:13: buses[0].endpoint:"),
            ("caFile: /etc", "caFile: etc", "agent.yaml:8: broker.tls.caFile: 'etc/gridledger/ca.pem' must be an absolute path"),
            ("bound: 5000", "bound: 5", "agent.yaml:10: outbox.bound: 5 is outside 100…10000000"),
            ("bound: 5000", "bound: 5000\n  recordsPerMessage: 300", "agent.yaml:11: outbox.recordsPerMessage: 300 is outside 1…256"),
            ("bound: 5000", "bound: 5000\n  recordsPerMessage: 0", "agent.yaml:11: outbox.recordsPerMessage: 0 is outside 1…256"),
            ("unit: 2", "unit: 1", "agent.yaml:19: buses[0].meters[1].unit: unit 1 is used twice on bus 'house'"),
            ("- name: inverter", "- name: house", "agent.yaml:24: buses[1]: bus name 'house' is used twice"),
            ("  username: gw-1\n", "", "agent.yaml:4: broker: passwordFile needs a username"),
        ]
        for (original, replacement, expected) in cases {
            #expect(Self.valid.contains(original), "fixture lacks \(original)")
            let yaml = Self.valid.replacingOccurrences(of: original, with: replacement)
            do {
                _ = try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml")
                Issue.record("accepted: \(replacement)")
            } catch {
                #expect(error.description.hasPrefix(expected), "got \(error.description), expected \(expected)")
            }
        }
    }

    @Test func missingFileAndBadYAMLAreReported() {
        #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(path: "/nonexistent/agent.yaml") }
        do {
            _ = try AgentConfiguration.parse(yaml: "gateway: [unclosed", file: "bad.yaml")
            Issue.record("accepted invalid YAML")
        } catch {
            #expect(error.description.hasPrefix("bad.yaml:"))
            #expect(error.description.contains("invalid YAML"))
        }
    }
}

@Suite struct ShippedFilesTests {
    /// The example in deploy/ is what operators copy: it must stay valid.
    @Test func theExampleConfigurationParses() throws {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent("deploy/agent.example.yaml").path
        let configuration = try AgentConfiguration.load(path: path)
        #expect(configuration.gatewayID == "gw-example-01")
        #expect(configuration.buses.flatMap(\.meters).count == 3)
        #expect(configuration.broker.tls?.certificateFile != nil)
    }
}
