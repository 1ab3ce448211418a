import Crypto
import Foundation
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Testing

/// The committed ledger vectors (Vectors/ledger_vectors.json) were made by an independent
/// implementation written from the text of docs/FORMAT.md (Vectors/make_ledger_vectors.py, pure
/// Python with its own RFC 8032 Ed25519): ours must decode, verify and reproduce them byte for byte.
/// The test target declares no resources, so the files are found next to this source file.
@Suite struct LedgerVectorTests {
    struct Vector: Decodable {
        struct VectorBlock: Decodable {
            var height: UInt64
            var previousHash: String
            var time: Int64
            var header: String
            var signatureInput: String
            var signature: String
            var body: String
            var hash: String
            var recordsRoot: String
            var eventsRoot: String
            var envelopes: [String]
            var events: [String]
        }
        var aggregatorSeed: String
        var aggregatorPublicKey: String
        var aggregatorKeyID: String
        var gatewaySeed: String
        var gatewayPublicKey: String
        var dummyGatewayPublicKey: String
        var gatewayID: String
        var meterID: String
        var records: [String]
        var refusedRecord: String
        var blocks: [VectorBlock]
        var chainExport: String
        var inclusionProof: InclusionProof
    }

    static let vectorsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    static let vectorURL = vectorsDirectory.appendingPathComponent("ledger_vectors.json")
    static let scriptURL = vectorsDirectory.appendingPathComponent("make_ledger_vectors.py")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let vector: Vector

    init() throws {
        vector = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: Self.vectorURL))
    }

    static func bytes(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        try #require(Hex.decode(text), "not hex: \(text.prefix(40))", sourceLocation: sourceLocation)
    }

    func blocks() throws -> [Block] {
        try vector.blocks.map { block in
            Block(header: try BlockHeader(decoding: try Self.bytes(block.header)), signature: try Self.bytes(block.signature),
                  records: try block.envelopes.map { try Self.bytes($0) }, events: try block.events.map { try Self.bytes($0) })
        }
    }

    var aggregatorKey: Curve25519.Signing.PublicKey {
        get throws { try Curve25519.Signing.PublicKey(rawRepresentation: try Self.bytes(vector.aggregatorPublicKey)) }
    }

    var gatewayKey: Curve25519.Signing.PublicKey {
        get throws { try Curve25519.Signing.PublicKey(rawRepresentation: try Self.bytes(vector.gatewayPublicKey)) }
    }

    @Test func keysDeriveFromTheFixedSeeds() throws {
        let aggregator = try Curve25519.Signing.PrivateKey(rawRepresentation: try Self.bytes(vector.aggregatorSeed))
        #expect(Hex.encode(aggregator.publicKey.rawRepresentation) == vector.aggregatorPublicKey)
        #expect(Hex.encode(KeyID.of(Array(aggregator.publicKey.rawRepresentation))) == vector.aggregatorKeyID)
        let gateway = try Curve25519.Signing.PrivateKey(rawRepresentation: try Self.bytes(vector.gatewaySeed))
        #expect(Hex.encode(gateway.publicKey.rawRepresentation) == vector.gatewayPublicKey)
        #expect(vector.aggregatorSeed == Hex.encode(Array(1...32) as [UInt8]))
        #expect(vector.gatewaySeed == Hex.encode(Array(0x21...0x40) as [UInt8]))
    }

    @Test func headersRoundTripHashAndVerify() throws {
        let key = try aggregatorKey
        #expect(vector.blocks.count == 3)
        for (index, expected) in vector.blocks.enumerated() {
            let bytes = try Self.bytes(expected.header)
            #expect(bytes.count == BlockHeader.size)
            let header = try BlockHeader(decoding: bytes)
            #expect(header.encoded() == bytes, "block \(index): header does not re-encode byte for byte")
            #expect(Hex.encode(header.hash) == expected.hash, "block \(index): hash")
            #expect(header.height == expected.height)
            #expect(header.height == UInt64(index))
            #expect(Hex.encode(header.previousHash) == expected.previousHash)
            #expect(header.timeMillis == expected.time)
            #expect(Hex.encode(header.recordsRoot) == expected.recordsRoot)
            #expect(Hex.encode(header.eventsRoot) == expected.eventsRoot)
            #expect(Int(header.recordCount) == expected.envelopes.count)
            #expect(Int(header.eventCount) == expected.events.count)
            #expect(Hex.encode(header.keyID) == vector.aggregatorKeyID)
            #expect(Hex.encode(BlockHeader.signatureInput(headerBytes: bytes)) == expected.signatureInput)
            #expect(key.isValidSignature(try Self.bytes(expected.signature), for: BlockHeader.signatureInput(headerBytes: bytes)))
            #expect(Hex.encode(MerkleTree.root(leafHashes: try expected.envelopes.map { MerkleTree.leafHash(try Self.bytes($0)) })) == expected.recordsRoot)
            #expect(Hex.encode(MerkleTree.root(leafHashes: try expected.events.map { MerkleTree.leafHash(try Self.bytes($0)) })) == expected.eventsRoot)
            if index > 0 { #expect(expected.previousHash == vector.blocks[index - 1].hash) }
        }
        // An empty list's root is SHA-256 of nothing (block 0 has no records, block 1 no events).
        let empty = Hex.encode(SHA256.hash(data: [UInt8]()))
        #expect(vector.blocks[0].recordsRoot == empty)
        #expect(vector.blocks[1].eventsRoot == empty)
    }

    @Test func bodiesRoundTrip() throws {
        for (index, expected) in vector.blocks.enumerated() {
            let body = try Self.bytes(expected.body)
            let (records, events) = try Block.decodeBody(body)
            #expect(records.map(Hex.encode) == expected.envelopes, "block \(index): records")
            #expect(events.map(Hex.encode) == expected.events, "block \(index): events")
            let block = Block(header: try BlockHeader(decoding: try Self.bytes(expected.header)), signature: try Self.bytes(expected.signature),
                              records: records, events: events)
            #expect(block.encodedBody() == body, "block \(index): body does not re-encode byte for byte")
        }
    }

    @Test func eventsDecodeAndReencode() throws {
        var decoded: [[LedgerEvent]] = []
        for (index, expected) in vector.blocks.enumerated() {
            var events: [LedgerEvent] = []
            for (position, text) in expected.events.enumerated() {
                let bytes = try Self.bytes(text)
                let event = try LedgerEvent(decoding: bytes)
                #expect(try event.encoded() == bytes, "block \(index) event \(position) does not re-encode byte for byte")
                events.append(event)
            }
            decoded.append(events)
        }
        #expect(decoded[0].count == 5)
        for event in decoded[0] {
            guard case .registry = event else { Issue.record("block 0 holds a non-registry event: \(event.summary)"); continue }
        }
        #expect(decoded[1].isEmpty)
        #expect(decoded[2].count == 2)
        #expect(decoded[2].first == .missingData(meterID: vector.meterID, first: 4, last: 4, reason: .neverArrived))
        guard case .equivocation(let meterID, let sequence, let acceptedHash, let evidence) = decoded[2].last else {
            Issue.record("block 2's last event is not an equivocation")
            return
        }
        #expect(meterID == vector.meterID)
        #expect(sequence == 2)
        #expect(acceptedHash == ReadingRecord.hash(of: try Self.bytes(vector.records[1])))
        // The evidence is a complete envelope, verifiable with the gateway's key, of a different record 2.
        let refused = try RecordVerifier().verify(evidence, publicKey: try gatewayKey)
        #expect(Hex.encode(refused.bytes) == vector.refusedRecord)
        #expect(refused.record.sequence == 2)
        #expect(refused.bytes != (try Self.bytes(vector.records[1])))
    }

    @Test func theChainVerifies() throws {
        var verifier = ChainVerifier(aggregatorKey: try aggregatorKey)
        for block in try blocks() {
            try verifier.verify(block)
        }
        #expect(verifier.blockCount == 3)
        #expect(verifier.recordCount == 4)
        #expect(verifier.missingRecords == 1)
        #expect(verifier.lastBlock.map { Hex.encode($0.hash) } == vector.blocks.last?.hash)
    }

    @Test func theExportReadsVerifiesAndReencodes() throws {
        let export = try Self.bytes(vector.chainExport)
        var reader = try ChainExport.Reader(export)
        #expect(Hex.encode(reader.aggregatorKey) == vector.aggregatorPublicKey)
        var verifier = ChainVerifier(aggregatorKey: try Curve25519.Signing.PublicKey(rawRepresentation: reader.aggregatorKey))
        var read: [Block] = []
        while let block = try reader.next() {
            try verifier.verify(block)
            read.append(block)
        }
        #expect(read == (try blocks()))
        #expect(verifier.blockCount == 3)
        #expect(ChainExport.preamble(aggregatorKey: reader.aggregatorKey) + read.flatMap(ChainExport.encode) == export)
    }

    @Test func theInclusionProofVerifies() throws {
        let proof = vector.inclusionProof
        #expect(proof.format == InclusionProof.format)
        let verified = try proof.verify(aggregatorKey: try aggregatorKey, gatewayKey: try gatewayKey)
        #expect(verified.header.height == 1)
        #expect(Hex.encode(verified.record.bytes) == vector.records[1])
        #expect(verified.record.record.meterID == vector.meterID)
        #expect(verified.record.record.sequence == 2)
        // Ours makes the same proof for the same block and index.
        #expect(InclusionProof.make(block: try blocks()[1], index: 1) == proof)
        // Decoding the proof as standalone JSON (what `verify-proof` reads) gives the same value.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.vectorURL)) as? [String: Any])
        let standalone = try JSONSerialization.data(withJSONObject: try #require(object["inclusionProof"]))
        #expect(try JSONDecoder().decode(InclusionProof.self, from: standalone) == proof)
        // Without the gateway key, only the paths are checked; with another gateway key it fails.
        _ = try proof.verify(aggregatorKey: try aggregatorKey, gatewayKey: nil)
        let other = try Curve25519.Signing.PublicKey(rawRepresentation: try Self.bytes(vector.dummyGatewayPublicKey))
        #expect(throws: InclusionProof.Failure.self) { try proof.verify(aggregatorKey: try aggregatorKey, gatewayKey: other) }
    }

    @Test func ourMinterProducesTheSameBlocks() throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: try Self.bytes(vector.aggregatorSeed))
        for (index, expected) in vector.blocks.enumerated() {
            let block = try Block.mint(
                height: expected.height, previousHash: try Self.bytes(expected.previousHash), timeMillis: expected.time,
                records: try expected.envelopes.map { try Self.bytes($0) }, events: try expected.events.map { try Self.bytes($0) }, key: key
            )
            #expect(Hex.encode(block.header.encoded()) == expected.header, "block \(index): minted header")
            // Ed25519 (RFC 8032) is deterministic: the same key and input give the same signature.
            #expect(Hex.encode(block.signature) == expected.signature, "block \(index): minted signature")
            #expect(Hex.encode(block.encodedBody()) == expected.body, "block \(index): minted body")
            #expect(Hex.encode(block.header.hash) == expected.hash, "block \(index): minted hash")
        }
    }

    /// The generator is reproducible: run again, it writes exactly the committed file.
    @Test(.enabled(if: LedgerVectorTests.python != nil, "neither .venv-peers/bin/python nor python3 is available to run make_ledger_vectors.py"))
    func theGeneratorReproducesTheCommittedVectors() throws {
        let python = try #require(Self.python)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-vectors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        process.executableURL = python
        process.arguments = [Self.scriptURL.path, directory.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(python.path) make_ledger_vectors.py failed: \(String(decoding: stderr, as: UTF8.self))")
        let produced = try Data(contentsOf: directory.appendingPathComponent("ledger_vectors.json"))
        let committed = try Data(contentsOf: Self.vectorURL)
        #expect(produced == committed, "make_ledger_vectors.py (run with \(python.path)) no longer writes the committed ledger_vectors.json")
    }

    /// The project's venv (scripts/setup.sh) if present, else `python3` on the PATH.
    static let python: URL? = {
        let fileManager = FileManager.default
        let venv = repositoryRoot.appendingPathComponent(".venv-peers/bin/python")
        if fileManager.isExecutableFile(atPath: venv.path) { return venv }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("python3")
            if fileManager.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()
}
