import Crypto
import Foundation
import GridLedgerCore
import GridLedgerRecords
import Testing

/// Deterministic fuzzing of the record decoders and the verifier: random bytes, mutations of
/// valid encodings, and every length field at its boundary. Malformed input must end in a
/// `RecordError` / `VerificationError`, never a trap; a mutated envelope must never verify to
/// anything but what was signed; whatever decodes must re-encode to exactly its input.
///
/// Every iteration draws from its own generator, seeded from the test's seed and the iteration
/// number, so a failure message ("seed …, iteration …") names one input that can be replayed
/// alone. `GRIDLEDGER_FUZZ_SEED` (hex with 0x, or decimal) changes the seeds,
/// `GRIDLEDGER_FUZZ_SCALE` multiplies the iteration counts (for a longer run; the default keeps
/// the suite at a few seconds in a debug build).
@Suite struct DecoderFuzzTests {
    typealias Kit = DecoderFuzzKit

    // MARK: Random bytes

    @Test func randomBytesIntoEveryDecoder() throws {
        let seed = Kit.seed(0x5EED_0001)
        let iterations = 20_000 * Kit.scale
        let publicKey = try Kit.Corpus.load().key.publicKey
        var accepted = [0, 0, 0, 0]  // record, header, envelope, verified
        let start = ContinuousClock.now
        for iteration in 0..<iterations {
            var rng = Kit.RNG(seed: seed, iteration: iteration)
            let length = rng.chance(1, in: 2) ? rng.int(0...3000) : rng.int(0...300)
            var input = rng.bytes(length)
            if !input.isEmpty, rng.chance(1, in: 2) { input[0] = 1 }  // get past the version byte
            let at = { "seed \(Kit.hex(seed)), iteration \(iteration), input \(Kit.hex(input))" }
            if let record = try? ReadingRecord(decoding: input) {
                accepted[0] += 1
                #expect(try record.encoded() == input, "record round trip, \(at())")
            }
            if let header = try? BatchHeader(decoding: input) {
                accepted[1] += 1
                #expect(try header.encoded() == input, "header round trip, \(at())")
            }
            if let envelope = try? RecordEnvelope(decoding: input) {
                accepted[2] += 1
                #expect(envelope.encoded() == input, "envelope round trip, \(at())")
            }
            if (try? RecordVerifier().verify(input, publicKey: publicKey)) != nil {
                accepted[3] += 1
                Issue.record("random bytes verified, \(at())")
            }
        }
        print("fuzz random bytes: seed \(Kit.hex(seed)), \(iterations) inputs × 4 decoders, 0 crashes, accepted: record \(accepted[0]), header \(accepted[1]), envelope \(accepted[2]), verified \(accepted[3]); \(ContinuousClock.now - start)")
    }

    // MARK: Mutations of valid encodings

    @Test func mutatedRecordsDecodeCanonicallyOrNotAtAll() throws {
        let corpus = try Kit.Corpus.load()
        let seed = Kit.seed(0x5EED_0002)
        let iterations = 30_000 * Kit.scale
        var accepted = 0, unchanged = 0
        let start = ContinuousClock.now
        for iteration in 0..<iterations {
            var rng = Kit.RNG(seed: seed, iteration: iteration)
            let parent = rng.below(corpus.records.count)
            let donor = corpus.records[rng.below(corpus.records.count)]
            let input = Kit.mutate(corpus.records[parent], fields: corpus.recordFields[parent], donor: donor, rng: &rng).bytes
            if input == corpus.records[parent] { unchanged += 1 }
            guard let record = try? ReadingRecord(decoding: input) else { continue }
            accepted += 1
            #expect(try record.encoded() == input, "record is not canonical: seed \(Kit.hex(seed)), iteration \(iteration), input \(Kit.hex(input))")
        }
        print("fuzz record: seed \(Kit.hex(seed)), \(iterations) inputs, 0 crashes, \(accepted) accepted (\(unchanged) unchanged by the mutation), all canonical; \(ContinuousClock.now - start)")
    }

    @Test func mutatedHeadersDecodeCanonicallyAndNeverKeepTheSignature() throws {
        let corpus = try Kit.Corpus.load()
        let publicKey = corpus.key.publicKey
        let seed = Kit.seed(0x5EED_0003)
        let iterations = 10_000 * Kit.scale
        var accepted = 0, unchanged = 0, signatureChecks = 0
        let start = ContinuousClock.now
        for iteration in 0..<iterations {
            var rng = Kit.RNG(seed: seed, iteration: iteration)
            let parent = rng.below(corpus.headers.count)
            let donor = corpus.headers[rng.below(corpus.headers.count)].bytes
            let original = corpus.headers[parent]
            let input = Kit.mutate(original.bytes, fields: corpus.headerFields[parent], donor: donor, rng: &rng).bytes
            if input == original.bytes { unchanged += 1 }
            guard let header = try? BatchHeader(decoding: input) else { continue }
            accepted += 1
            let at = { "seed \(Kit.hex(seed)), iteration \(iteration), input \(Kit.hex(input))" }
            #expect(try header.encoded() == input, "header is not canonical: \(at())")
            if input != original.bytes, iteration % 4 == 0 {  // Ed25519 is slow in a debug build: every 4th
                signatureChecks += 1
                #expect(!publicKey.isValidSignature(original.signature, for: BatchHeader.signatureInput(headerBytes: input)),
                        "a changed header kept its signature: \(at())")
            }
        }
        print("fuzz header: seed \(Kit.hex(seed)), \(iterations) inputs, 0 crashes, \(accepted) accepted (\(unchanged) unchanged by the mutation), all canonical, \(signatureChecks) changed headers checked against the signature, none kept it; \(ContinuousClock.now - start)")
    }

    @Test func mutatedEnvelopesNeverVerifyToSomethingElse() throws {
        let corpus = try Kit.Corpus.load()
        let publicKey = corpus.key.publicKey
        let seed = Kit.seed(0x5EED_0004)
        let iterations = 20_000 * Kit.scale
        // A verifier that has seen every genuine batch (cache hits) and, now and then, a cold one.
        let warm = RecordVerifier()
        for genuine in corpus.envelopes {
            let verified = try warm.verify(genuine.bytes, publicKey: publicKey)
            #expect(verified.bytes == genuine.record && verified.envelope.header == genuine.header)
        }
        var decoded = 0, accepted = 0, acceptedDonor = 0, acceptedChanged = 0, unchanged = 0
        var refusals: [String: Int] = [:]
        var chain = MeterChain(memory: 8)
        let start = ContinuousClock.now
        for iteration in 0..<iterations {
            var rng = Kit.RNG(seed: seed, iteration: iteration)
            let parentIndex = rng.below(corpus.envelopes.count)
            let parent = corpus.envelopes[parentIndex]
            let donor = corpus.envelopes[rng.below(corpus.envelopes.count)]
            let (input, spliced) = Kit.mutate(parent.bytes, fields: corpus.envelopeFields[parentIndex], donor: donor.bytes, rng: &rng)
            if input == parent.bytes { unchanged += 1 }
            let at = { "seed \(Kit.hex(seed)), iteration \(iteration), input \(Kit.hex(input))" }

            if let envelope = try? RecordEnvelope(decoding: input) {
                decoded += 1
                #expect(envelope.encoded() == input, "envelope is not canonical: \(at())")
                if let record = try? ReadingRecord(decoding: envelope.record) {
                    #expect(try record.encoded() == envelope.record, "record is not canonical: \(at())")
                }
                if let header = try? BatchHeader(decoding: envelope.header) {
                    #expect(try header.encoded() == envelope.header, "header is not canonical: \(at())")
                }
            }

            let verifier = rng.chance(1, in: 16) ? RecordVerifier() : warm
            do throws(VerificationError) {
                let verified = try verifier.verify(input, publicKey: publicKey)
                accepted += 1
                if input != parent.bytes { if spliced && input == donor.bytes { acceptedDonor += 1 } else { acceptedChanged += 1 } }
                // The security property: whatever verifies is exactly a record and header that were signed.
                let matchesParent = verified.bytes == parent.record && verified.envelope.header == parent.header
                let matchesDonor = spliced && verified.bytes == donor.record && verified.envelope.header == donor.header
                #expect(matchesParent || matchesDonor, "a mutated envelope verified to other bytes: \(at())")
                #expect(verified.header == (try? BatchHeader(decoding: matchesDonor ? donor.header : parent.header)), "\(at())")
                #expect((try? verified.record.encoded()) == verified.bytes, "\(at())")
                // Strict: with distinct records per batch, no byte of the envelope is uncovered.
                #expect(input == parent.bytes || (spliced && input == donor.bytes), "a changed envelope verified: \(at())")
                if chain.classify(verified.record, bytes: verified.bytes) == .next { chain.accept(verified.record, bytes: verified.bytes) }
            } catch {
                let kind = switch error {
                case .malformed: "malformed"
                case .badSignature: "bad signature"
                case .notInBatch: "not in batch"
                case .gatewayMismatch: "gateway mismatch"
                }
                refusals[kind, default: 0] += 1
            }
        }
        let refused = refusals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("fuzz envelope: seed \(Kit.hex(seed)), \(iterations) inputs, 0 crashes, \(decoded) decoded as envelopes, \(accepted) verified (\(accepted - acceptedDonor - acceptedChanged) identical to the original, \(acceptedDonor) identical to the splice donor, \(acceptedChanged) changed), \(unchanged) unchanged by the mutation; refused: \(refused); \(ContinuousClock.now - start)")
    }

    /// Ed25519 signature malleability: S + L (the group order) is the same signature in another
    /// encoding; RFC 8032 5.1.7 requires refusing S ≥ L. A mutation that only changes the
    /// signature encoding would still verify to the same record and header, but two different
    /// envelope bytes for one signed record would defeat deduplication by envelope hash.
    @Test func signatureWithSPlusGroupOrderIsRefused() throws {
        let corpus = try Kit.Corpus.load()
        var envelope = try RecordEnvelope(decoding: corpus.envelopes[0].bytes)
        let order: [UInt8] = [  // L = 2^252 + 27742317777372353535851937790883648493, little-endian
            0xED, 0xD3, 0xF5, 0x5C, 0x1A, 0x63, 0x12, 0x58, 0xD6, 0x9C, 0xF7, 0xA2, 0xDE, 0xF9, 0xDE, 0x14,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
        ]
        var carry = 0
        for i in 0..<32 {
            let sum = Int(envelope.signature[32 + i]) + Int(order[i]) + carry
            envelope.signature[32 + i] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        #expect(carry == 0)
        #expect(Kit.verifyError(envelope.encoded(), corpus.key.publicKey) == .badSignature)
    }

    /// Two identical records in one batch would have equal leaf hashes, so each one's audit path
    /// would also prove the other position (a malleable leaf index): the signer refuses them.
    @Test func theSignerRefusesTheSameRecordTwiceInOneBatch() throws {
        let corpus = try Kit.Corpus.load()
        let record = corpus.records[0]
        let gateway = try ReadingRecord(decoding: record).gatewayID
        #expect(throws: RecordError.invalidField("batch", "contains the same record twice")) {
            try BatchSigner(gatewayID: gateway, key: corpus.key).sign(records: [record, record], batchSequence: 9, createdMillis: 0)
        }
        #expect(throws: RecordError.tooLarge(1025, maximum: 1024)) {
            try BatchSigner(gatewayID: gateway, key: corpus.key).sign(records: [[UInt8](repeating: 1, count: 1025)], batchSequence: 9, createdMillis: 0)
        }
    }

    // MARK: Length fields at their boundaries

    @Test func recordLengthBoundaries() throws {
        let corpus = try Kit.Corpus.load()
        let genuine = corpus.longest
        let header = genuine.header
        // The largest record this version can produce: ids at their maxima and every quantity.
        let record = genuine.record
        #expect(try ReadingRecord(decoding: record).values.count == Quantity.allCases.count)
        let pad = 1024 - record.count
        #expect(Kit.recordError(record + [UInt8](repeating: 0, count: pad)) == .trailingBytes(pad))
        #expect(Kit.recordError(record + [UInt8](repeating: 0, count: pad + 1)) == .tooLarge(1025, maximum: 1024))

        let signature = [UInt8](repeating: 0x55, count: 64)
        func envelope(recordLength: Int, recordBytes: [UInt8]) -> [UInt8] {
            Kit.rawEnvelope(recordLength: recordLength, record: recordBytes, header: header, signature: signature, leafIndex: 0, path: [])
        }
        let record1024 = record + [UInt8](repeating: 0, count: pad)
        let at1024 = envelope(recordLength: 1024, recordBytes: record1024)
        #expect(try RecordEnvelope(decoding: at1024).record.count == 1024)
        #expect(Kit.verifyError(at1024, corpus.key.publicKey) == .malformed(.trailingBytes(pad)))
        for length in [1025, 0x7FFF, 0xFFFF] {
            let over = envelope(recordLength: length, recordBytes: record + [UInt8](repeating: 0, count: min(length, 1100) - record.count))
            #expect(Kit.envelopeError(over) == .tooLarge(length, maximum: 1024))
            #expect(Kit.verifyError(over, corpus.key.publicKey) == .malformed(.tooLarge(length, maximum: 1024)))
        }
        // A length that promises more than is there.
        #expect(Kit.envelopeError(envelope(recordLength: 1000, recordBytes: [])) == .truncated("record"))
        // The envelope as a whole: the largest decodes, one byte more is refused.
        #expect(RecordEnvelope.maximumSize == 2240)
        let largest = Kit.rawEnvelope(record: record1024, header: header + [UInt8](repeating: 0, count: 118 - header.count), signature: signature,
                                      leafIndex: 0, path: [[UInt8]](repeating: [UInt8](repeating: 7, count: 32), count: 32))
        #expect(largest.count == 2240)
        #expect(try RecordEnvelope(decoding: largest).path.count == 32)
        #expect(Kit.envelopeError(largest + [0]) == .tooLarge(2241, maximum: 2240))
    }

    @Test func headerLengthBoundaries() throws {
        let corpus = try Kit.Corpus.load()
        let genuine = corpus.longest
        #expect(genuine.header.count == 118)
        #expect(try RecordVerifier().verify(genuine.bytes, publicKey: corpus.key.publicKey).bytes == genuine.record)
        #expect(Kit.headerError(genuine.header + [0]) == .tooLarge(119, maximum: 118))
        let envelope = try RecordEnvelope(decoding: genuine.bytes)
        for length in [119, 0xFFFF] {
            let over = Kit.rawEnvelope(record: envelope.record, headerLength: length, header: genuine.header + [0], signature: envelope.signature,
                                       leafIndex: envelope.leafIndex, path: envelope.path)
            #expect(Kit.envelopeError(over) == .tooLarge(length, maximum: 118))
            #expect(Kit.verifyError(over, corpus.key.publicKey) == .malformed(.tooLarge(length, maximum: 118)))
        }
        let empty = Kit.rawEnvelope(record: envelope.record, header: [], signature: envelope.signature, leafIndex: envelope.leafIndex, path: envelope.path)
        #expect(Kit.verifyError(empty, corpus.key.publicKey) == .malformed(.truncated("batch version")))
        // Leaf count 1…4096.
        let root = [UInt8](repeating: 3, count: 32)
        for (count, valid) in [(0 as UInt32, false), (1, true), (4096, true), (4097, false), (.max, false)] {
            let failure = Kit.headerError(Kit.rawHeader(gateway: Kit.id(3), leafCount: count, root: root))
            if valid {
                #expect(failure == nil, "leaf count \(count)")
            } else {
                #expect(failure == .invalidField("leaf count", "must be 1…4096"), "leaf count \(count)")
            }
        }
    }

    @Test func pathLengthBoundaries() throws {
        let corpus = try Kit.Corpus.load()
        let envelope = try RecordEnvelope(decoding: corpus.envelopes[1].bytes)
        for length in [32, 33, 255] {
            let path = [[UInt8]](repeating: [UInt8](repeating: 9, count: 32), count: length)
            let bytes = Kit.rawEnvelope(record: envelope.record, header: envelope.header, signature: envelope.signature, leafIndex: envelope.leafIndex, path: path)
            let withoutPath = Array(bytes.prefix(bytes.count - 32 * length))
            if length <= 32 {
                #expect(try RecordEnvelope(decoding: bytes).path.count == length)
                #expect(Kit.envelopeError(withoutPath) == .truncated("path hash 0"))
                #expect(Kit.verifyError(bytes, corpus.key.publicKey) == .notInBatch)
            } else {
                let expected = RecordError.invalidField("path length", "\(length) exceeds 32")
                if bytes.count <= RecordEnvelope.maximumSize { #expect(Kit.envelopeError(bytes) == expected) }
                #expect(Kit.envelopeError(withoutPath) == expected)
                #expect(Kit.verifyError(withoutPath, corpus.key.publicKey) == .malformed(expected))
            }
        }
        // Leaf index at and beyond the leaf count.
        let leafCount = try BatchHeader(decoding: envelope.header).leafCount
        for index in [leafCount, leafCount + 1, .max] {
            var moved = envelope
            moved.leafIndex = index
            #expect(Kit.verifyError(moved.encoded(), corpus.key.publicKey) == .notInBatch)
        }
    }

    @Test func valueCountBoundaries() throws {
        let codes = Quantity.allCases.map(\.code).sorted()
        func values(_ count: Int) -> [(UInt16, Int8, Int64)] { (0..<count).map { (codes[$0 % codes.count], -1, Int64($0)) } }
        // Every quantity once: the most values a valid record can have in this version.
        let all = Kit.rawRecord(values: values(codes.count))
        #expect(try ReadingRecord(decoding: all).encoded() == all)
        let highest = Quantity(code: codes.last!)!.rawValue, lowest = Quantity(code: codes[0])!.rawValue
        for count in [codes.count + 1, 64] {
            #expect(Kit.recordError(Kit.rawRecord(values: values(count))) == .invalidField("values", "quantity codes must strictly increase (\(highest), \(lowest))"), "\(count) values")
        }
        #expect(Kit.recordError(Kit.rawRecord(values: values(65))) == .invalidField("values", "more than 64"))
        for count in [65, 255] {
            #expect(Kit.recordError(Kit.rawRecord(valueCount: count, values: [])) == .truncated("value 0 quantity"))
        }
        // The encoder refuses too (65 values of one quantity).
        let tooMany = ReadingRecord(gatewayID: "g", meterID: "m", sequence: 2, captureTimeMillis: 0, flags: [], profileID: "p", status: .partial,
                                    previousHash: [UInt8](repeating: 1, count: 32), values: (0..<65).map { Measurement(.frequency, ScaledValue(Int64($0))) })
        #expect(Kit.encoderError(tooMany) == .invalidField("values", "more than 64"))
        // A failed reading carries none.
        #expect(Kit.recordError(Kit.rawRecord(status: 2, values: values(1))) == .invalidField("values", "a failed reading carries no values"))
    }

    @Test func identifierLengthBoundaries() throws {
        for length in [0, 1, 64, 65, 128, 129, 255] {
            for (field, maximum, start) in [("gateway id", 64, 1), ("meter id", 128, 5), ("profile id", 64, 28)] {
                let id = Kit.id(length)
                let bytes = switch field {
                case "gateway id": Kit.rawRecord(gateway: id)
                case "meter id": Kit.rawRecord(meter: id)
                default: Kit.rawRecord(profile: id)
                }
                let failure = Kit.recordError(bytes)
                if (1...maximum).contains(length) {
                    #expect(failure == nil, "\(field) of \(length)")
                    #expect(try ReadingRecord(decoding: bytes).encoded() == bytes)
                } else {
                    #expect(failure == .invalidField(field, "length \(length) is outside 1…\(maximum)"), "\(field) of \(length)")
                }
                // The input ends inside the id.
                if length > 0 {
                    let cut = Kit.recordError(Array(bytes.prefix(start + length)))
                    if (1...maximum).contains(length) { #expect(cut == .truncated(field), "\(field) of \(length), cut") } else { #expect(cut != nil) }
                }
            }
            let header = Kit.rawHeader(gateway: Kit.id(length), leafCount: 1, root: [UInt8](repeating: 0, count: 32))
            let failure = Kit.headerError(header)
            if (1...64).contains(length) {
                #expect(failure == nil, "batch gateway id of \(length)")
            } else if header.count > 118 {
                #expect(failure == .tooLarge(header.count, maximum: 118), "batch gateway id of \(length)")
            } else {
                #expect(failure == .invalidField("batch gateway id", "length \(length) is outside 1…64"), "batch gateway id of \(length)")
            }
            // Within the size limit, a too-long declared length is refused as such.
            if length > 64 {
                let short = [1, UInt8(length)] + [UInt8](repeating: UInt8(ascii: "a"), count: 60)
                #expect(Kit.headerError(short) == .invalidField("batch gateway id", "length \(length) is outside 1…64"))
            }
        }
        // One byte outside [A-Za-z0-9._:-].
        for byte: UInt8 in [0x00, 0x20, UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "#"), 0x7F, 0x80, 0xFF] {
            let bytes = Kit.rawRecord(meter: [3, UInt8(ascii: "a"), byte, UInt8(ascii: "b")])
            #expect(Kit.recordError(bytes) == .invalidField("meter id", "contains a character outside [A-Za-z0-9._:-]"))
        }
    }

    // MARK: Merkle proofs and meter chains

    @Test func merkleVerifyNeverTrapsAndBindsIndexAndPath() throws {
        let seed = Kit.seed(0x5EED_0005)
        let iterations = 20_000 * Kit.scale
        let trees = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 100, 257].map { size in
            let leaves = (0..<size).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8), 0x4D]) }
            return (leaves: leaves, root: MerkleTree.root(leafHashes: leaves), paths: MerkleTree.auditPaths(leafHashes: leaves, indices: Array(leaves.indices)))
        }
        var accepted = 0, acceptedChanged = 0
        let start = ContinuousClock.now
        for iteration in 0..<iterations {
            var rng = Kit.RNG(seed: seed, iteration: iteration)
            let tree = trees[rng.below(trees.count)]
            let trueIndex = rng.below(tree.leaves.count)
            var leaf = tree.leaves[trueIndex], root = tree.root, path = tree.paths[trueIndex]
            var index = UInt64(trueIndex), size = UInt64(tree.leaves.count)
            var sizeOrLeafChanged = false
            for _ in 0..<rng.int(1...3) {
                switch rng.below(9) {
                case 0: index = rng.pick([0, 1, size &- 1, size, size &+ 1, .max, .max - 1, rng.next(), index ^ (1 << UInt64(rng.below(64)))])
                case 1:
                    size = rng.pick([0, 1, 2, size &- 1, size &+ 1, size &* 2, .max, rng.next(), size ^ (1 << UInt64(rng.below(64)))])
                    sizeOrLeafChanged = true
                case 2: if !path.isEmpty { path.remove(at: rng.below(path.count)) }
                case 3: path.insert(rng.bytes(32), at: rng.int(0...path.count))
                case 4: if !path.isEmpty { let i = rng.below(path.count); path[i] = rng.bytes(rng.pick([0, 1, 31, 32, 33, 64])) }
                case 5:
                    if !path.isEmpty {
                        let i = rng.below(path.count)
                        if !path[i].isEmpty { path[i][rng.below(path[i].count)] ^= 1 << UInt8(rng.below(8)) }
                    }
                case 6: path = (0..<rng.int(0...70)).map { _ in rng.bytes(rng.chance(7, in: 8) ? 32 : rng.int(0...40)) }
                case 7:
                    if rng.chance(1, in: 2) { leaf = rng.bytes(rng.pick([0, 31, 32, 33])) } else { root = rng.bytes(rng.pick([0, 31, 32, 33])) }
                    sizeOrLeafChanged = true
                default: path = path.reversed()
                }
            }
            guard MerkleTree.verify(leafHash: leaf, index: index, size: size, path: path, root: root) else { continue }
            accepted += 1
            // With distinct leaves, the root, the leaf and the tree size pin down the position and the path.
            if !sizeOrLeafChanged {
                if index != UInt64(trueIndex) || path != tree.paths[trueIndex] { acceptedChanged += 1 }
                #expect(index == UInt64(trueIndex) && path == tree.paths[trueIndex],
                        "seed \(Kit.hex(seed)), iteration \(iteration): index \(index) of \(size) verified for leaf \(trueIndex)")
            }
        }
        // Random garbage, including empty and huge trees.
        let garbage = 2_000 * Kit.scale
        for iteration in 0..<garbage {
            var rng = Kit.RNG(seed: seed ^ 0xFFFF, iteration: iteration)
            let size = rng.pick([0, 1, 2, .max, rng.next(), UInt64(rng.below(5000))])
            let index = rng.pick([0, size, size &- 1, .max, rng.next()])
            let path = (0..<rng.int(0...70)).map { _ in rng.bytes(rng.chance(3, in: 4) ? 32 : rng.int(0...40)) }
            _ = MerkleTree.verify(leafHash: rng.bytes(32), index: index, size: size, path: path, root: rng.bytes(rng.pick([0, 32])))
        }
        print("fuzz merkle: seed \(Kit.hex(seed)), \(iterations) mutated proofs + \(garbage) random ones, 0 crashes, \(accepted) accepted (\(acceptedChanged) with another index or path); \(ContinuousClock.now - start)")
    }

    @Test func meterChainClassifiesExtremeSequencesLikeTheSpec() {
        let seed = Kit.seed(0x5EED_0006)
        let perMemory = 7_500 * Kit.scale
        var verdicts: [String: Int] = [:]
        let start = ContinuousClock.now
        for memory in [0, 1, 3, 1024] {
            var rng = Kit.RNG(seed: seed, iteration: memory)
            var chain = MeterChain(memory: memory)
            // The model, written from docs/FORMAT.md "Verifying a record", step 5.
            var last: UInt64 = 0, lastHash = ReadingRecord.zeroHash, known: [UInt64: [UInt8]] = [:]
            var used: [UInt64: [UInt8]] = [:]
            for iteration in 0..<perMemory {
                if iteration % 250 == 0 {  // a new meter now and then, so the extremes do not end every chain early
                    chain = MeterChain(memory: memory)
                    (last, lastHash, known, used) = (0, ReadingRecord.zeroHash, [:], [:])
                }
                let sequence: UInt64 = switch rng.below(32) {
                case 0..<6: last &- UInt64(rng.below(3))
                case 6..<9: last &+ UInt64(rng.int(2...4))
                case 9: rng.pick([0, 1, 2, .max, .max - 1, .max - 2])
                case 10: rng.next()
                default: last &+ 1
                }
                let previous = rng.chance(3, in: 4) ? lastHash : rng.bytes(32)
                let bytes = rng.chance(1, in: 3) ? (used[sequence] ?? rng.bytes(8)) : rng.bytes(8)
                let record = ReadingRecord(gatewayID: "g", meterID: "m", sequence: sequence, captureTimeMillis: 0, flags: [], profileID: "p",
                                           status: .failed, previousHash: previous, values: [])
                let verdict = chain.classify(record, bytes: bytes)
                let hash = ReadingRecord.hash(of: bytes)
                let expected: MeterChain.Verdict =
                    if sequence <= last { known[sequence].map { $0 == hash ? MeterChain.Verdict.duplicate : .equivocation } ?? .replay }
                    else if sequence == last + 1 { previous == lastHash ? .next : .brokenLink }
                    else { .gap(missing: (last + 1)...(sequence - 1)) }
                #expect(verdict == expected, "seed \(Kit.hex(seed)), memory \(memory), iteration \(iteration): sequence \(sequence) after \(last)")
                verdicts[String("\(verdict)".prefix { $0 != "(" }), default: 0] += 1
                let accept = switch verdict {
                case .next: true
                case .gap: rng.chance(1, in: 2)
                default: false
                }
                guard accept else { continue }
                chain.accept(record, bytes: bytes)
                last = sequence
                lastHash = hash
                known[sequence] = hash
                used[sequence] = bytes
                if known.count > memory, let oldest = known.keys.min() { known[oldest] = nil }
                #expect(chain.lastSequence == last && chain.lastHash == lastHash)
            }
        }
        let summary = verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("fuzz meter chain: seed \(Kit.hex(seed)), \(perMemory * 4) records over 4 memory sizes, 0 crashes, verdicts: \(summary); \(ContinuousClock.now - start)")
    }
}

// MARK: - Test kit

/// Everything the fuzz tests share, namespaced so nothing collides with other test files.
enum DecoderFuzzKit {
    /// `GRIDLEDGER_FUZZ_SEED` mixed into every test's seed (0 when unset).
    static let seedOverride: UInt64 = {
        guard let text = ProcessInfo.processInfo.environment["GRIDLEDGER_FUZZ_SEED"] else { return 0 }
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) ?? 0 : UInt64(text) ?? 0
    }()
    static let scale: Int = max(1, Int(ProcessInfo.processInfo.environment["GRIDLEDGER_FUZZ_SCALE"] ?? "") ?? 1)
    static func seed(_ base: UInt64) -> UInt64 { base ^ seedOverride }

    /// xoshiro256** (Blackman & Vigna), seeded through SplitMix64. Every draw goes through the
    /// helpers below rather than the standard library's `random(in:using:)`, so a seed names the
    /// same inputs on every platform and toolchain.
    struct RNG {
        private var s0, s1, s2, s3: UInt64

        init(seed: UInt64, iteration: Int) {
            var x = seed &+ UInt64(truncatingIfNeeded: iteration) &* 0xD1B5_4A32_D192_ED03
            func splitMix() -> UInt64 {
                x &+= 0x9E37_79B9_7F4A_7C15
                var z = x
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            s0 = splitMix()
            s1 = splitMix()
            s2 = splitMix()
            s3 = splitMix()
        }

        mutating func next() -> UInt64 {
            let result = rotate(s1 &* 5, 7) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = rotate(s3, 45)
            return result
        }

        private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

        /// 0..<n by multiply-shift (bias below n / 2^64, irrelevant here).
        mutating func below(_ n: Int) -> Int { Int(next().multipliedFullWidth(by: UInt64(n)).high) }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }
        mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
        mutating func bytes(_ count: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            var i = 0
            while i < count {
                var word = next()
                for _ in 0..<min(8, count - i) {
                    out[i] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    i += 1
                }
            }
            return out
        }
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // Typed throws are not inferred for closures, so each decoder gets its own helper.
    static func recordError(_ bytes: [UInt8]) -> RecordError? {
        do throws(RecordError) { _ = try ReadingRecord(decoding: bytes); return nil } catch { return error }
    }
    static func headerError(_ bytes: [UInt8]) -> RecordError? {
        do throws(RecordError) { _ = try BatchHeader(decoding: bytes); return nil } catch { return error }
    }
    static func envelopeError(_ bytes: [UInt8]) -> RecordError? {
        do throws(RecordError) { _ = try RecordEnvelope(decoding: bytes); return nil } catch { return error }
    }
    static func encoderError(_ record: ReadingRecord) -> RecordError? {
        do throws(RecordError) { _ = try record.encoded(); return nil } catch { return error }
    }
    static func verifyError(_ bytes: [UInt8], _ key: Curve25519.Signing.PublicKey) -> VerificationError? {
        do throws(VerificationError) { _ = try RecordVerifier().verify(bytes, publicKey: key); return nil } catch { return error }
    }

    // MARK: Mutations

    /// A fixed-width field of a valid encoding (a length, count, code or number) worth setting to
    /// its boundary values.
    struct Field: Sendable {
        var offset: Int
        var width: Int
    }

    static func boundaryValues(width: Int, original: UInt64) -> [UInt64] {
        let common: [UInt64] = [0, 1, original &+ 1, original &- 1, original ^ 0x80]
        let specific: [UInt64] = switch width {
        case 1: [2, 31, 32, 33, 40, 41, 42, 63, 64, 65, 118, 119, 127, 128, 129, 254, 255]
        case 2: [117, 118, 119, 1014, 1015, 1016, 1023, 1024, 1025, 2240, 2241, 0x7FFF, 0x8000, 0xFFFF]
        case 4: [4095, 4096, 4097, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]
        default: [2, UInt64(Int64.max), UInt64(bitPattern: Int64.min), .max]
        }
        return common + specific
    }

    /// Applies one to four random mutations to `input`; `spliced` tells whether bytes of `donor`
    /// may have been taken.
    static func mutate(_ input: [UInt8], fields: [Field], donor: [UInt8], rng: inout RNG) -> (bytes: [UInt8], spliced: Bool) {
        var bytes = input
        var spliced = false
        let rounds = rng.chance(1, in: 2) ? 1 : rng.int(2...4)
        for _ in 0..<rounds {
            switch bytes.isEmpty ? 6 : rng.below(13) {
            case 0: bytes[rng.below(bytes.count)] ^= 1 << UInt8(rng.below(8))
            case 1: bytes[rng.below(bytes.count)] = 0x00
            case 2: bytes[rng.below(bytes.count)] = 0xFF
            case 3: bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
            case 4:
                let i = rng.below(bytes.count)
                bytes[i] = bytes[i] &+ UInt8(truncatingIfNeeded: rng.int(-4...4))
            case 5:  // truncate, mostly near the end
                bytes.removeLast(rng.chance(1, in: 2) ? rng.int(1...min(40, bytes.count)) : rng.int(1...bytes.count))
            case 6:  // extend with random bytes or a copy of the input's tail
                bytes += rng.chance(1, in: 2) ? rng.bytes(rng.int(1...64)) : Array(input.suffix(rng.int(1...max(1, input.count))))
            case 7: bytes.insert(contentsOf: rng.bytes(rng.int(1...8)), at: rng.int(0...bytes.count))
            case 8:  // duplicate a range
                let start = rng.below(bytes.count), length = rng.int(1...min(64, bytes.count - start))
                bytes.insert(contentsOf: Array(bytes[start..<start + length]), at: rng.int(0...bytes.count))
            case 9:  // delete a range
                let start = rng.below(bytes.count), length = rng.int(1...min(64, bytes.count - start))
                bytes.removeSubrange(start..<start + length)
            case 10:  // splice: a prefix of this input and a suffix of the donor, often at the same offset
                let cut = rng.int(0...bytes.count)
                let from = rng.chance(1, in: 2) ? min(cut, donor.count) : rng.int(0...donor.count)
                bytes = Array(bytes[..<cut]) + Array(donor[from...])
                spliced = true
            default:  // a length, count or number field at one of its boundaries
                guard !fields.isEmpty, case let field = rng.pick(fields), field.offset + field.width <= bytes.count else {
                    bytes[rng.below(bytes.count)] ^= 1 << UInt8(rng.below(8))
                    break
                }
                var original: UInt64 = 0
                for i in 0..<field.width { original = original << 8 | UInt64(bytes[field.offset + i]) }
                let value = rng.pick(boundaryValues(width: field.width, original: original))
                for i in 0..<field.width { bytes[field.offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (field.width - 1 - i))) }
            }
        }
        return (bytes, spliced)
    }

    /// The fixed-width fields of a valid record encoding, from its layout in docs/FORMAT.md.
    static func recordFields(_ bytes: [UInt8], at base: Int = 0) -> [Field] {
        var fields = [Field(offset: base, width: 1)]
        var offset = 1
        func id() {
            fields.append(Field(offset: base + offset, width: 1))
            offset += 1 + Int(bytes[offset])
        }
        id()  // gateway
        id()  // meter
        fields += [Field(offset: base + offset, width: 8), Field(offset: base + offset + 8, width: 8), Field(offset: base + offset + 16, width: 1)]
        offset += 17
        id()  // profile
        fields.append(Field(offset: base + offset, width: 1))  // status
        offset += 1 + 32
        fields.append(Field(offset: base + offset, width: 1))  // value count
        let count = Int(bytes[offset])
        offset += 1
        for _ in 0..<count {
            fields += [Field(offset: base + offset, width: 2), Field(offset: base + offset + 2, width: 1), Field(offset: base + offset + 3, width: 8)]
            offset += 11
        }
        precondition(offset == bytes.count)
        return fields
    }

    static func headerFields(_ bytes: [UInt8], at base: Int = 0) -> [Field] {
        let id = Int(bytes[1])
        return [Field(offset: base, width: 1), Field(offset: base + 1, width: 1), Field(offset: base + 2 + id, width: 8),
                Field(offset: base + 10 + id, width: 8), Field(offset: base + 18 + id, width: 4)]
    }

    static func envelopeFields(_ envelope: RecordEnvelope) -> [Field] {
        let r = envelope.record.count, h = envelope.header.count
        return [Field(offset: 0, width: 1), Field(offset: 1, width: 2)] + recordFields(envelope.record, at: 3)
            + [Field(offset: 3 + r, width: 2)] + headerFields(envelope.header, at: 5 + r)
            + [Field(offset: 5 + r + h + 64, width: 4), Field(offset: 5 + r + h + 68, width: 1)]
    }

    // MARK: Raw encodings (no validation), for boundary inputs

    static func be(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - $0))) } }

    /// An id field: the length byte and `length` identifier characters.
    static func id(_ length: Int) -> [UInt8] {
        let alphabet = Array("abcXYZ019._:-".utf8)
        return [UInt8(length)] + (0..<length).map { alphabet[$0 % alphabet.count] }
    }

    static func rawRecord(gateway: [UInt8] = id(3), meter: [UInt8] = id(5), sequence: UInt64 = 2, flags: UInt8 = 1, profile: [UInt8] = id(4),
                          status: UInt8 = 1, valueCount: Int? = nil, values: [(UInt16, Int8, Int64)] = []) -> [UInt8] {
        var bytes: [UInt8] = [1] + gateway + meter + be(sequence, 8) + be(UInt64(bitPattern: -5), 8) + [flags] + profile + [status]
        bytes += [UInt8](repeating: 0xA5, count: 32) + [UInt8(valueCount ?? values.count)]
        for (code, exponent, mantissa) in values { bytes += be(UInt64(code), 2) + [UInt8(bitPattern: exponent)] + be(UInt64(bitPattern: mantissa), 8) }
        return bytes
    }

    static func rawHeader(gateway: [UInt8], leafCount: UInt32, root: [UInt8]) -> [UInt8] {
        [1] + gateway + be(5, 8) + be(6, 8) + be(UInt64(leafCount), 4) + root
    }

    static func rawEnvelope(recordLength: Int? = nil, record: [UInt8], headerLength: Int? = nil, header: [UInt8], signature: [UInt8],
                            leafIndex: UInt32, path: [[UInt8]]) -> [UInt8] {
        [1] + be(UInt64(recordLength ?? record.count), 2) + record + be(UInt64(headerLength ?? header.count), 2) + header + signature
            + be(UInt64(leafIndex), 4) + [UInt8(path.count)] + path.flatMap { $0 }
    }

    // MARK: Valid inputs

    /// Real records, signed in real batches with a fixed key: the seeds of every mutation.
    struct Corpus: Sendable {
        struct Envelope: Sendable {
            var bytes: [UInt8]
            var record: [UInt8]
            var header: [UInt8]
        }

        let key: Curve25519.Signing.PrivateKey
        let records: [[UInt8]]
        let recordFields: [[Field]]
        let headers: [(bytes: [UInt8], signature: [UInt8])]
        let headerFields: [[Field]]
        let envelopes: [Envelope]
        let envelopeFields: [[Field]]
        /// The envelope with the largest record and a 118-byte header.
        let longest: Envelope

        private static let built: Result<Corpus, any Error> = Result { try Corpus() }
        /// The corpus, built once per process.
        static func load() throws -> Corpus { try built.get() }

        static let longGateway = String(repeating: "Gw-1.x:_", count: 8)  // 64 characters

        init() throws {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
            var rng = RNG(seed: 0xC0_4905, iteration: 0)
            let batches: [(gateway: String, size: Int, sequence: UInt64, created: Int64)] = [
                ("gw1", 1, 1, 0), ("gw1", 2, 2, 1_700_000_000_000), ("gw1", 3, 3, -1), ("gw1", 5, 4, .max), ("gw1", 7, 5, .min),
                (Self.longGateway, 4, .max, 42), (Self.longGateway, 6, 7, 1_763_726_400_000), ("g", 9, 1, 5),
            ]
            var records: [[UInt8]] = [], headers: [(bytes: [UInt8], signature: [UInt8])] = [], envelopes: [Envelope] = []
            var envelopeFields: [[Field]] = []
            for (b, batch) in batches.enumerated() {
                var batchRecords: [[UInt8]] = []
                for index in 0..<batch.size { batchRecords.append(try Self.record(gateway: batch.gateway, batch: b, index: index, rng: &rng).encoded()) }
                let signed = try BatchSigner(gatewayID: batch.gateway, key: key).sign(records: batchRecords, batchSequence: batch.sequence, createdMillis: batch.created)
                records += batchRecords
                headers.append((signed[0].header, signed[0].signature))
                for envelope in signed {
                    envelopes.append(Envelope(bytes: envelope.encoded(), record: envelope.record, header: envelope.header))
                    envelopeFields.append(DecoderFuzzKit.envelopeFields(envelope))
                }
            }
            precondition(Set(records).count == records.count, "records of the corpus must be distinct")
            self.records = records
            self.recordFields = records.map { DecoderFuzzKit.recordFields($0) }
            self.headers = headers
            self.headerFields = headers.map { DecoderFuzzKit.headerFields($0.bytes) }
            self.envelopes = envelopes
            self.envelopeFields = envelopeFields
            longest = envelopes.filter { $0.header.count == 118 }.max { $0.record.count < $1.record.count }!
        }

        /// Six shapes of record: first of a chain, every quantity at extreme values, failed,
        /// SunSpec-like, a random subset, negative extremes.
        static func record(gateway: String, batch: Int, index: Int, rng: inout RNG) -> ReadingRecord {
            let tag = "b\(batch)m\(index)"
            let all = Quantity.allCases
            func extreme(_ rng: inout RNG) -> ScaledValue {
                let mantissa = rng.pick([.min, .max, 0, -1, 1, Int64(bitPattern: rng.next())])
                return ScaledValue(mantissa, exponent: rng.pick([.min, .max, 0, -3, Int8(truncatingIfNeeded: rng.next())]))
            }
            switch index % 6 {
            case 0:
                return ReadingRecord(gatewayID: gateway, meterID: "\(gateway):rs485:\(tag)", sequence: 1, captureTimeMillis: 1_700_000_000_000,
                                     flags: .clockSynchronized, profileID: "eastron-sdm630", status: .complete, previousHash: ReadingRecord.zeroHash,
                                     values: [Measurement(.energyActiveImportTotal, ScaledValue(1000 + Int64(index))), Measurement(.voltageL1, ScaledValue(2305, exponent: -1))])
            case 1:
                var values: [GridLedgerCore.Measurement] = []
                for quantity in all { values.append(Measurement(quantity, extreme(&rng))) }
                return ReadingRecord(gatewayID: gateway, meterID: String(repeating: "m", count: 128 - tag.count) + tag, sequence: 2 + UInt64(batch),
                                     captureTimeMillis: .max, flags: [], profileID: String(repeating: "P", count: 64), status: .partial,
                                     previousHash: rng.bytes(32), values: values)
            case 2:
                return ReadingRecord(gatewayID: gateway, meterID: tag, sequence: .max - UInt64(batch), captureTimeMillis: .min, flags: [], profileID: "p",
                                     status: .failed, previousHash: rng.bytes(32), values: [])
            case 3:
                return ReadingRecord(gatewayID: gateway, meterID: "sunspec-" + tag, sequence: 1, captureTimeMillis: 0, flags: .clockSynchronized,
                                     profileID: "sunspec:1:101:120", status: .complete, previousHash: ReadingRecord.zeroHash,
                                     values: [Measurement(.frequency, ScaledValue(5000, exponent: -2)), Measurement(.dcPower, ScaledValue(-12, exponent: 3))])
            case 4:
                var values: [GridLedgerCore.Measurement] = []
                for quantity in all where rng.chance(1, in: 3) { values.append(Measurement(quantity, extreme(&rng))) }
                let sequence = 2 + (rng.next() >> 1)
                let synchronized = rng.chance(1, in: 2)
                return ReadingRecord(gatewayID: gateway, meterID: "r:" + tag, sequence: sequence, captureTimeMillis: Int64(bitPattern: rng.next()),
                                     flags: synchronized ? .clockSynchronized : [], profileID: "x.y-z", status: .partial, previousHash: rng.bytes(32),
                                     values: values)
            default:
                return ReadingRecord(gatewayID: gateway, meterID: "neg:" + tag, sequence: 3, captureTimeMillis: -1, flags: .clockSynchronized, profileID: "abb-b23",
                                     status: .complete, previousHash: rng.bytes(32),
                                     values: [Measurement(.powerActiveTotal, ScaledValue(-20005, exponent: -1)), Measurement(.currentN, ScaledValue(.min, exponent: .min))])
            }
        }
    }
}
