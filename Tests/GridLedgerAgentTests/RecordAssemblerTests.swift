import AgentOutbox
import Crypto
import GridLedgerCore
import GridLedgerRecords
import MeterPolling
import Testing

@testable import GridLedgerAgent

@Suite struct RecordAssemblerTests {
    let key = Curve25519.Signing.PrivateKey()

    func assembler(meters: [String: AgentMeter] = [:], bindings: [String: String] = [:]) -> RecordAssembler {
        RecordAssembler(signer: BatchSigner(gatewayID: "gw", key: key), meters: meters, heads: [:], batchSequence: 0, bindings: bindings)
    }

    func polled(bus: String = "b", unit: UInt8 = 1, serial: String? = nil, readable: Bool = false, status: ReadingStatus = .complete, at time: Int64 = 1000, values: [Measurement]? = nil) -> PolledReading {
        let measurements = values ?? [Measurement(.energyActiveImportTotal, ScaledValue(5000)), Measurement(.powerActiveTotal, ScaledValue(-1200, exponent: -1))]
        return PolledReading(
            bus: bus, meter: "m", unit: unit,
            reading: MeterReading(captureTimeMillis: time, profileID: "eastron-sdm630", status: status, measurements: status == .failed ? [] : measurements),
            serialNumber: serial, hasReadableSerial: readable)
    }

    func decode(_ entry: OutboxEntry) throws -> VerifiedRecord {
        try RecordVerifier().verify(entry.payload, publicKey: key.publicKey)
    }

    @Test func sequencesAdvanceOnlyWhenAdoptedAndChainsLink() throws {
        var assembler = assembler()
        let first = try assembler.prepare([polled(), polled(unit: 2)], createdMillis: 1000, clockSynchronized: true)
        // Not adopted (the outbox write failed): the next attempt proposes the same numbers.
        let retry = try assembler.prepare([polled(), polled(unit: 2)], createdMillis: 1000, clockSynchronized: true)
        #expect(first.entries.map(\.sequence) == [1, 1])
        #expect(retry.entries.map(\.sequence) == [1, 1])
        #expect(first.batchSequence == 1)
        assembler.adopt(first)
        let second = try assembler.prepare([polled(at: 2000)], createdMillis: 2000, clockSynchronized: false)
        #expect(second.entries.map(\.sequence) == [2])
        #expect(second.batchSequence == 2)
        let record1 = try decode(first.entries[0])
        let record2 = try decode(second.entries[0])
        #expect(record1.record.meterID == "gw:b:1")
        #expect(record1.record.previousHash == ReadingRecord.zeroHash)
        #expect(record2.record.previousHash == ReadingRecord.hash(of: record1.bytes))
        #expect(first.entries[0].recordHash == ReadingRecord.hash(of: record1.bytes))
        #expect(record1.record.flags == [.clockSynchronized])
        #expect(record2.record.flags == [])
        #expect(second.heads["gw:b:1"] == ChainHead(sequence: 2, hash: ReadingRecord.hash(of: record2.bytes)))
    }

    @Test func failedReadingsAreRecordedAsFailedWithoutValues() throws {
        let prepared = try assembler().prepare([polled(status: .failed)], createdMillis: 1, clockSynchronized: true)
        let record = try decode(prepared.entries[0]).record
        #expect(record.status == .failed)
        #expect(record.values.isEmpty)
    }

    @Test func invertedMetersSwapImportAndExportAndFlipPower() throws {
        let meters = ["b:1": AgentMeter(name: "m", unit: 1, role: .pv, invert: true)]
        let values = [
            Measurement(.energyActiveImportTotal, ScaledValue(10)), Measurement(.energyActiveExportTotal, ScaledValue(20)),
            Measurement(.powerActiveTotal, ScaledValue(-300)), Measurement(.powerActiveL1, ScaledValue(150, exponent: -1)),
            Measurement(.voltageL1, ScaledValue(2300, exponent: -1)), Measurement(.currentL1, ScaledValue(5)),
        ]
        let prepared = try assembler(meters: meters).prepare([polled(values: values)], createdMillis: 1, clockSynchronized: true)
        let record = try decode(prepared.entries[0]).record
        let byQuantity = Dictionary(uniqueKeysWithValues: record.values.map { ($0.quantity, $0.value) })
        #expect(byQuantity[.energyActiveImportTotal] == ScaledValue(20))
        #expect(byQuantity[.energyActiveExportTotal] == ScaledValue(10))
        #expect(byQuantity[.powerActiveTotal] == ScaledValue(300))
        #expect(byQuantity[.powerActiveL1] == ScaledValue(-150, exponent: -1))
        #expect(byQuantity[.voltageL1] == ScaledValue(2300, exponent: -1))
        #expect(byQuantity[.currentL1] == ScaledValue(5))
    }

    @Test func meterIdsCarryTheSerialAndWaitForIt() throws {
        var assembler = assembler()
        // Serial readable but not read yet, and never bound: no id, nothing recorded.
        let waiting = try assembler.prepare([polled(readable: true)], createdMillis: 1, clockSynchronized: true)
        #expect(waiting.entries.isEmpty)
        #expect(waiting.unresolved.count == 1)
        let identified = try assembler.prepare([polled(serial: "SN 42/x", readable: true)], createdMillis: 2, clockSynchronized: true)
        #expect(identified.entries.map(\.meterID) == ["gw:b:1:SN_42_x"])
        #expect(identified.newBindings.map(\.meterID) == ["gw:b:1:SN_42_x"])
        assembler.adopt(identified)
        // Later the serial read fails (meter silent at restart): the bound id is used.
        let silent = try assembler.prepare([polled(readable: true, status: .failed)], createdMillis: 3, clockSynchronized: true)
        #expect(silent.entries.map(\.meterID) == ["gw:b:1:SN_42_x"])
        #expect(silent.entries.map(\.sequence) == [2])
        // A different serial on the same bus and unit: a new meter, a new chain from 1.
        let swapped = try assembler.prepare([polled(serial: "77", readable: true)], createdMillis: 4, clockSynchronized: true)
        #expect(swapped.entries.map(\.meterID) == ["gw:b:1:77"])
        #expect(swapped.entries.map(\.sequence) == [1])
        #expect(swapped.newBindings.first?.replacing == "gw:b:1:SN_42_x")
    }

    @Test func confirmationsRoundTripAndRefuseJunk() throws {
        let confirmation = Confirmation(confirmed: ["gw:b:1": 42, "gw:b:2": 7])
        #expect(try Confirmation(decoding: confirmation.encoded()) == confirmation)
        #expect(String(decoding: confirmation.encoded(), as: UTF8.self) == #"{"confirmed":{"gw:b:1":42,"gw:b:2":7}}"#)
        #expect(throws: (any Error).self) { try Confirmation(decoding: Array("{\"confirmed\":{\"m\":-1}}".utf8)) }
        #expect(throws: (any Error).self) { try Confirmation(decoding: Array("not json".utf8)) }
        #expect(throws: (any Error).self) { try Confirmation(decoding: [UInt8](repeating: 32, count: Confirmation.maximumSize + 1)) }
    }

    @Test func topicsFollowTheDocumentedTree() {
        let topics = GatewayTopics(gatewayID: "gw-1")
        #expect(topics.status == "gridledger/v1/gw-1/status")
        #expect(topics.reading(meterID: "gw-1:bus:3:123") == "gridledger/v1/gw-1/gw-1:bus:3:123/reading")
        #expect(topics.confirm == "gridledger/v1/gw-1/confirm")
        #expect(topics.allReadings == "gridledger/v1/gw-1/+/reading")
    }
}
