import Crypto
import Foundation
import GridLedgerRecords
import LedgerCore
import Testing

@Suite("InclusionProof")
struct InclusionProofTests {
    typealias F = Fixture

    func roundTripped(_ proof: InclusionProof) throws -> InclusionProof {
        try JSONDecoder().decode(InclusionProof.self, from: JSONEncoder().encode(proof))
    }

    func fails(_ proof: InclusionProof, aggregator: Curve25519.Signing.PrivateKey = F.aggregatorKey,
               gateway: Curve25519.Signing.PrivateKey? = F.gatewayKey) -> Bool {
        (try? proof.verify(aggregatorKey: aggregator.publicKey, gatewayKey: gateway?.publicKey)) == nil
    }

    /// `hex` with the hex digit at `index` changed.
    func flipped(_ hex: String, at index: Int) -> String {
        var digits = Array(hex)
        digits[index] = digits[index] == "0" ? "1" : "0"
        return String(digits)
    }

    @Test func everyRecordOfABlockIsProvable() throws {
        let block = try StandardChain().blocks[1]
        let keys = [F.gatewayKey, F.gatewayKey, F.otherGatewayKey, F.gatewayKey]  // m2, m1, m3, m1
        for index in block.records.indices {
            let proof = try roundTripped(InclusionProof.make(block: block, index: index))
            #expect(proof.format == "gridledger-inclusion-proof-v1")
            #expect(proof.leafIndex == UInt32(index))
            #expect(proof.path.count == 2)
            let verified = try proof.verify(aggregatorKey: F.aggregatorKey.publicKey, gatewayKey: keys[index].publicKey)
            #expect(verified.header == block.header)
            #expect(verified.record.envelope == (try RecordEnvelope(decoding: block.records[index])))
            // Without the gateway key only the Merkle paths are checked.
            let unsigned = try proof.verify(aggregatorKey: F.aggregatorKey.publicKey, gatewayKey: nil)
            #expect(unsigned.record == verified.record)
        }
    }

    @Test func tamperedProofsFail() throws {
        let block = try StandardChain().blocks[1]
        let proof = try roundTripped(InclusionProof.make(block: block, index: 1))  // m1 #2
        #expect(!fails(proof))

        #expect(fails(proof, aggregator: F.otherAggregatorKey))
        #expect(fails(proof, gateway: F.otherGatewayKey))
        #expect(fails(proof, gateway: F.strangerKey))

        for (pathIndex, hash) in proof.path.enumerated() {
            for digit in [0, 31, 63] {
                var tampered = proof
                tampered.path[pathIndex] = flipped(hash, at: digit)
                #expect(fails(tampered), "path \(pathIndex) digit \(digit)")
                #expect(fails(tampered, gateway: nil))
            }
        }
        for leafIndex: UInt32 in [0, 2, 3, 4, .max] {
            var tampered = proof
            tampered.leafIndex = leafIndex
            #expect(fails(tampered), "leaf index \(leafIndex)")
        }
        for digit in Swift.stride(from: 0, to: proof.envelope.count, by: 7) {
            var tampered = proof
            tampered.envelope = flipped(proof.envelope, at: digit)
            #expect(fails(tampered), "envelope digit \(digit)")
            #expect(fails(tampered, gateway: nil), "envelope digit \(digit), no gateway key")
        }
        for digit in Swift.stride(from: 0, to: proof.blockHeader.count, by: 5) {
            var tampered = proof
            tampered.blockHeader = flipped(proof.blockHeader, at: digit)
            #expect(fails(tampered), "header digit \(digit)")
        }
        var signature = proof
        signature.blockSignature = flipped(proof.blockSignature, at: 10)
        #expect(fails(signature))
        var format = proof
        format.format = "gridledger-inclusion-proof-v2"
        #expect(fails(format))
        var notHex = proof
        notHex.envelope += "0"
        #expect(fails(notHex))
        var shortPath = proof
        shortPath.path.removeLast()
        #expect(fails(shortPath))
    }
}
