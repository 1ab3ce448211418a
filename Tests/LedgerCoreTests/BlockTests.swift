import Crypto
import GridLedgerRecords
import LedgerCore
import Testing

@Suite("Block format")
struct BlockTests {
    typealias F = Fixture
    let records: [[UInt8]] = [[1, 2, 3], Array(repeating: 9, count: 300), []]
    let events: [[UInt8]] = [try! LedgerEvent.missingData(meterID: F.m1, first: 1, last: 2, reason: .refused).encoded()]

    func block() throws -> Block {
        try Block.mint(height: 7, previousHash: Array(repeating: 0xaa, count: 32), timeMillis: F.t0, records: records, events: events, key: F.aggregatorKey)
    }

    @Test func mintFillsAndSignsTheHeader() throws {
        let block = try block()
        let header = block.header
        #expect(header.height == 7)
        #expect(header.previousHash == Array(repeating: 0xaa, count: 32))
        #expect(header.timeMillis == F.t0)
        #expect(header.recordCount == 3 && header.eventCount == 1)
        #expect(header.recordsRoot == MerkleTree.root(leafHashes: records.map(MerkleTree.leafHash)))
        #expect(header.eventsRoot == MerkleTree.root(leafHashes: events.map(MerkleTree.leafHash)))
        #expect(header.keyID == Array(SHA256.hash(data: F.aggregatorKey.publicKey.rawRepresentation)))
        #expect(block.records == records && block.events == events)
        let input = Array("GridLedger block v1".utf8) + [0] + header.encoded()
        #expect(F.aggregatorKey.publicKey.isValidSignature(block.signature, for: input))
        #expect(!F.otherAggregatorKey.publicKey.isValidSignature(block.signature, for: input))
        // An empty block has the empty tree's roots.
        let empty = try Block.mint(height: 0, previousHash: ReadingRecord.zeroHash, timeMillis: 0, records: [], events: [], key: F.aggregatorKey)
        #expect(empty.header.recordsRoot == Array(SHA256.hash(data: [UInt8]())))
        #expect(empty.header.eventsRoot == empty.header.recordsRoot)
    }

    @Test func headerIs153BytesAndRoundTrips() throws {
        let header = try block().header
        let bytes = header.encoded()
        #expect(BlockHeader.size == 153)
        #expect(bytes.count == 153)
        #expect(bytes[0] == 1)
        #expect(Array(bytes[1..<9]) == Bytes.u64(7))
        #expect(Array(bytes[9..<41]) == header.previousHash)
        #expect(Array(bytes[41..<49]) == Bytes.i64(F.t0))
        #expect(Array(bytes[49..<81]) == header.recordsRoot)
        #expect(Array(bytes[81..<113]) == header.eventsRoot)
        #expect(Array(bytes[113..<121]) == [0, 0, 0, 3, 0, 0, 0, 1])
        #expect(Array(bytes[121...]) == header.keyID)
        #expect(try BlockHeader(decoding: bytes) == header)
        #expect(header.hash == Array(SHA256.hash(data: bytes)))
        #expect(throws: RecordError.self) { try BlockHeader(decoding: Array(bytes.dropLast())) }
        #expect(throws: RecordError.self) { try BlockHeader(decoding: bytes + [0]) }
        var version = bytes
        version[0] = 2
        #expect(throws: RecordError.unsupportedVersion(2)) { try BlockHeader(decoding: version) }
    }

    @Test func hashChangesWithEveryHeaderField() throws {
        let header = try block().header
        var changed = [header, header, header, header]
        changed[0].height += 1
        changed[1].timeMillis += 1
        changed[2].recordCount += 1
        changed[3].keyID[31] ^= 1
        #expect(Set(changed.map(\.hash) + [header.hash]).count == 5)
    }

    @Test func bodyRoundTrips() throws {
        let block = try block()
        let body = block.encodedBody()
        #expect(body.count == 4 + records.reduce(0) { $0 + 2 + $1.count } + 4 + events.reduce(0) { $0 + 2 + $1.count })
        let decoded = try Block.decodeBody(body)
        #expect(decoded.records == records)
        #expect(decoded.events == events)
        let empty = Block(header: block.header, signature: block.signature, records: [], events: [])
        #expect(empty.encodedBody() == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try Block.decodeBody(empty.encodedBody()).records.isEmpty)
    }

    @Test func truncatedOrTrailingBodiesAreRefused() throws {
        let body = try block().encodedBody()
        for length in 0..<body.count {
            #expect(throws: RecordError.self, "prefix of \(length) bytes") { try Block.decodeBody(Array(body.prefix(length))) }
        }
        #expect(throws: RecordError.trailingBytes(1)) { try Block.decodeBody(body + [0]) }
        // Counts that cannot fit the body, and a record longer than an envelope may be.
        #expect(throws: RecordError.self) { try Block.decodeBody([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]) }
        let long = [0, 0, 0, 1, 0xff, 0xff] + Array(repeating: UInt8(0), count: 0xffff) + [0, 0, 0, 0]
        #expect(throws: RecordError.tooLarge(0xffff, maximum: RecordEnvelope.maximumSize)) { try Block.decodeBody(long) }
    }
}
