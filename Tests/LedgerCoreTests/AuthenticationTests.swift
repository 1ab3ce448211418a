import Crypto
import GridLedgerRecords
import LedgerCore
import Testing

@Suite("Registry.authenticate")
struct AuthenticationTests {
    typealias F = Fixture
    let at = F.t0 + 1000

    func envelope(gateway: String = F.gw1, key: Curve25519.Signing.PrivateKey = F.gatewayKey, meter: String = F.m1, at time: Int64? = nil) -> [UInt8] {
        var gw = TestGateway(gateway, key: key)
        return gw.envelope(meter, at: time ?? at, energy: 1000)
    }

    @Test func aValidEnvelopeAuthenticates() throws {
        let bytes = envelope()
        let record = try F.authenticated(bytes, F.registry())
        #expect(record.record.meterID == F.m1)
        #expect(record.signingKey == F.raw(F.gatewayKey))
        #expect(record.envelopeBytes == bytes)
        #expect(F.refusal(bytes, topic: TopicClaim(gatewayID: F.gw1, meterID: F.m1)) == nil)
        // The other gateway's meter, with its own key.
        #expect(F.refusal(envelope(gateway: F.gw2, key: F.otherGatewayKey, meter: F.m3)) == nil)
    }

    @Test func forgedSignatureIsRefused() {
        #expect(F.refusal(envelope(key: F.strangerKey)) == .badSignature)
        // Another registered gateway's key is no better.
        #expect(F.refusal(envelope(key: F.otherGatewayKey)) == .badSignature)
    }

    @Test func unknownMeterIsRefused() {
        #expect(F.refusal(envelope(meter: "gw1:bus:99")) == .unknownMeter("gw1:bus:99"))
    }

    @Test func unknownGatewayIsRefused() {
        // The gateway is checked before its meter, whichever meter the record names.
        #expect(F.refusal(envelope(gateway: "gw9", key: F.strangerKey, meter: "gw9:bus:1")) == .unknownGateway("gw9"))
        #expect(F.refusal(envelope(gateway: "gw9", key: F.strangerKey, meter: F.m1)) == .unknownGateway("gw9"))
    }

    @Test func meterOfAnotherGatewayIsRefused() {
        // gw2 signs (validly, with its own key) a record for gw1's meter.
        #expect(F.refusal(envelope(gateway: F.gw2, key: F.otherGatewayKey, meter: F.m1)) == .meterOfOtherGateway(registered: F.gw1))
    }

    @Test func revokedKeyIsRefusedFromItsTime() {
        let registry = F.registry([.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: F.t0 + 5000)])
        #expect(F.refusal(envelope(at: F.t0 + 4999), registry) == nil)
        #expect(F.refusal(envelope(at: F.t0 + 5000), registry) == .keyRevoked(sinceMillis: F.t0 + 5000))
        #expect(F.refusal(envelope(at: F.t0 + 5000), registry)?.code == "key_revoked")
    }

    @Test func keyNotYetValidIsRefused() {
        #expect(F.refusal(envelope(at: F.t0 - 1)) == .keyNotYetValid)
        #expect(F.refusal(envelope(at: F.t0 - 1))?.code == "key_not_yet_valid")
    }

    @Test func rotatedKeySignsOnlyFromItsValidFrom() {
        let registry = F.registry([.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: F.t0 + 5000)])
        #expect(F.refusal(envelope(key: F.rotatedKey, at: F.t0 + 5000), registry) == nil)
        #expect(F.refusal(envelope(key: F.rotatedKey, at: F.t0 + 4999), registry) == .badSignature)
        #expect(F.refusal(envelope(key: F.gatewayKey, at: F.t0 + 5000), registry) == .badSignature)
        #expect(F.refusal(envelope(key: F.gatewayKey, at: F.t0 + 4999), registry) == nil)
    }

    @Test func oversizedPayloadIsRefused() {
        let size = RecordEnvelope.maximumSize + 1
        #expect(F.refusal(Array(repeating: 1, count: size)) == .oversized(size))
        // At the maximum it is malformed, not oversized.
        #expect(F.refusal(Array(repeating: 1, count: size - 1))?.code == "malformed")
    }

    @Test func malformedBytesAreRefused() {
        #expect(F.refusal([])?.code == "malformed")
        #expect(F.refusal([1, 2, 3])?.code == "malformed")
        let bytes = envelope()
        #expect(F.refusal(bytes + [0])?.code == "malformed")
        #expect(F.refusal(Array(bytes.dropLast()))?.code == "malformed")
        var version = bytes
        version[0] = 2
        #expect(F.refusal(version)?.code == "malformed")
    }

    @Test func batchOfAnotherGatewayIsMalformed() {
        // gw1's record in a batch header naming gw2, signed with gw1's key.
        let record = F.record(meter: F.m1, sequence: 1, previous: ReadingRecord.zeroHash, at: at, energy: 1)
        let bytes = try! BatchSigner(gatewayID: F.gw2, key: F.gatewayKey).sign(records: [F.bytes(record)], batchSequence: 1, createdMillis: at)[0].encoded()
        #expect(F.refusal(bytes)?.code == "malformed")
    }

    @Test func topicMustNameTheRecordsGatewayAndMeter() {
        let bytes = envelope()
        guard case .topicMismatch(let gatewayWhy) = F.refusal(bytes, topic: TopicClaim(gatewayID: F.gw2, meterID: F.m1)) else {
            Issue.record("topic gateway mismatch not refused")
            return
        }
        #expect(gatewayWhy.contains("gateway"))
        guard case .topicMismatch(let meterWhy) = F.refusal(bytes, topic: TopicClaim(gatewayID: F.gw1, meterID: F.m2)) else {
            Issue.record("topic meter mismatch not refused")
            return
        }
        #expect(meterWhy.contains("meter"))
    }

    @Test func tamperedRecordByteIsRefused() throws {
        let bytes = envelope()
        let recordLength = Int(bytes[1]) << 8 | Int(bytes[2])
        // Last byte of the last value's mantissa: still a well-formed record, but not the signed one.
        var value = bytes
        value[3 + recordLength - 1] ^= 0x01
        #expect(F.refusal(value) == .notInBatch)
        // The record's version byte: no longer a record.
        var version = bytes
        version[3] ^= 0x01
        #expect(F.refusal(version)?.code == "malformed")
        // A byte of the audit path's leaf index.
        var index = bytes
        index[bytes.count - 2] ^= 0x01
        #expect(F.refusal(index) == .notInBatch)
        // A byte of the signature.
        var signature = bytes
        signature[bytes.count - 6] ^= 0x01
        #expect(F.refusal(signature) == .badSignature)
    }

    @Test func everyRefusalHasAListedCode() {
        let refusals: [Refusal] = [
            .oversized(1), .malformed(""), .topicMismatch(""), .unknownGateway(""), .unknownMeter(""), .meterOfOtherGateway(registered: ""),
            .keyNotYetValid, .keyRevoked(sinceMillis: 0), .wrongKey, .badSignature, .notInBatch, .equivocation(sequence: 1),
            .sequenceRegression(sequence: 1, head: 2), .brokenLink, .counterRollback(.energyActiveImportTotal), .futureTimestamp(aheadMillis: 1),
            .timeRegression(behindMillis: 1), .lateForGap, .tooManyHeld,
        ]
        #expect(refusals.map(\.code) == Refusal.allCodes)
    }
}
