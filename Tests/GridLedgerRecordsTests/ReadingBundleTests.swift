import GridLedgerRecords
import Testing

@Suite struct ReadingBundleTests {
    typealias Kit = DecoderFuzzKit

    @Test func roundTripKeepsEveryEnvelopeByteForByteAndInOrder() throws {
        let envelopes = try Kit.Corpus.load().envelopes.map(\.bytes)
        let bundle = try ReadingBundle(envelopes: envelopes)
        let bytes = bundle.encoded()
        #expect(bytes[0] == 1)
        #expect(Int(bytes[1]) << 8 | Int(bytes[2]) == envelopes.count)
        #expect(bytes.count == 3 + envelopes.reduce(0) { $0 + 2 + $1.count })
        #expect(try ReadingBundle(decoding: bytes).envelopes == envelopes)
    }

    @Test func eachEnvelopeStillVerifiesAlone() throws {
        let corpus = try Kit.Corpus.load()
        let decoded = try ReadingBundle(decoding: ReadingBundle(envelopes: corpus.envelopes.map(\.bytes)).encoded())
        for envelope in decoded.envelopes {
            #expect(throws: Never.self) { try RecordVerifier().verify(envelope, publicKey: corpus.key.publicKey) }
        }
    }

    @Test func boundsAreEnforcedWhenBuilding() throws {
        let longest = try Kit.Corpus.load().longest.bytes
        #expect(throws: RecordError.self) { try ReadingBundle(envelopes: []) }
        #expect(throws: RecordError.self) { try ReadingBundle(envelopes: [[]]) }
        #expect(throws: RecordError.self) { try ReadingBundle(envelopes: [[UInt8](repeating: 1, count: RecordEnvelope.maximumSize + 1)]) }
        #expect(throws: RecordError.self) { try ReadingBundle(envelopes: Array(repeating: [1], count: ReadingBundle.maximumEnvelopes + 1)) }
        _ = try ReadingBundle(envelopes: Array(repeating: [1], count: ReadingBundle.maximumEnvelopes))
        // 65 536 bytes hold 3 + n × (2 + size); one more envelope than fits is refused.
        let fit = (ReadingBundle.maximumSize - 3) / (2 + longest.count)
        let full = try ReadingBundle(envelopes: Array(repeating: longest, count: fit))
        #expect(full.encoded().count <= ReadingBundle.maximumSize)
        #expect(throws: RecordError.tooLarge(3 + (fit + 1) * (2 + longest.count), maximum: ReadingBundle.maximumSize)) {
            try ReadingBundle(envelopes: Array(repeating: longest, count: fit + 1))
        }
    }

    @Test func malformedBundlesAreRefusedWithTheirReason() throws {
        let envelope = try Kit.Corpus.load().envelopes[0].bytes
        let good = try ReadingBundle(envelopes: [envelope, envelope]).encoded()
        #expect(throws: RecordError.truncated("bundle version")) { try ReadingBundle(decoding: []) }
        #expect(throws: RecordError.unsupportedVersion(2)) { try ReadingBundle(decoding: [2] + good.dropFirst()) }
        #expect(throws: RecordError.invalidField("envelope count", "0 is outside 1…256")) { try ReadingBundle(decoding: [1, 0, 0]) }
        #expect(throws: RecordError.invalidField("envelope count", "257 is outside 1…256")) { try ReadingBundle(decoding: [1, 1, 1]) }
        #expect(throws: RecordError.truncated("envelope 1")) { try ReadingBundle(decoding: Array(good.dropLast())) }
        #expect(throws: RecordError.trailingBytes(1)) { try ReadingBundle(decoding: good + [0]) }
        #expect(throws: RecordError.invalidField("envelope 0 length", "0 is outside 1…\(RecordEnvelope.maximumSize)")) {
            try ReadingBundle(decoding: [1, 0, 1, 0, 0])
        }
        #expect(throws: RecordError.tooLarge(ReadingBundle.maximumSize + 1, maximum: ReadingBundle.maximumSize)) {
            try ReadingBundle(decoding: [UInt8](repeating: 1, count: ReadingBundle.maximumSize + 1))
        }
    }

    @Test func packCutsInOrderWithinBothBounds() throws {
        let corpus = try Kit.Corpus.load()
        var envelopes: [[UInt8]] = []
        for index in 0..<700 { envelopes.append(index % 50 == 0 ? corpus.longest.bytes : corpus.envelopes[index % corpus.envelopes.count].bytes) }
        let bundles = try ReadingBundle.pack(envelopes)
        #expect(bundles.flatMap(\.envelopes) == envelopes)
        for bundle in bundles {
            #expect(bundle.envelopes.count <= ReadingBundle.maximumEnvelopes)
            #expect(bundle.encoded().count <= ReadingBundle.maximumSize)
        }
        // Full bundles: a bundle ends only where the next envelope would not fit.
        for (bundle, next) in zip(bundles, bundles.dropFirst()) {
            let size = bundle.encoded().count + 2 + next.envelopes[0].count
            #expect(bundle.envelopes.count == ReadingBundle.maximumEnvelopes || size > ReadingBundle.maximumSize)
        }
        let small = try ReadingBundle.pack(envelopes, maximumEnvelopes: 8)
        #expect(small.count == 88)
        #expect(small.flatMap(\.envelopes) == envelopes)
        #expect(try ReadingBundle.pack([]).isEmpty)
    }

    /// Random bytes, and valid bundles with a byte changed, cut or added: the decoder refuses
    /// or decodes, never traps, and what it decodes re-encodes to exactly its input.
    @Test func fuzzedBundlesDecodeCanonicallyOrNotAtAll() throws {
        let corpus = try Kit.Corpus.load()
        let seed = Kit.seed(0x5EED_00B0)
        let iterations = 20_000 * Kit.scale
        var decoded = 0
        for iteration in 0..<iterations {
            var rng = Kit.RNG(seed: seed, iteration: iteration)
            var input: [UInt8]
            if rng.chance(1, in: 4) {
                input = rng.bytes(rng.int(0...600))
                if !input.isEmpty { input[0] = 1 }
            } else {
                let count = rng.int(1...6)
                input = try ReadingBundle(envelopes: (0..<count).map { _ in rng.pick(corpus.envelopes).bytes }).encoded()
                for _ in 0..<rng.int(1...3) {
                    switch rng.below(4) {
                    case 0: input[rng.below(input.count)] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: input[rng.below(min(input.count, 8))] ^= UInt8(1 << rng.below(8))
                    case 2: input.removeLast(rng.int(0...min(input.count, 40)))
                    default: input += rng.bytes(rng.int(1...4))
                    }
                    if input.isEmpty { break }
                }
            }
            guard let bundle = try? ReadingBundle(decoding: input) else { continue }
            decoded += 1
            #expect(bundle.encoded() == input, "bundle not canonical: seed \(Kit.hex(seed)), iteration \(iteration), input \(Kit.hex(input))")
        }
        #expect(decoded > 0, "no mutation kept a well-formed bundle: the fuzzer does not reach the decoder's success path")
        print("fuzz bundle: seed \(Kit.hex(seed)), \(iterations) inputs, 0 crashes, \(decoded) decoded, all canonical")
    }

    @Test func topicsOfBundles() {
        let topics = GatewayTopics(gatewayID: "gw-1")
        #expect(topics.bundle == "gridledger/v1/gw-1/readings")
        #expect(GatewayTopics.parseBundle(topics.bundle) == "gw-1")
        #expect(GatewayTopics.parseIngest(topics.bundle) == TopicClaim(gatewayID: "gw-1"))
        #expect(GatewayTopics.parseIngest(topics.reading(meterID: "gw-1:b:1")) == TopicClaim(gatewayID: "gw-1", meterID: "gw-1:b:1"))
        for other in ["gridledger/v1//readings", "gridledger/v1/gw-1/readings/x", "gridledger/v2/gw-1/readings", "gridledger/v1/gw-1/confirm", topics.status] {
            #expect(GatewayTopics.parseIngest(other) == nil, "\(other)")
        }
    }
}
