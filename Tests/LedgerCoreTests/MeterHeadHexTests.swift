import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Testing

@Suite("MeterHead and Hex")
struct MeterHeadHexTests {
    typealias F = Fixture

    let head = MeterHead(
        sequence: 0x0102_0304_0506_0708, hash: Array(0..<32), captureMillis: -5,
        counters: [.energyActiveExportTotal: ScaledValue(-3, exponent: -2), .energyActiveImportTotal: ScaledValue(123_456, exponent: 1)])

    @Test func meterHeadRoundTrips() throws {
        let bytes = head.encoded()
        #expect(bytes.count == 8 + 32 + 8 + 1 + 2 * 11)
        #expect(Array(bytes[0..<8]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(bytes[48] == 2)  // two counters, code 1 first
        #expect(Array(bytes[49..<52]) == [0, 1, 1])
        #expect(try MeterHead(decoding: bytes) == head)
        let empty = MeterHead(sequence: 1, hash: ReadingRecord.zeroHash, captureMillis: .min, counters: [:])
        #expect(try MeterHead(decoding: empty.encoded()) == empty)
    }

    @Test func meterHeadDecodingIsStrict() {
        let bytes = head.encoded()
        #expect(throws: RecordError.trailingBytes(1)) { try MeterHead(decoding: bytes + [0]) }
        for length in 0..<bytes.count {
            #expect(throws: RecordError.self, "prefix of \(length)") { try MeterHead(decoding: Array(bytes.prefix(length))) }
        }
        var unknown = bytes
        unknown[50] = 0xee  // first counter's quantity code
        #expect(throws: RecordError.self) { try MeterHead(decoding: unknown) }
    }

    @Test func meterHeadAdvancesAndChecksSuccessors() {
        let record = F.record(meter: F.m1, sequence: 1, previous: ReadingRecord.zeroHash, at: 100, energy: 50)
        let first = MeterHead.first(record, hash: [9])
        #expect(first == MeterHead(sequence: 1, hash: [9], captureMillis: 100, counters: [.energyActiveImportTotal: ScaledValue(50)]))
        // Counters compare by value, not by representation.
        var scaled = F.record(meter: F.m1, sequence: 2, previous: [UInt8](repeating: 0, count: 32), at: 100, energy: 0)
        scaled.values = [Measurement(.energyActiveImportTotal, ScaledValue(5, exponent: 1))]
        #expect(first.checkSuccessor(scaled, latestAllowedMillis: 100) == nil)
        scaled.values = [Measurement(.energyActiveImportTotal, ScaledValue(499, exponent: -1))]
        #expect(first.checkSuccessor(scaled, latestAllowedMillis: 100) == .counterRollback(.energyActiveImportTotal))
        // A reading without the counter keeps the last value.
        scaled.values = [Measurement(.powerActiveTotal, ScaledValue(1))]
        #expect(first.advanced(by: scaled, hash: [8]).counters == first.counters)
    }

    @Test func hexEncodesLowerCaseAndDecodesBothCases() {
        #expect(Hex.encode([0x00, 0x0f, 0xab, 0xff]) == "000fabff")
        #expect(Hex.encode([]) == "")
        #expect(Hex.decode("000fabff") == [0x00, 0x0f, 0xab, 0xff])
        #expect(Hex.decode("000FABFF") == [0x00, 0x0f, 0xab, 0xff])
        #expect(Hex.decode("") == [])
        let all = (0...255).map(UInt8.init)
        #expect(Hex.decode(Hex.encode(all)) == all)
        #expect(Hex.decode(Hex.encode(all).uppercased()) == all)
    }

    @Test(arguments: ["0", "abc", "0g", "g0", " 0", "0x00", "é0", "00\n", "-1", "zz"])
    func hexRefusesInvalidInput(_ text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func keyIDAndFingerprint() {
        let raw = F.raw(F.aggregatorKey)
        #expect(KeyID.of(raw).count == 32)
        #expect(KeyID.fingerprint(raw) == "sha256:" + Hex.encode(KeyID.of(raw).prefix(8)))
        #expect(KeyID.fingerprint(raw).count == 7 + 16)
    }
}
