import DeviceProfiles
import Foundation
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import ModbusCore
import Testing

let catalog = try! ProfileCatalog.load(directory: TestEnvironment.profilesDirectory)

/// An SDM630 on unit `unit` holding the words of every field: value 230.5 V on voltages etc.
func sdm630Device(strict: Bool, importKWh: Float = 12345, skip: Set<Quantity> = []) -> FakeLine.Device {
    let profile = try! catalog.profile("eastron-sdm630")
    var device = FakeLine.Device(strict: strict)
    for field in profile.fields where !skip.contains(field.quantity) {
        let value: Float = field.quantity == .energyActiveImportTotal ? importKWh : field.quantity.unit == .volt ? 230.5 : 1
        device.set(.input, field.location.address, RegisterCodec.encode(float: value, order: .highFirst))
    }
    return device
}

@Suite("Meter session")
struct MeterSessionTests {
    let sdm630 = try! catalog.profile("eastron-sdm630")

    @Test func completeReadingInThreeRequests() {
        var line = FakeLine(devices: [1: sdm630Device(strict: false)])
        var session = MeterSession(name: "m", unit: 1, choice: .profile(sdm630))
        let reading = session.poll(reader: &line, captureMillis: 1000)
        #expect(reading.status == .complete)
        #expect(reading[.voltageL1] == ScaledValue(2305, exponent: -1))
        #expect(reading[.energyActiveImportTotal] == ScaledValue(12_345_000))
        #expect(reading.measurements.count == sdm630.fields.count)
        #expect(reading.captureTimeMillis == 1000)
        // Three reads for the values, and once, on first contact, the serial number.
        #expect(line.log.count == 3 + 1)
        _ = session.poll(reader: &line, captureMillis: 2000)
        #expect(line.log.count == 3 + 1 + 3)
    }

    @Test func aRefusedSerialNumberIsAskedForOnceAndThenNotAgain() {
        var line = FakeLine(devices: [1: sdm630Device(strict: true)])
        var session = MeterSession(name: "m", unit: 1, choice: .profile(sdm630))
        #expect(session.hasReadableSerial)
        _ = session.poll(reader: &line, captureMillis: 0)
        let serialRequests = { line.log.filter { $0.span.function == .holding }.count }
        #expect(serialRequests() == 1)
        #expect(session.serialNumber == nil)
        #expect(!session.hasReadableSerial)  // so the meter's id is made without it
        _ = session.poll(reader: &line, captureMillis: 1000)
        #expect(serialRequests() == 1)
    }

    @Test func strictDeviceFallsBackToFieldReadsOnceAndRemembers() {
        var line = FakeLine(devices: [1: sdm630Device(strict: true)])
        var session = MeterSession(name: "m", unit: 1, choice: .profile(sdm630))
        let first = session.poll(reader: &line, captureMillis: 0)
        #expect(first.status == .complete)
        #expect(first.measurements.count == sdm630.fields.count)
        let firstRequests = line.log.count
        #expect(firstRequests == 3 + 8 - 1 + 1)  // two refused blocks, then 8 contiguous runs (one block was fine), and the serial once
        let second = session.poll(reader: &line, captureMillis: 1000)
        #expect(second.status == .complete)
        // The refused merged reads are not tried again.
        #expect(line.log.count - firstRequests == session.requestsPerReading)
        // 0x00–0x23, 0x34, 0x38, 0x3C–0x3F, 0x46–0x4F, 0xC8–0xCD, 0xE0, 0x15A–0x165
        #expect(session.requestsPerReading == 8)
    }

    @Test func fieldTheDeviceRefusesMakesAPartialReading() {
        var device = sdm630Device(strict: true, skip: [.currentN])
        device.maxRegistersPerRead = 125
        var line = FakeLine(devices: [1: device])
        var session = MeterSession(name: "m", unit: 1, choice: .profile(sdm630))
        let reading = session.poll(reader: &line, captureMillis: 0)
        #expect(reading.status == .partial)
        #expect(reading[.currentN] == nil)
        #expect(reading[.energyActiveImportTotal] == ScaledValue(12_345_000))
        #expect(!reading.problems.isEmpty)
    }

    @Test func silentMeterFailsWithoutOldValuesAndBacksOff() {
        var line = FakeLine(devices: [1: sdm630Device(strict: false)])
        var session = MeterSession(name: "m", unit: 1, choice: .profile(sdm630), backoff: Backoff(initialDelayMillis: 1000, maximumDelayMillis: 4000))
        #expect(session.poll(reader: &line, captureMillis: 0).status == .complete)
        line.devices[1] = nil  // the meter dies
        let failed = session.poll(reader: &line, captureMillis: 1000)
        #expect(failed.status == .failed)
        #expect(failed.measurements.isEmpty)  // never the previous poll's values
        #expect(failed.captureTimeMillis == 1000)
        // One timeout per poll of a dead meter, not one per block.
        #expect(line.log.filter { $0.unit == 1 }.count == 3 + 1 + 1)  // first poll with its serial read, then one timeout
        #expect(!session.isDue(at: 1500))
        #expect(session.backoff.consecutiveFailures == 1)
    }

    @Test func exceptionsDoNotBackOff() {
        var device = FakeLine.Device(strict: true)
        device.set(.holding, 0, [1])  // alive, but none of the profile's registers exist
        var line = FakeLine(devices: [1: device])
        var session = MeterSession(name: "m", unit: 1, choice: .profile(sdm630))
        let reading = session.poll(reader: &line, captureMillis: 0)
        #expect(reading.status == .failed)
        #expect(session.backoff.consecutiveFailures == 0)
    }
}

@Suite("Backoff")
struct BackoffTests {
    @Test func doublesUpToTheCapAndResets() {
        var backoff = Backoff(initialDelayMillis: 1000, maximumDelayMillis: 5000)
        #expect(backoff.isDue(at: 0))
        var delays: [Int64] = []
        for _ in 0..<5 {
            backoff.recordFailure(at: 0)
            delays.append(backoff.currentDelayMillis)
        }
        #expect(delays == [1000, 2000, 4000, 5000, 5000])
        #expect(!backoff.isDue(at: 4999))
        #expect(backoff.isDue(at: 5000))
        backoff.recordSuccess()
        #expect(backoff.isDue(at: 0))
    }

    @Test func manyFailuresDoNotOverflow() {
        var backoff = Backoff(initialDelayMillis: 1000, maximumDelayMillis: 60_000)
        for _ in 0..<500 { backoff.recordFailure(at: 0) }
        #expect(backoff.currentDelayMillis == 60_000)
    }
}
