import Crypto
import GridLedgerCore
import GridLedgerRecords
import Testing

/// A deterministic generator for property tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func sampleRecord(meter: String = "gw1:rs485:1", sequence: UInt64 = 1, previous: [UInt8] = ReadingRecord.zeroHash, importWh: Int64 = 1000) -> ReadingRecord {
    ReadingRecord(
        gatewayID: "gw1", meterID: meter, sequence: sequence, captureTimeMillis: 1_700_000_000_000 + Int64(sequence) * 1000,
        flags: .clockSynchronized, profileID: "eastron-sdm630", status: .complete, previousHash: previous,
        values: [Measurement(.energyActiveImportTotal, ScaledValue(importWh)), Measurement(.voltageL1, ScaledValue(2305, exponent: -1))])
}

@Suite("Record verification")
struct VerificationTests {
    let key = Curve25519.Signing.PrivateKey()

    func batch(_ records: [ReadingRecord], gateway: String = "gw1") throws -> [RecordEnvelope] {
        try BatchSigner(gatewayID: gateway, key: key).sign(records: records.map { try $0.encoded() }, batchSequence: 1, createdMillis: 0)
    }

    @Test func everySingleByteChangeOfAnEnvelopeIsDetected() throws {
        let envelopes = try batch((1...5).map { sampleRecord(meter: "gw1:rs485:\($0)") })
        let bytes = envelopes[2].encoded()
        let verifier = RecordVerifier()
        _ = try verifier.verify(bytes, publicKey: key.publicKey)  // the original verifies (and is cached)
        for position in bytes.indices {
            var tampered = bytes
            tampered[position] ^= 0x01
            #expect(throws: VerificationError.self, "flipped bit at byte \(position) went unnoticed") {
                try verifier.verify(tampered, publicKey: key.publicKey)
            }
        }
    }

    @Test func wrongKeyIsRefused() throws {
        let envelope = try batch([sampleRecord()])[0]
        #expect(throws: VerificationError.badSignature) {
            try RecordVerifier().verify(envelope.encoded(), publicKey: Curve25519.Signing.PrivateKey().publicKey)
        }
    }

    @Test func recordOfAnotherGatewayInABatchIsRefused() throws {
        let envelope = try batch([sampleRecord()], gateway: "gw2")[0]
        #expect(throws: VerificationError.gatewayMismatch(record: "gw1", batch: "gw2")) {
            try RecordVerifier().verify(envelope.encoded(), publicKey: key.publicKey)
        }
    }

    @Test func aRecordCannotBeMovedToAnotherBatchPosition() throws {
        var envelope = try batch([sampleRecord(meter: "a"), sampleRecord(meter: "b"), sampleRecord(meter: "c")])[0]
        envelope.leafIndex = 1
        #expect(throws: VerificationError.notInBatch) { try RecordVerifier().verify(envelope.encoded(), publicKey: key.publicKey) }
        envelope.leafIndex = 7
        #expect(throws: VerificationError.notInBatch) { try RecordVerifier().verify(envelope.encoded(), publicKey: key.publicKey) }
    }

    @Test func replayDuplicateEquivocationGapAndBrokenLinkAreClassified() throws {
        let r1 = sampleRecord(sequence: 1)
        let b1 = try r1.encoded()
        let r2 = sampleRecord(sequence: 2, previous: ReadingRecord.hash(of: b1), importWh: 1001)
        let b2 = try r2.encoded()
        var chain = MeterChain()
        #expect(chain.classify(r2, bytes: b2) == .gap(missing: 1...1))
        #expect(chain.classify(r1, bytes: b1) == .next)
        chain.accept(r1, bytes: b1)
        #expect(chain.classify(r1, bytes: b1) == .duplicate)
        let forked = sampleRecord(sequence: 1, importWh: 999)
        #expect(chain.classify(forked, bytes: try forked.encoded()) == .equivocation)
        let unlinked = sampleRecord(sequence: 2, previous: [UInt8](repeating: 7, count: 32))
        #expect(chain.classify(unlinked, bytes: try unlinked.encoded()) == .brokenLink)
        #expect(chain.classify(r2, bytes: b2) == .next)
        chain.accept(r2, bytes: b2)
        var forgetful = MeterChain(memory: 1)
        forgetful.accept(r1, bytes: b1)
        forgetful.accept(r2, bytes: b2)
        #expect(forgetful.classify(r1, bytes: b1) == .replay)
    }

    @Test func invalidRecordsAreNeverEncoded() {
        var failedWithValues = sampleRecord()
        failedWithValues.status = .failed
        #expect(throws: RecordError.self) { try failedWithValues.encoded() }
        #expect(throws: RecordError.self) { try sampleRecord(sequence: 0).encoded() }
        #expect(throws: RecordError.self) { try sampleRecord(sequence: 1, previous: [UInt8](repeating: 1, count: 32)).encoded() }
        #expect(throws: RecordError.self) { try sampleRecord(meter: "has/slash").encoded() }
        #expect(throws: RecordError.self) { try sampleRecord(meter: "").encoded() }
    }

    @Test func randomRecordsRoundTrip() throws {
        var rng = SeededGenerator(state: 42)
        for _ in 0..<500 {
            let count = Int.random(in: 0...Quantity.allCases.count, using: &rng)
            let values = Quantity.allCases.shuffled(using: &rng).prefix(count).map {
                Measurement($0, ScaledValue(Int64.random(in: .min ... .max, using: &rng), exponent: Int8.random(in: -9...9, using: &rng)))
            }
            let record = ReadingRecord(
                gatewayID: "gw", meterID: "m\(UInt32.random(in: 0...UInt32.max, using: &rng))", sequence: UInt64.random(in: 2...UInt64.max, using: &rng),
                captureTimeMillis: Int64.random(in: .min ... .max, using: &rng), flags: Bool.random(using: &rng) ? .clockSynchronized : [],
                profileID: "p", status: .partial, previousHash: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }, values: values)
            let bytes = try record.encoded()
            #expect(bytes.count <= ReadingRecord.maximumSize)
            #expect(try ReadingRecord(decoding: bytes) == record)
        }
    }

    @Test func decodersNeverCrashOnRandomOrMutatedInput() throws {
        var rng = SeededGenerator(state: 7)
        let valid = try batch([sampleRecord(), sampleRecord(meter: "x")])[1].encoded()
        var changed = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int.random(in: 0...1200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = valid
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    switch Int.random(in: 0...2, using: &rng) {
                    case 0: input[Int.random(in: input.indices, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    case 1: input.removeLast(Int.random(in: 0...min(40, input.count - 1), using: &rng))
                    default: input.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...input.count, using: &rng))
                    }
                }
            }
            _ = try? ReadingRecord(decoding: input)
            _ = try? BatchHeader(decoding: input)
            let verified = (try? RecordVerifier().verify(input, publicKey: key.publicKey)) != nil
            if input != valid {
                changed += 1
                #expect(!verified, "a changed envelope verified (round \(round))")
            }
        }
        #expect(changed >= 19_900)  // the generator really changes the input (a few mutations are no-ops)
    }
}

@Suite("Merkle tree (RFC 6962)")
struct MerkleTreeTests {
    @Test func knownHashes() {
        // SHA-256 of the empty string, and the RFC 6962 leaf hash of the empty leaf.
        #expect(MerkleTree.root(leafHashes: []) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        #expect(MerkleTree.leafHash([]) == hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"))
    }

    @Test func everyPathOfEveryTreeSizeVerifiesAndOnlyThere() {
        for size in 1...40 {
            let leaves = (0..<size).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), 0xAB]) }
            let root = MerkleTree.root(leafHashes: leaves)
            for index in 0..<size {
                let path = MerkleTree.auditPath(index: index, leafHashes: leaves)
                #expect(MerkleTree.verify(leafHash: leaves[index], index: UInt64(index), size: UInt64(size), path: path, root: root))
                // (A wrong tree size is not checked here: the leaf count is inside the signed header.)
                #expect(!MerkleTree.verify(leafHash: leaves[index], index: UInt64(index + size), size: UInt64(size), path: path, root: root))
                if size > 1 {
                    #expect(!MerkleTree.verify(leafHash: leaves[(index + 1) % size], index: UInt64(index), size: UInt64(size), path: path, root: root))
                }
            }
        }
    }
}
