import Crypto
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Testing

@Suite("IngestLedger")
struct IngestLedgerTests {
    typealias F = Fixture
    let t = F.t0 + 1000
    let grace = LedgerRules().gapGraceMillis
    let tolerance = LedgerRules().futureToleranceMillis

    @Test func acceptsInOrder() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        for n in 1...3 {
            let outcomes = try ledger.admit(gw.envelope(F.m1, at: t + Int64(n), energy: 1000 + Int64(n)), at: t + Int64(n))
            #expect(summary(outcomes) == ["accepted \(F.m1)#\(n)"])
        }
        #expect(ledger.head(of: F.m1)?.sequence == 3)
        #expect(ledger.head(of: F.m1)?.hash == gw.lastHash(F.m1))
        #expect(ledger.head(of: F.m2) == nil)
    }

    @Test func duplicateIsIgnored() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        let first = gw.envelope(F.m1, at: t, energy: 1)
        #expect(summary(try ledger.admit(first, at: t)) == ["accepted \(F.m1)#1"])
        #expect(try ledger.admit(first, at: t + 5) == [.duplicate(meterID: F.m1, gatewayID: F.gw1)])
        #expect(summary(try ledger.admit(gw.envelope(F.m1, at: t + 1, energy: 2), at: t + 6)) == ["accepted \(F.m1)#2"])
        #expect(try ledger.admit(first, at: t + 7) == [.duplicate(meterID: F.m1, gatewayID: F.gw1)])
    }

    @Test func equivocationYieldsEvidenceAndARefusal() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = try ledger.admit(gw.envelope(F.m1, at: t, energy: 1), at: t)
        let previous = gw.lastHash(F.m1)
        let accepted = gw.next(F.m1, at: t + 1, energy: 2)
        _ = try ledger.admit(gw.sign([accepted])[0], at: t + 1)
        // A second, different record with sequence 2.
        let other = F.record(meter: F.m1, sequence: 2, previous: previous, at: t + 1, energy: 3)
        let evidence = gw.sign([other])[0]
        let outcomes = try ledger.admit(evidence, at: t + 2)
        #expect(outcomes.count == 2)
        #expect(outcomes.first == .event(.equivocation(meterID: F.m1, sequence: 2, acceptedHash: F.hash(accepted), evidence: evidence)))
        #expect(outcomes.last == .refused(.equivocation(sequence: 2), meterID: F.m1, gatewayID: F.gw1, envelope: evidence))
        #expect(ledger.head(of: F.m1)?.hash == F.hash(accepted))
    }

    @Test func sequenceRegressionBeyondMemoryAfterRestart() throws {
        var gw = TestGateway()
        let envelopes = (1...4).map { gw.envelope(F.m1, at: t + Int64($0), energy: Int64($0)) }
        var first = F.ledger()
        for envelope in envelopes.prefix(3) { _ = try first.admit(envelope, at: t + 10) }
        let stored = try #require(first.head(of: F.m1)).encoded()
        // Restarted from the stored head: the chain continues, but old records are not remembered.
        var ledger = F.ledger(heads: [F.m1: try MeterHead(decoding: stored)])
        #expect(ledger.head(of: F.m1)?.sequence == 3)
        let old = try ledger.admit(envelopes[1], at: t + 20)
        #expect(old == [.refused(.sequenceRegression(sequence: 2, head: 3), meterID: F.m1, gatewayID: F.gw1, envelope: envelopes[1])])
        #expect(summary(try ledger.admit(envelopes[2], at: t + 20)) == ["refused sequence_regression \(F.m1)#3"])
        #expect(summary(try ledger.admit(envelopes[3], at: t + 20)) == ["accepted \(F.m1)#4"])
    }

    @Test func brokenLinkIsRefused() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = try ledger.admit(gw.envelope(F.m1, at: t, energy: 1), at: t)
        let unlinked = F.record(meter: F.m1, sequence: 2, previous: Array(repeating: 7, count: 32), at: t + 1, energy: 2)
        let bytes = gw.sign([unlinked])[0]
        #expect(try ledger.admit(bytes, at: t + 1) == [.refused(.brokenLink, meterID: F.m1, gatewayID: F.gw1, envelope: bytes)])
        #expect(ledger.head(of: F.m1)?.sequence == 1)
        #expect(summary(try ledger.admit(gw.envelope(F.m1, at: t + 2, energy: 2), at: t + 2)) == ["accepted \(F.m1)#2"])
    }

    @Test func counterRollbackIsRefused() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = try ledger.admit(gw.envelope(F.m1, at: t, energy: 1000), at: t)
        let lower = F.record(meter: F.m1, sequence: 2, previous: gw.lastHash(F.m1), at: t + 1, energy: 999)
        let outcomes = try ledger.admit(gw.sign([lower])[0], at: t + 1)
        guard case .refused(.counterRollback(let quantity), _, _, _) = outcomes.first else {
            Issue.record("not refused as counter rollback: \(summary(outcomes))")
            return
        }
        #expect(quantity == .energyActiveImportTotal)
        #expect(outcomes.count == 1)
        // Equal counters and a lower (non-counter) power are fine.
        let equal = F.record(meter: F.m1, sequence: 2, previous: gw.lastHash(F.m1), at: t + 2, energy: 1000, power: -4000)
        #expect(summary(try ledger.admit(gw.sign([equal])[0], at: t + 2)) == ["accepted \(F.m1)#2"])
    }

    @Test func futureTimestampBeyondTolerance() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        // The first record of a meter (no head yet).
        let far = F.record(meter: F.m1, sequence: 1, previous: ReadingRecord.zeroHash, at: t + tolerance + 1, energy: 1)
        let farBytes = gw.sign([far])[0]
        #expect(try ledger.admit(farBytes, at: t) == [.refused(.futureTimestamp(aheadMillis: 1), meterID: F.m1, gatewayID: F.gw1, envelope: farBytes)])
        // Exactly at the tolerance it is accepted.
        #expect(summary(try ledger.admit(gw.envelope(F.m1, at: t + tolerance, energy: 1), at: t)) == ["accepted \(F.m1)#1"])
        // A successor.
        let next = F.record(meter: F.m1, sequence: 2, previous: gw.lastHash(F.m1), at: t + 2 * tolerance + 6, energy: 1)
        let nextBytes = gw.sign([next])[0]
        #expect(try ledger.admit(nextBytes, at: t + tolerance + 1) == [.refused(.futureTimestamp(aheadMillis: 5), meterID: F.m1, gatewayID: F.gw1, envelope: nextBytes)])
    }

    @Test func timeRegressionIsRefused() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = try ledger.admit(gw.envelope(F.m1, at: t + 5000, energy: 1), at: t + 5000)
        let earlier = F.record(meter: F.m1, sequence: 2, previous: gw.lastHash(F.m1), at: t + 4000, energy: 1)
        let bytes = gw.sign([earlier])[0]
        #expect(try ledger.admit(bytes, at: t + 6000) == [.refused(.timeRegression(behindMillis: 1000), meterID: F.m1, gatewayID: F.gw1, envelope: bytes)])
        // The same capture time is not a regression.
        let same = F.record(meter: F.m1, sequence: 2, previous: gw.lastHash(F.m1), at: t + 5000, energy: 1)
        #expect(summary(try ledger.admit(gw.sign([same])[0], at: t + 6000)) == ["accepted \(F.m1)#2"])
    }

    @Test func outOfOrderRecordIsHeldThenAcceptedInOrder() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        let envelopes = gw.sign((1...4).map { gw.next(F.m1, at: t + Int64($0), energy: Int64($0)) })
        _ = try ledger.admit(envelopes[0], at: t + 10)
        #expect(try ledger.admit(envelopes[3], at: t + 10) == [.held(meterID: F.m1)])
        #expect(try ledger.admit(envelopes[2], at: t + 11) == [.held(meterID: F.m1)])
        #expect(try ledger.admit(envelopes[2], at: t + 12) == [.duplicate(meterID: F.m1, gatewayID: F.gw1)])
        #expect(ledger.heldCount == 2)
        #expect(summary(try ledger.admit(envelopes[1], at: t + 13)) == ["accepted \(F.m1)#2", "accepted \(F.m1)#3", "accepted \(F.m1)#4"])
        #expect(ledger.heldCount == 0)
        #expect(ledger.head(of: F.m1)?.sequence == 4)
        #expect(summary(ledger.expireHeld(nowMillis: t + 1_000_000)).isEmpty)
    }

    @Test func heldEquivocationIsRefused() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        let envelopes = gw.sign((1...3).map { gw.next(F.m1, at: t + Int64($0), energy: Int64($0)) })
        _ = try ledger.admit(envelopes[0], at: t)
        _ = try ledger.admit(envelopes[2], at: t)
        let other = F.record(meter: F.m1, sequence: 3, previous: Array(repeating: 1, count: 32), at: t + 3, energy: 3)
        #expect(summary(try ledger.admit(gw.sign([other])[0], at: t)) == ["refused equivocation \(F.m1)#3"])
    }

    @Test func holeExpiresAsMissingDataAndLateRecordIsRefused() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        let envelopes = gw.sign((1...4).map { gw.next(F.m1, at: t + Int64($0) * 1000, energy: Int64($0)) })
        _ = try ledger.admit(envelopes[0], at: t + 1000)
        let arrival = t + 3100
        #expect(try ledger.admit(envelopes[2], at: arrival) == [.held(meterID: F.m1)])
        #expect(ledger.expireHeld(nowMillis: arrival + grace - 1).isEmpty)
        #expect(ledger.heldCount == 1)
        let expired = ledger.expireHeld(nowMillis: arrival + grace)
        #expect(expired.first == .event(.missingData(meterID: F.m1, first: 2, last: 2, reason: .neverArrived)))
        #expect(summary(expired) == ["missing \(F.m1) 2...2 neverArrived", "accepted \(F.m1)#3"])
        #expect(ledger.heldCount == 0)
        // Record 2 arrives after its place was recorded as missing: never accepted.
        let late = try ledger.admit(envelopes[1], at: arrival + grace + 1)
        #expect(late.count == 1)
        guard case .refused(let refusal, _, _, _) = late.first else {
            Issue.record("late record not refused: \(summary(late))")
            return
        }
        #expect(refusal == .lateForGap)
        #expect(ledger.head(of: F.m1)?.sequence == 3)
        #expect(summary(try ledger.admit(envelopes[3], at: arrival + grace + 2)) == ["accepted \(F.m1)#4"])
    }

    @Test func holeOfRefusedRecordsIsLabelledRefused() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = try ledger.admit(gw.envelope(F.m1, at: t, energy: 10), at: t)
        _ = gw.next(F.m1, at: t + 1, energy: 11)  // the real record 2, never delivered
        // Instead a record 2 that is refused (counter rollback) arrives, then record 3.
        let rolledBack = F.record(meter: F.m1, sequence: 2, previous: try #require(ledger.head(of: F.m1)).hash, at: t + 1, energy: 1)
        #expect(summary(try ledger.admit(gw.sign([rolledBack])[0], at: t + 1)) == ["refused counter_rollback \(F.m1)#2"])
        let three = gw.envelope(F.m1, at: t + 2, energy: 12)
        #expect(try ledger.admit(three, at: t + 2) == [.held(meterID: F.m1)])
        #expect(summary(ledger.expireHeld(nowMillis: t + 2 + grace)) == ["missing \(F.m1) 2...2 refused", "accepted \(F.m1)#3"])
    }

    /// The comment in `expireHeld` promises that "a missing-data event is always followed by the record
    /// it bridges to". For a meter without a head (its first records never arrived) the record after
    /// the hole is checked only after the event was emitted.
    @Test func missingDataIsAlwaysFollowedByTheRecordItBridges() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = gw.next(F.m1, at: t, energy: 1)
        _ = gw.next(F.m1, at: t + 1, energy: 2)
        let future = gw.envelope(F.m1, at: t + tolerance + 1000, energy: 3)  // #3, too far ahead of its arrival
        #expect(try ledger.admit(future, at: t) == [.held(meterID: F.m1)])
        let outcomes = ledger.expireHeld(nowMillis: t + grace)
        #expect(summary(outcomes).contains("refused future_timestamp \(F.m1)#3"))
        for (index, outcome) in outcomes.enumerated() {
            guard case .event(.missingData) = outcome else { continue }
            let following = outcomes.dropFirst(index + 1).first
            guard case .accepted = following else {
                Issue.record("missing-data event not followed by the record it bridges: \(summary(outcomes))")
                continue
            }
        }
        // Minted as they are, these outcomes must make a valid block.
        var chain = ChainBuilder()
        try chain.mint(records: [], events: try F.entries.map { try LedgerEvent.registry($0).encoded() }, at: t)
        try chain.mint(outcomes, at: t + grace)
        #expect(verifyChain(chain.blocks) == nil)
    }

    @Test func revocationAppliedLaterRefusesTheKey() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        _ = try ledger.admit(gw.envelope(F.m1, at: t, energy: 1), at: t)
        // Authenticated before the revocation, admitted after it.
        let second = try F.authenticated(gw.envelope(F.m1, at: t + 2000, energy: 2), ledger.registry)
        try ledger.apply(F.entry(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: t + 2000)))
        #expect(summary(ledger.admit(second, receivedMillis: t + 2000)) == ["refused key_revoked \(F.m1)#2"])
        #expect(ledger.head(of: F.m1)?.sequence == 1)
        // Registry changes are refused as the registry refuses them.
        #expect(throws: RegistryError.self) { try ledger.apply(F.entries[0]) }
    }

    @Test func rotationAppliedLaterMakesTheOldKeyTheWrongKey() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        let record = try F.authenticated(gw.envelope(F.m1, at: t + 2000, energy: 1), ledger.registry)
        try ledger.apply(F.entry(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: t + 1000)))
        #expect(summary(ledger.admit(record, receivedMillis: t + 2000)) == ["refused wrong_key \(F.m1)#1"])
    }

    @Test func acceptedRecordsCarryTheirMetersHeads() throws {
        var ledger = F.ledger()
        var gw = TestGateway()
        var gw2 = TestGateway(F.gw2, key: F.otherGatewayKey)
        /// The head after the last accepted record of each meter, as the minter persists them.
        func heads(_ outcomes: [IngestLedger.Outcome]) -> [String: MeterHead] {
            var heads: [String: MeterHead] = [:]
            for case .accepted(let record, let head) in outcomes { heads[record.record.meterID] = head }
            return heads
        }
        var outcomes: [IngestLedger.Outcome] = []
        let batch = gw.sign([gw.next(F.m1, at: t, energy: 100), gw.next(F.m2, at: t, energy: 7)])
        for envelope in batch { outcomes += try ledger.admit(envelope, at: t) }
        let m1two = gw.next(F.m1, at: t + 1000, energy: 150, power: 9)
        outcomes += try ledger.admit(gw.sign([m1two])[0], at: t + 1000)
        // A refused record touches nothing.
        let refused = try ledger.admit(gw2.sign([F.record(gateway: F.gw2, meter: F.m3, sequence: 1, previous: ReadingRecord.zeroHash, at: t + tolerance + 99, energy: 1)])[0], at: t)
        #expect(heads(refused).isEmpty)
        outcomes += refused
        let touched = heads(outcomes)
        #expect(Set(touched.keys) == [F.m1, F.m2])
        #expect(touched[F.m1] == MeterHead(sequence: 2, hash: F.hash(m1two), captureMillis: t + 1000, counters: [.energyActiveImportTotal: ScaledValue(150)]))
        #expect(touched[F.m2]?.sequence == 1)
        #expect(touched[F.m2]?.hash == gw.lastHash(F.m2))
        #expect(touched[F.m2]?.counters == [.energyActiveImportTotal: ScaledValue(7)])
        #expect(touched[F.m1] == ledger.head(of: F.m1))
        #expect(Set(heads(try ledger.admit(gw2.envelope(F.m3, at: t, energy: 1), at: t)).keys) == [F.m3])
    }

    @Test func tooManyHeldIsRefused() throws {
        var ledger = F.ledger(rules: LedgerRules(maximumHeldPerMeter: 2))
        var gw = TestGateway()
        let envelopes = gw.sign((1...5).map { gw.next(F.m1, at: t + Int64($0), energy: Int64($0)) })
        #expect(summary(try envelopes[2...].flatMap { try ledger.admit($0, at: t) }) == ["held \(F.m1)", "held \(F.m1)", "refused too_many_held \(F.m1)#5"])
    }
}
