import BillingCore
import Contracts
import Crypto
import Foundation
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Testing
@testable import Settlement

/// The example mid-market contract through the runner into minted blocks, and the verifier
/// re-deriving every settlement; a changed amount or a dropped settlement is caught.
@Suite("Settlement verifier")
struct SettlementVerifierTests {
    static let document: [UInt8] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return Array(try! Data(contentsOf: root.appendingPathComponent("docs/contracts/mid-market-example.yaml")))
    }()
    let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 5, count: 32))

    func registry() throws -> Registry {
        var registry = Registry()
        for (id, role) in [("alice", MemberRole.prosumer), ("bob", .consumer), ("carol", .consumer)] {
            try registry.apply(.addMember(Member(id: id, role: role, name: id)))
        }
        try registry.apply(.addGatewayKey(gatewayID: "gw", publicKey: Array(repeating: 1, count: 32), validFromMillis: 0))
        for (meter, member) in [("ga", "alice"), ("gb", "bob"), ("gc", "carol")] {
            try registry.apply(.addMeter(RegisteredMeter(meterID: meter, gatewayID: "gw", memberID: member, role: .grid, tariffGroup: "standard")))
        }
        return registry
    }

    func reading(_ meter: String, _ millis: Int64, import importWh: Int64, export exportWh: Int64) -> ReadingRecord {
        ReadingRecord(
            gatewayID: "gw", meterID: meter, sequence: 1, captureTimeMillis: millis, flags: [.clockSynchronized], profileID: "test",
            status: .complete, previousHash: ReadingRecord.zeroHash,
            values: [Measurement(.energyActiveImportTotal, ScaledValue(importWh * 10, exponent: -1)),
                     Measurement(.energyActiveExportTotal, ScaledValue(exportWh * 10, exponent: -1))])
    }

    /// An hour of 5-minute blocks as the aggregator would mint them: the contract in the first,
    /// each block's settlements after its other events.
    func chain() throws -> (blocks: [Block], readings: [[ReadingRecord]], registry: Registry) {
        let registry = try registry()
        let contract = try DeployedContract(Contract.parse(Self.document))
        var runner = SettlementRunner()
        #expect(runner.refusal(of: contract, blockTimeMillis: 0) == nil)
        var blocks: [Block] = []
        var readings: [[ReadingRecord]] = []
        var previous = ReadingRecord.zeroHash
        for step in Int64(0)...12 {
            let millis = contract.validFromMillis + step * 300_000
            var events: [[UInt8]] = []
            if step == 0 {
                runner.deploy(contract)
                events.append(try LedgerEvent.contractDeployed(document: Self.document).encoded())
            }
            let records = [
                reading("ga", millis, import: 100, export: 2_000 + step * 120),
                reading("gb", millis, import: 5_000 + step * 40, export: 0),
                reading("gc", millis, import: 7_000 + step * 90, export: 0),
            ]
            for record in runner.apply(samples: records.compactMap(MeterSample.init), registry: registry, blockTimeMillis: millis) {
                events.append(try LedgerEvent.settlement(payload: record.encoded()).encoded())
            }
            let block = try Block.mint(height: UInt64(step), previousHash: previous, timeMillis: millis, records: [], events: events, key: key)
            previous = block.header.hash
            blocks.append(block)
            readings.append(records)
        }
        return (blocks, readings, registry)
    }

    func verify(_ blocks: [Block], _ readings: [[ReadingRecord]], _ registry: Registry) throws(ChainFailure) -> SettlementVerifier {
        var verifier = SettlementVerifier(parse: DeployedContract.parse)
        for (block, records) in zip(blocks, readings) { try verifier.verify(block, records: records, registry: registry) }
        return verifier
    }

    @Test func theVerifierReDerivesEverySettlementOfTheExampleContract() throws {
        let (blocks, readings, registry) = try chain()
        let verifier = try verify(blocks, readings, registry)
        #expect(verifier.contractCount == 1)
        #expect(verifier.settlementCount == 4)
        // The first interval: alice exports 360 Wh, bob imports 120 and carol 270 (S < D). Mid-market,
        // off-peak (a Sunday night, 0.30), community grid fee 0.02/kWh on 360 Wh received.
        let first = try SettlementRecord(decoding: try #require(blocks.compactMap { block in
            block.events.compactMap { bytes -> [UInt8]? in
                if case .settlement(let payload) = try? LedgerEvent(decoding: bytes) { return payload }
                return nil
            }.first
        }.first))
        #expect(first.lines.map(\.memberID) == ["alice", "bob", "carol"])
        #expect(first.lines.map(\.exportWh) == [360, 0, 0])
        #expect(first.lines.map(\.importWh) == [0, 120, 270])
        #expect(first.retail == 300_000 && first.feedIn == 80_000)
        // Σ paid − Σ received = the community's grid bill r·(D − S) = 0.30 · 0.030 kWh, plus the grid fee.
        let paid = first.lines.reduce(0) { $0 + $1.energyCharge } - first.lines.reduce(0) { $0 + $1.energyCredit }
        #expect(paid == 9_000)
        #expect(first.lines.reduce(0) { $0 + $1.gridFeeCharge } == 7_200)
    }

    @Test func aChangedAmountOrADroppedSettlementFailsAtItsBlock() throws {
        let (blocks, readings, registry) = try chain()
        let height = try #require(blocks.firstIndex { $0.events.contains { if case .settlement = try? LedgerEvent(decoding: $0) { true } else { false } } })
        let index = try #require(blocks[height].events.lastIndex { if case .settlement = try? LedgerEvent(decoding: $0) { true } else { false } })
        guard case .settlement(let payload) = try LedgerEvent(decoding: blocks[height].events[index]) else { Issue.record("no settlement"); return }
        var record = try SettlementRecord(decoding: payload)
        record.lines[1].energyCharge += 1

        func remint(_ events: [[UInt8]]) throws -> [Block] {
            var copy = blocks
            copy[height] = try Block.mint(height: UInt64(height), previousHash: blocks[height].header.previousHash,
                                          timeMillis: blocks[height].header.timeMillis, records: [], events: events, key: key)
            return copy
        }
        var events = blocks[height].events
        events[index] = try LedgerEvent.settlement(payload: record.encoded()).encoded()
        do {
            _ = try verify(try remint(events), readings, registry)
            Issue.record("a changed amount was accepted")
        } catch let error as ChainFailure {
            #expect(error.height == UInt64(height) && error.event == index)
            #expect(error.reason.contains("member bob"))
        }
        events.remove(at: index)
        do {
            _ = try verify(try remint(events), readings, registry)
            Issue.record("a dropped settlement was accepted")
        } catch let error as ChainFailure {
            #expect(error.height == UInt64(height))
            #expect(error.reason.contains("missing"))
        }
    }
}
