import Crypto
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Testing

@Suite("ChainVerifier")
struct ChainVerifierTests {
    typealias F = Fixture
    let t = StandardChain.t

    @Test func theIngestedChainVerifies() throws {
        let standard = try StandardChain()
        #expect(summary(standard.outcomes[0]) == ["accepted \(F.m1)#1", "accepted \(F.m2)#1"])
        #expect(summary(standard.outcomes[1]) == [
            "accepted \(F.m2)#2", "accepted \(F.m1)#2", "accepted \(F.m3)#1",
            "equivocation \(F.m1)#2", "refused equivocation \(F.m1)#2", "accepted \(F.m1)#3",
        ])
        #expect(summary(standard.outcomes[2]) == ["held \(F.m1)", "accepted \(F.m2)#3", "missing \(F.m1) 4...4 neverArrived", "accepted \(F.m1)#5"])
        let blocks = standard.blocks
        #expect(blocks.map(\.records.count) == [2, 4, 2])
        #expect(blocks.map(\.events.count) == [F.entries.count, 1, 1])

        var verifier = ChainVerifier(aggregatorKey: F.aggregatorKey.publicKey)
        for block in blocks { try verifier.verify(block) }
        #expect(verifier.blockCount == 3)
        #expect(verifier.recordCount == 8)
        #expect(verifier.eventCount == F.entries.count + 2)
        #expect(verifier.missingRecords == 1)
        #expect(verifier.lastBlock == blocks[2].header)
        #expect(verifier.registry == standard.ledger.registry)
        for meter in [F.m1, F.m2, F.m3] { #expect(verifier.heads[meter] == standard.ledger.head(of: meter)) }
        #expect(verifier.heads[F.m1]?.sequence == 5)
    }

    /// A stored block: its header bytes, signature and body.
    struct Stored {
        var header: [UInt8]
        var signature: [UInt8]
        var body: [UInt8]

        init(_ block: Block) {
            header = block.header.encoded()
            signature = block.signature
            body = block.encodedBody()
        }

        func restored() throws -> Block {
            let body = try Block.decodeBody(body)
            return Block(header: try BlockHeader(decoding: header), signature: signature, records: body.records, events: body.events)
        }

        /// What each body byte is: `record 2`, `event 0 length`, …
        func bodyLabels(_ block: Block) -> [String] {
            var labels = Array(repeating: "record count", count: 4)
            for (index, record) in block.records.enumerated() {
                labels += Array(repeating: "record \(index) length", count: 2) + Array(repeating: "record \(index)", count: record.count)
            }
            labels += Array(repeating: "event count", count: 4)
            for (index, event) in block.events.enumerated() {
                labels += Array(repeating: "event \(index) length", count: 2) + Array(repeating: "event \(index)", count: event.count)
            }
            return labels
        }
    }

    /// True when the chain with `stored` in place of block `index` fails to load or to verify.
    func detected(_ blocks: [Block], replacing index: Int, with stored: Stored) -> Bool {
        guard let block = try? stored.restored() else { return true }
        var chain = blocks
        chain[index] = block
        return verifyChain(chain) != nil
    }

    @Test("A flipped bit anywhere in a stored block is detected", arguments: 0..<3)
    func everyFlippedBitIsDetected(blockIndex: Int) throws {
        let blocks = try StandardChain().blocks
        #expect(verifyChain(blocks) == nil)
        let block = blocks[blockIndex]
        let stored = Stored(block)
        #expect(try stored.restored() == block)
        let untouchedCaught = detected(blocks, replacing: blockIndex, with: stored)
        #expect(!untouchedCaught)
        let labels = stored.bodyLabels(block)
        #expect(labels.count == stored.body.count)
        // Every byte of every record envelope and every event is in the body.
        #expect(labels.filter { $0.hasPrefix("record ") && !$0.hasSuffix("length") && $0 != "record count" }.count == block.records.reduce(0) { $0 + $1.count })
        #expect(labels.filter { $0.hasPrefix("event ") && !$0.hasSuffix("length") && $0 != "event count" }.count == block.events.reduce(0) { $0 + $1.count })

        var checked = 0
        for position in stored.header.indices {
            var tampered = stored
            tampered.header[position] ^= 1 << UInt8(position % 8)
            let caught = detected(blocks, replacing: blockIndex, with: tampered)
            #expect(caught, "block \(blockIndex) header byte \(position)")
            checked += 1
        }
        for position in stored.signature.indices {
            var tampered = stored
            tampered.signature[position] ^= 1 << UInt8(position % 8)
            let caught = detected(blocks, replacing: blockIndex, with: tampered)
            #expect(caught, "block \(blockIndex) signature byte \(position)")
            checked += 1
        }
        for position in stored.body.indices {
            var tampered = stored
            tampered.body[position] ^= 1 << UInt8(position % 8)
            let caught = detected(blocks, replacing: blockIndex, with: tampered)
            #expect(caught, "block \(blockIndex) body byte \(position) (\(labels[position]))")
            checked += 1
        }
        #expect(checked == 153 + 64 + stored.body.count)
    }

    @Test func wrongHeightFails() throws {
        let blocks = try StandardChain().blocks
        for height: UInt64 in [0, 2, 1000] {
            var chain = ChainBuilder(blocks: [blocks[0]])
            try chain.mint(records: blocks[1].records, events: blocks[1].events, at: blocks[1].header.timeMillis, height: height)
            let failure = try #require(verifyChain(chain.blocks))
            #expect(failure.height == height && failure.record == nil && failure.event == nil)
            #expect(failure.reason.contains("height"))
        }
        var first = ChainBuilder()
        try first.mint(records: blocks[0].records, events: blocks[0].events, at: blocks[0].header.timeMillis, height: 1)
        #expect(verifyChain(first.blocks)?.height == 1)
    }

    @Test func wrongPreviousHashFails() throws {
        let blocks = try StandardChain().blocks
        for previous in [ReadingRecord.zeroHash, blocks[1].header.hash, blocks[0].header.previousHash + [0]] {
            var chain = ChainBuilder(blocks: [blocks[0]])
            try chain.mint(records: blocks[1].records, events: blocks[1].events, at: blocks[1].header.timeMillis, previousHash: previous)
            let failure = try #require(verifyChain(chain.blocks))
            #expect(failure == ChainFailure(height: 1, reason: failure.reason))
            #expect(failure.reason.contains("previous hash"))
        }
        var first = ChainBuilder()
        try first.mint(records: blocks[0].records, events: blocks[0].events, at: blocks[0].header.timeMillis, previousHash: Array(repeating: 1, count: 32))
        #expect(verifyChain(first.blocks) == ChainFailure(height: 0, reason: verifyChain(first.blocks)?.reason ?? ""))
    }

    @Test func blockTimeGoingBackFails() throws {
        let blocks = try StandardChain().blocks
        var chain = ChainBuilder(blocks: [blocks[0]])
        try chain.mint(records: blocks[1].records, events: blocks[1].events, at: blocks[0].header.timeMillis - 1)
        #expect(verifyChain(chain.blocks)?.height == 1)
    }

    @Test func recordAppearingTwiceFails() throws {
        let blocks = try StandardChain().blocks
        // Twice in one block.
        var same = ChainBuilder(blocks: [blocks[0]])
        try same.mint(records: blocks[1].records + [blocks[1].records[1]], events: blocks[1].events, at: blocks[1].header.timeMillis)
        let failure = try #require(verifyChain(same.blocks))
        #expect(failure.height == 1 && failure.record == 4 && failure.event == nil)
        // Again in a later block.
        var later = ChainBuilder(blocks: Array(blocks[0...1]))
        try later.mint(records: [blocks[0].records[0]] + blocks[2].records, events: blocks[2].events, at: blocks[2].header.timeMillis)
        let again = try #require(verifyChain(later.blocks))
        #expect(again.height == 2 && again.record == 0 && again.event == nil)
    }

    @Test func holeWithoutMissingDataEventFails() throws {
        let blocks = try StandardChain().blocks
        var chain = ChainBuilder(blocks: Array(blocks[0...1]))
        try chain.mint(records: blocks[2].records, events: [], at: blocks[2].header.timeMillis)
        let failure = try #require(verifyChain(chain.blocks))
        #expect(failure.height == 2 && failure.record == 1 && failure.event == nil)
        #expect(failure.reason.contains("4...4"))
        // A declared range that is not the hole does not bridge it either.
        var wrong = ChainBuilder(blocks: Array(blocks[0...1]))
        let event = try LedgerEvent.missingData(meterID: F.m1, first: 3, last: 4, reason: .neverArrived).encoded()
        try wrong.mint(records: blocks[2].records, events: [event], at: blocks[2].header.timeMillis)
        let mismatch = try #require(verifyChain(wrong.blocks))
        #expect(mismatch.height == 2 && mismatch.record == 1)
    }

    @Test func missingDataEventThatBridgesNothingFails() throws {
        let blocks = try StandardChain().blocks
        let stray = try LedgerEvent.missingData(meterID: F.m2, first: 9, last: 9, reason: .refused).encoded()
        var chain = ChainBuilder(blocks: [blocks[0]])
        try chain.mint(records: blocks[1].records, events: blocks[1].events + [stray], at: blocks[1].header.timeMillis)
        let failure = try #require(verifyChain(chain.blocks))
        #expect(failure.height == 1 && failure.event == 1 && failure.record == nil)
        #expect(failure.reason.contains("bridges nothing"))
        // The right event, but in a block without the record after the hole.
        var early = ChainBuilder(blocks: Array(blocks[0...1]))
        try early.mint(records: [blocks[2].records[0]], events: blocks[2].events, at: blocks[2].header.timeMillis)
        let orphan = try #require(verifyChain(early.blocks))
        #expect(orphan.height == 2 && orphan.event == 0 && orphan.record == nil)
    }

    @Test func recordSignedWithKeyRevokedInAnEarlierBlockFails() throws {
        var gw = TestGateway()
        var chain = ChainBuilder()
        try chain.mint(records: [gw.envelope(F.m1, at: t, energy: 1)], events: F.entries.map { try LedgerEvent.registry($0).encoded() }, at: t)
        let revoke = F.entry(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: t + 2000), at: t + 1500)
        try chain.mint(records: [gw.envelope(F.m1, at: t + 1000, energy: 2)], events: [try LedgerEvent.registry(revoke).encoded()], at: t + 1500)
        #expect(verifyChain(chain.blocks) == nil)
        var valid = chain
        var gwBefore = gw
        try valid.mint(records: [gwBefore.envelope(F.m1, at: t + 1999, energy: 3)], events: [], at: t + 3000)
        #expect(verifyChain(valid.blocks) == nil)
        try chain.mint(records: [gw.envelope(F.m1, at: t + 2000, energy: 3)], events: [], at: t + 3000)
        let failure = try #require(verifyChain(chain.blocks))
        #expect(failure.height == 2 && failure.record == 0 && failure.event == nil)
        #expect(failure.reason.contains("revoked"))
    }

    @Test func blockSignedByAnotherAggregatorKeyFails() throws {
        let blocks = try StandardChain().blocks
        var chain = ChainBuilder()
        try chain.mint(records: blocks[0].records, events: blocks[0].events, at: blocks[0].header.timeMillis, key: F.otherAggregatorKey)
        #expect(verifyChain(chain.blocks) == ChainFailure(height: 0, reason: "signed with another aggregator key"))
        #expect(verifyChain(chain.blocks, key: F.otherAggregatorKey.publicKey) == nil)
        var later = ChainBuilder(blocks: [blocks[0]])
        try later.mint(records: blocks[1].records, events: blocks[1].events, at: blocks[1].header.timeMillis, key: F.otherAggregatorKey)
        #expect(verifyChain(later.blocks)?.height == 1)
        // The right key id with another key's signature.
        var forged = blocks
        forged[1].signature = Array(try F.otherAggregatorKey.signature(for: BlockHeader.signatureInput(headerBytes: blocks[1].header.encoded())))
        #expect(verifyChain(forged) == ChainFailure(height: 1, reason: "block signature does not verify"))
    }

    @Test func countsAndRootsMustMatchTheBody() throws {
        let blocks = try StandardChain().blocks
        var fewer = blocks
        fewer[1].records.removeLast()
        #expect(verifyChain(fewer)?.height == 1)
        var swapped = blocks
        swapped[1].records.swapAt(0, 1)
        #expect(verifyChain(swapped)?.height == 1)
        var noEvents = blocks
        noEvents[0].events = []
        #expect(verifyChain(noEvents)?.height == 0)
    }

    @Test func refusedRegistryChangeFails() throws {
        let blocks = try StandardChain().blocks
        var chain = ChainBuilder(blocks: [blocks[0]])
        let duplicate = try LedgerEvent.registry(F.entries[0]).encoded()
        try chain.mint(records: blocks[1].records, events: [duplicate] + blocks[1].events, at: blocks[1].header.timeMillis)
        let failure = try #require(verifyChain(chain.blocks))
        #expect(failure.height == 1 && failure.event == 0 && failure.record == nil)
    }
}
