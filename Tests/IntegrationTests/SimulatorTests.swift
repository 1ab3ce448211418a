import DeviceProfiles
import Foundation
import GridLedgerAgent
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import MeterSimulator
import ModbusCore
import ModbusTransport
import Testing

/// Our simulator, checked by a Modbus client we did not write (mbpoll) and by our own reader.
extension Integration {
    @Suite("Simulator read by mbpoll", .serialized)
    struct SimulatorTests {
        let fixed: [Quantity: ScaledValue] = [
            .voltageL1: ScaledValue(2305, exponent: -1),
            .energyActiveImportTotal: ScaledValue(12_345_000),
            .powerActiveTotal: ScaledValue(-20000, exponent: -1),
            .currentL1: ScaledValue(10),
            .frequency: ScaledValue(50),
        ]

        func mbpoll(_ arguments: [String]) async throws -> String {
            let result = try await ChildProcess.run(try TestEnvironment.tool("mbpoll"), ["-1", "-0"] + arguments, timeout: .seconds(20))
            #expect(result.status == 0, "mbpoll \(arguments): \(result.stdout) \(result.stderr)")
            return result.stdout
        }

        /// The value lines of mbpoll's output, e.g. `[72]: 	12345`.
        func values(_ output: String) -> [Int: String] {
            var result: [Int: String] = [:]
            for line in output.split(separator: "\n") where line.hasPrefix("[") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if let address = Int(parts[0].dropFirst().dropLast()) { result[address] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            return result
        }

        @Test func sdm630FloatsOverTCP() async throws {
            let simulator = try await SimulatorServer.start(.init(
                profile: try catalog.profile("eastron-sdm630"), endpoint: .tcp(host: "127.0.0.1", port: 0), generator: FixedValues(fixed)))
            let port = String(try #require(simulator.port))
            // -0: zero-based addresses; -B: high word first; -t 3:float: input registers as float32.
            let out = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "1", "-r", "0", "-c", "4", "-t", "3:float", "-B", "127.0.0.1"]))
            #expect(out[0] == "230.5")
            #expect(out[6] == "10")
            let energy = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "1", "-r", "70", "-c", "3", "-t", "3:float", "-B", "127.0.0.1"]))
            #expect(energy[70] == "50")
            #expect(energy[72] == "12345")  // kWh, as the SDM630 reports it
            let power = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "1", "-r", "52", "-c", "1", "-t", "3:float", "-B", "127.0.0.1"]))
            #expect(power[52] == "-2000")
            await simulator.stop()
        }

        /// Meters sharing a bus (a replay's household): each unit answers with its own registers,
        /// an absent unit not at all.
        @Test func twoMetersOnOneEndpointAnswerTheirOwnUnits() async throws {
            var second = fixed
            second[.energyActiveImportTotal] = ScaledValue(777_000)
            let simulator = try await SimulatorServer.start(.init(
                profile: try catalog.profile("eastron-sdm630"), endpoint: .tcp(host: "127.0.0.1", port: 0), unit: 1, generator: FixedValues(fixed),
                otherUnits: [.init(unit: 2, generator: FixedValues(second), serialNumber: 2)]))
            let port = String(try #require(simulator.port))
            let first = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "1", "-r", "72", "-c", "1", "-t", "3:float", "-B", "127.0.0.1"]))
            let other = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "2", "-r", "72", "-c", "1", "-t", "3:float", "-B", "127.0.0.1"]))
            #expect(first[72] == "12345" && other[72] == "777")
            let absent = try await ChildProcess.run(
                try TestEnvironment.tool("mbpoll"), ["-m", "tcp", "-p", port, "-a", "3", "-r", "72", "-c", "1", "-t", "3:float", "-B", "-1", "-o", "0.5", "127.0.0.1"],
                timeout: .seconds(20))
            #expect(!absent.stdout.contains("[72]:"), "unit 3 answered: \(absent.stdout)")
            await simulator.stop()
        }

        @Test func em340WordSwappedIntegersOverTCP() async throws {
            let profile = try catalog.profile("carlo-gavazzi-em340")
            let simulator = try await SimulatorServer.start(.init(profile: profile, endpoint: .tcp(host: "127.0.0.1", port: 0), generator: FixedValues(fixed)))
            let port = String(try #require(simulator.port))
            let voltage = try #require(profile.fields.first { $0.quantity == .voltageL1 })
            let energy = try #require(profile.fields.first { $0.quantity == .energyActiveImportTotal })
            // mbpoll's default 32-bit order is low word first, as the EM340 sends.
            let v = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "1", "-r", "\(voltage.location.address)", "-c", "1", "-t", "3:int", "127.0.0.1"]))
            #expect(v[Int(voltage.location.address)] == "2305")  // V × 10
            let e = values(try await mbpoll(["-m", "tcp", "-p", port, "-a", "1", "-r", "\(energy.location.address)", "-c", "1", "-t", "3:int", "127.0.0.1"]))
            #expect(e[Int(energy.location.address)] == "123450")  // kWh × 10
            await simulator.stop()
        }

        @Test func rtuSimulatorOnAPtyAnswersOnlyItsUnit() async throws {
            let pair = try await SerialPair()
            let simulator = try await SimulatorServer.start(.init(
                profile: try catalog.profile("eastron-sdm630"), endpoint: .rtu(.init(device: pair.serverPath)), unit: 5, generator: FixedValues(fixed)))
            let out = values(try await mbpoll(["-m", "rtu", "-b", "9600", "-P", "none", "-a", "5", "-r", "0", "-c", "1", "-t", "3:float", "-B", pair.clientPath]))
            #expect(out[0] == "230.5")
            let other = try await ChildProcess.run(try TestEnvironment.tool("mbpoll"), ["-1", "-0", "-m", "rtu", "-b", "9600", "-P", "none", "-a", "6", "-o", "0.3", "-r", "0", "-c", "1", "-t", "3:float", "-B", pair.clientPath], timeout: .seconds(20))
            #expect((other.stdout + other.stderr).contains("timed out"))
            await simulator.stop()
            await pair.stop()
        }

        @Test func ourReaderAgreesWithTheEncoderForEveryDeviceProfile() async throws {
            for profile in catalog.devices {
                let simulator = try await SimulatorServer.start(.init(profile: profile, endpoint: .tcp(host: "127.0.0.1", port: 0), generator: FixedValues(fixed)))
                let bus = try buildBus(BusConfiguration(name: "sim", endpoint: .tcp(host: "127.0.0.1", port: try #require(simulator.port)),
                                                        meters: [MeterConfiguration(name: "m", unit: 1, profile: profile.id)]), catalog: catalog)
                let reading = try #require(await bus.pollDueMetersIgnoringSchedule(clock: ManualClock()).first?.reading)
                #expect(reading.status == .complete, "\(profile.id): \(reading.problems)")
                for (quantity, value) in fixed where profile.fields.contains(where: { $0.quantity == quantity }) {
                    #expect(reading[quantity] == value, "\(profile.id): \(quantity.rawValue) = \(reading[quantity]?.description ?? "-")")
                }
                await simulator.stop()
            }
        }
    }
}
