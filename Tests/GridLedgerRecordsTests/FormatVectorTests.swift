import Crypto
import Foundation
import GridLedgerCore
import GridLedgerRecords
import Testing

/// The committed vectors were made by an independent implementation written from
/// docs/FORMAT.md (Vectors/make_vectors.py): ours must agree byte for byte.
@Suite("Format vectors")
struct FormatVectorTests {
    struct Vector: Decodable {
        struct Record: Decodable {
            var bytes: String
            var sha256: String
            var leafHash: String
        }
        var privateKeySeed: String
        var publicKey: String
        var records: [Record]
        var merkleRoot: String
        var header: String
        var signature: String
        var envelopes: [String]
    }

    let vector: Vector = {
        let url = Bundle.module.url(forResource: "record-v1", withExtension: "json", subdirectory: "Vectors")!
        return try! JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
    }()

    @Test func decodesReencodesAndHashesEveryRecord() throws {
        let records = try vector.records.map { try ReadingRecord(decoding: hex($0.bytes)) }
        for (record, expected) in zip(records, vector.records) {
            #expect(try record.encoded() == hex(expected.bytes))
            #expect(ReadingRecord.hash(of: hex(expected.bytes)) == hex(expected.sha256))
            #expect(MerkleTree.leafHash(hex(expected.bytes)) == hex(expected.leafHash))
        }
        let first = records[0]
        #expect(first.gatewayID == "gw-test-01")
        #expect(first.meterID == "gw-test-01:rs485:1:sn12345678")
        #expect(first.sequence == 1)
        #expect(first.captureTimeMillis == 1_763_726_400_000)
        #expect(first.flags == .clockSynchronized)
        #expect(first.status == .complete)
        #expect(first.values.first { $0.quantity == .energyActiveImportTotal }?.value == ScaledValue(12_345_678))
        #expect(first.values.first { $0.quantity == .powerActiveTotal }?.value == ScaledValue(-20005, exponent: -1))
        #expect(records[1].previousHash == hex(vector.records[0].sha256))
        #expect(records[2].status == .failed)
        #expect(records[2].values.isEmpty)
    }

    @Test func ourSignerProducesTheSameBatch() throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: hex(vector.privateKeySeed))
        #expect(key.publicKey.rawRepresentation == Data(hex(vector.publicKey)))
        let signer = BatchSigner(gatewayID: "gw-test-01", key: key)
        let envelopes = try signer.sign(records: vector.records.map { hex($0.bytes) }, batchSequence: 7, createdMillis: 1_763_726_401_500)
        #expect(envelopes[0].header == hex(vector.header))
        #expect(try BatchHeader(decoding: envelopes[0].header).root == hex(vector.merkleRoot))
        // Ed25519 (RFC 8032) is deterministic: the same key and input give the same signature.
        #expect(envelopes[0].signature == hex(vector.signature))
        #expect(envelopes.map { $0.encoded() } == vector.envelopes.map(hex))
    }

    @Test func everyEnvelopeVerifies() throws {
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: hex(vector.publicKey))
        let verifier = RecordVerifier()
        for (index, envelope) in vector.envelopes.enumerated() {
            let verified = try verifier.verify(hex(envelope), publicKey: publicKey)
            #expect(verified.bytes == hex(vector.records[index].bytes))
            #expect(verified.header.batchSequence == 7)
        }
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
