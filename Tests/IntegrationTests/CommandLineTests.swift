import Foundation
import GridLedgerTestSupport
import ModbusCore
import Testing

/// The shipped executables, run as a user would: bad input gets a clear message and a non-zero
/// exit status, never a crash.
extension Integration {
    @Suite("Command line", .serialized)
    struct CommandLineTests {
        func agent(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger-agent"), arguments + ["--profiles", TestEnvironment.profilesDirectory.path], timeout: .seconds(30))
        }

        func tool(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(try TestEnvironment.executable("gridledger"), arguments, timeout: .seconds(30))
        }

        /// A loopback port with nothing listening.
        func closedPort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var size = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) } }
            return Int(UInt16(bigEndian: address.sin_port))  // bound, never listening, then closed
        }

        @Test func everySubcommandHasHelpWithExamples() async throws {
            for arguments in [["read", "--help"], ["scan", "--help"]] {
                let result = try await ChildProcess.run(try TestEnvironment.executable("gridledger-agent"), arguments)
                #expect(result.status == 0)
                #expect(result.stdout.contains("Examples:"))
            }
            let simulate = try await tool(["simulate-meter", "--help"])
            #expect(simulate.status == 0)
            #expect(simulate.stdout.contains("Examples:"))
        }

        @Test func unknownProfile() async throws {
            let result = try await agent(["read", "--profile", "no-such-meter", "--tcp", "127.0.0.1:1502"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("unknown profile 'no-such-meter'"))
            #expect(result.stderr.contains("eastron-sdm630"))  // lists the known ones
        }

        @Test func invalidProfileFileIsNamedWithItsLine() async throws {
            let directory = try TemporaryDirectory()
            try directory.write("broken.yaml", "id: broken\nmanufacturer: X\nmodel: Y\nkind: meter\nsource: [{title: t}]\nfields:\n  - {quantity: voltage.l1, address: 0, unit: V, type: float32, function: input, scale: 3}\n")
            let result = try await ChildProcess.run(try TestEnvironment.executable("gridledger-agent"), ["read", "--profile", "broken", "--tcp", "127.0.0.1:1502", "--profiles", directory.url.path])
            #expect(result.status == 1)
            #expect(result.stderr.contains("broken.yaml:7: fields[0] (voltage.l1).scale"), "\(result.stderr)")
            let unparsable = try TemporaryDirectory()
            try unparsable.write("bad.yaml", "id: bad\nfields: [\n  - {quantity\n")
            let yaml = try await ChildProcess.run(try TestEnvironment.executable("gridledger-agent"), ["read", "--profile", "bad", "--tcp", "127.0.0.1:1502", "--profiles", unparsable.url.path])
            #expect(yaml.status == 1)
            #expect(yaml.stderr.contains("bad.yaml:"))
            #expect(yaml.stderr.contains("invalid YAML"))
        }

        @Test func unreachableHost() async throws {
            let result = try await agent(["read", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:\(try closedPort())", "--timeout", "300"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("failed"))
            #expect(result.stderr.lowercased().contains("connection refused"), "\(result.stderr)")
        }

        @Test func badOptionsAreUsageErrors() async throws {
            for arguments in [
                ["read", "--profile", "eastron-sdm630"],  // no endpoint
                ["read", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:1", "--unit", "300"],
                ["read", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:99999"],
                ["read", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:0"],
                ["scan", "--tcp", "127.0.0.1:1", "--units", "0-300"],
                ["read", "--profile", "eastron-sdm630", "--rtu", "/dev/ttyX", "--parity", "Q"],
            ] {
                let result = try await agent(arguments)
                #expect(result.status == 64, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("Error:"), "\(arguments)")
            }
        }

        @Test func wrongUnitAndExceptionResponsesFromPymodbus() async throws {
            var unit = ModbusPeer.Unit()
            unit.set(.input, 0, [0x4366, 0x8000])  // only voltage L1 exists
            let peer = try await ModbusPeer.tcp(units: [1: unit])
            let port = try #require(peer.port)
            // Unit 9 does not exist behind this "gateway": exception 11.
            let wrongUnit = try await agent(["read", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:\(port)", "--unit", "9"])
            #expect(wrongUnit.status == 1)
            #expect(wrongUnit.stderr.contains("exception 11"), "\(wrongUnit.stderr)")
            // Unit 1 refuses most registers: a partial reading, still printed, exit 0.
            let partial = try await agent(["read", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:\(port)", "--unit", "1", "--json"])
            #expect(partial.status == 0, "\(partial.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(partial.stdout.utf8)) as? [String: Any]
            #expect(json?["status"] as? String == "partial")
            let values = json?["values"] as? [[String: Any]]
            #expect(values?.count == 1)
            #expect((values?.first?["value"] as? NSNumber)?.doubleValue == 230.5)
            #expect((json?["problems"] as? [String])?.first?.contains("exception 2") == true)
            await peer.stop()
        }

        @Test func deadUnitOnAnRTUBusTimesOut() async throws {
            let pair = try await SerialPair()
            let peer = try await ModbusPeer.rtu(device: pair.serverPath, units: [1: ModbusPeer.Unit()], silentUnits: [4])
            let result = try await agent(["read", "--profile", "eastron-sdm630", "--rtu", pair.clientPath, "--unit", "4", "--timeout", "200"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("no answer from the device"), "\(result.stderr)")
            await peer.stop()
            await pair.stop()
        }

        @Test func scanFindsSimulatedDevicesAndSunSpec() async throws {
            let simulator = try ChildProcess(try TestEnvironment.executable("gridledger"), ["simulate-meter", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:0", "--profiles", TestEnvironment.profilesDirectory.path, "--unit", "3", "--serial", "4242"])
            let line = try await simulator.waitForLine(startingWith: "serving")
            let port = try #require(line.split(separator: ":").last.flatMap { Int($0.split(separator: " ")[0]) })
            let result = try await agent(["scan", "--tcp", "127.0.0.1:\(port)", "--units", "1-4", "--timeout", "200"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("3     eastron-sdm630  4242"), "\(result.stdout)")
            #expect(result.stdout.contains("{unit: 3, profile: eastron-sdm630}"))
            #expect(!result.stdout.contains("{unit: 1,"))
            #expect(await simulator.stop() == 0)  // graceful shutdown on SIGTERM
        }

        @Test func simulatorRefusesAPortInUse() async throws {
            let first = try ChildProcess(try TestEnvironment.executable("gridledger"), ["simulate-meter", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:0", "--profiles", TestEnvironment.profilesDirectory.path])
            let line = try await first.waitForLine(startingWith: "serving")
            let port = try #require(line.split(separator: ":").last.flatMap { Int($0) })
            let second = try await tool(["simulate-meter", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:\(port)", "--profiles", TestEnvironment.profilesDirectory.path])
            #expect(second.status == 1)
            #expect(second.stderr.contains("cannot serve"), "\(second.stderr)")
            let sunspecModel = try await tool(["simulate-meter", "--profile", "sunspec-103", "--tcp", "127.0.0.1:0", "--profiles", TestEnvironment.profilesDirectory.path])
            #expect(sunspecModel.status == 1)
            #expect(sunspecModel.stderr.contains("SunSpec model"))
            let badValue = try await tool(["simulate-meter", "--profile", "eastron-sdm630", "--tcp", "127.0.0.1:0", "--value", "voltage.l1=abc"])
            #expect(badValue.status == 64)
            #expect(await first.stop() == 0)
        }
    }
}
