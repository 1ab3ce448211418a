import DeviceProfiles
import GridLedgerCore
import MeterPolling
import ModbusCore
import Testing

/// Model 103 data (50 registers) for a 3-phase inverter producing 5 kW:
/// currents 7.25 A (A_SF −2), voltages 230.1 V (V_SF −1), W 5000 (W_SF 0), 50.01 Hz (Hz_SF −2),
/// energy 1 234 567 Wh (acc32, WH_SF 0), PF 99 % (PF_SF 0), DC power not implemented (0x8000).
func model103() -> [UInt16] {
    var data = [UInt16](repeating: 0, count: 50)
    data[0] = 2175; data[1] = 725; data[2] = 725; data[3] = 725; data[4] = UInt16(bitPattern: -2)
    for i in 5...10 { data[i] = 2301 }
    data[11] = UInt16(bitPattern: -1)
    data[12] = 5000; data[13] = 0
    data[14] = 5001; data[15] = UInt16(bitPattern: -2)
    data[16] = 5050; data[17] = 0; data[18] = 300; data[19] = 0
    data[20] = 99; data[21] = 0
    data[22] = 0x0012; data[23] = 0xD687; data[24] = 0
    data[25] = 0xFFFF; data[26] = 0; data[27] = 0xFFFF; data[28] = 0; data[29] = 0x8000; data[30] = 0
    data[31] = 350; data[35] = UInt16(bitPattern: -1)
    return data
}

func model1() -> [UInt16] {
    RegisterCodec.encodeString("Fronius", count: 16) + RegisterCodec.encodeString("Symo 5.0-3-M", count: 16)
        + RegisterCodec.encodeString("", count: 8) + RegisterCodec.encodeString("1.2", count: 8)
        + RegisterCodec.encodeString("31415926", count: 16) + [1]
}

@Suite("SunSpec discovery")
struct SunSpecTests {
    @Test(arguments: [UInt16(40000), 50000, 0])
    func findsTheMarkerAtEachBase(base: UInt16) throws {
        var device = FakeLine.Device(strict: true)
        let addresses = SunSpecBuilder(base: base, models: [(1, model1()), (103, model103())]).write(into: &device)
        var line = FakeLine(devices: [126: device])
        let map = try #require(try SunSpecDiscovery.discover(unit: 126, reader: &line))
        #expect(map.baseAddress == base)
        #expect(map.models.map(\.id) == [1, 103])
        #expect(map.models[1].dataAddress == addresses[103])
        #expect(map.models[0].length == 65)
    }

    @Test func chainEndingWithAnExceptionInsteadOfTheEndMarker() throws {
        var device = FakeLine.Device(strict: true)
        _ = SunSpecBuilder(models: [(1, model1()), (103, model103())], endMarker: false).write(into: &device)
        var line = FakeLine(devices: [1: device])
        let map = try #require(try SunSpecDiscovery.discover(unit: 1, reader: &line))
        #expect(map.models.map(\.id) == [1, 103])
    }

    @Test func noMarkerMeansNoSunSpec() throws {
        var device = FakeLine.Device(strict: false)
        device.set(.holding, 40000, [0, 0])
        var line = FakeLine(devices: [1: device])
        #expect(try SunSpecDiscovery.discover(unit: 1, reader: &line) == nil)
    }

    @Test func silentDeviceThrowsWithoutTryingEveryBase() {
        var line = FakeLine()
        #expect(throws: ModbusError.self) { try SunSpecDiscovery.discover(unit: 1, reader: &line) }
        #expect(line.log.count == 1)
    }

    @Test func sessionReadsDiscoveredModelsWithScaleFactors() throws {
        var device = FakeLine.Device(strict: true)
        _ = SunSpecBuilder(models: [(1, model1()), (103, model103())]).write(into: &device)
        var line = FakeLine(devices: [126: device])
        var session = MeterSession(name: "inverter", unit: 126, choice: .sunspec(catalog))
        let reading = session.poll(reader: &line, captureMillis: 0)
        #expect(reading.status == .complete, "\(reading.problems)")
        #expect(reading.profileID == "sunspec:1,103")
        #expect(reading[.currentL1] == ScaledValue(725, exponent: -2))
        #expect(reading[.voltageL1] == ScaledValue(2301, exponent: -1))
        #expect(reading[.powerActiveTotal] == ScaledValue(-5000))  // production is export
        #expect(reading[.frequency] == ScaledValue(5001, exponent: -2))
        #expect(reading[.energyActiveExportTotal] == ScaledValue(1_234_567))
        #expect(reading[.powerFactorTotal] == ScaledValue(99, exponent: -2))
        #expect(reading.notImplemented.contains(.dcPower))
        #expect(reading[.dcPower] == nil)
        let discoveryRequests = line.log.count
        // The next poll reads the model blocks only: no new discovery.
        _ = session.poll(reader: &line, captureMillis: 1000)
        #expect(line.log.count - discoveryRequests == session.requestsPerReading)
        #expect(session.requestsPerReading == 1)
    }

    @Test func identifierFindsProfilesAndSunSpecDevices() throws {
        var sdm = FakeLine.Device(strict: false)
        sdm.set(.holding, 0xFC02, [0x0070])
        sdm.set(.holding, 0xFC00, [0x00BC, 0x614E])
        var inverter = FakeLine.Device(strict: true)
        _ = SunSpecBuilder(models: [(1, model1()), (103, model103())]).write(into: &inverter)
        var line = FakeLine(devices: [1: sdm, 126: inverter])
        let found = try DeviceIdentifier.identify(unit: 1, reader: &line, catalog: catalog)
        #expect(found.contains { $0.match == .profile("eastron-sdm630") && $0.serialNumber == "12345678" })
        let sunspec = try DeviceIdentifier.identify(unit: 126, reader: &line, catalog: catalog)
        let device = try #require(sunspec.first)
        guard case .sunspec(let map) = device.match else { Issue.record("expected SunSpec"); return }
        #expect(map.models.map(\.id) == [1, 103])
        #expect(device.serialNumber == "31415926")
        #expect(device.reportedModel == "Fronius Symo 5.0-3-M")
        #expect(throws: ModbusError.self) { try DeviceIdentifier.identify(unit: 9, reader: &line, catalog: catalog) }
    }
}
