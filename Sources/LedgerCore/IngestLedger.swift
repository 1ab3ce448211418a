import GridLedgerRecords

/// The sequential half of ingest: per-meter chain rules over authenticated records, in the order
/// they arrive, with out-of-order records held for a grace period before a hole is recorded as
/// missing data. Pure: time comes in as arguments, so every rule is tested without a clock.
///
/// Its state advances as records are admitted; each accepted record comes with the meter's head
/// after it, which the minter persists in the same transaction as the block holding the record.
public struct IngestLedger: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// With the meter's chain head after this record.
        case accepted(AuthenticatedRecord, head: MeterHead)
        case event(LedgerEvent)
        /// The same bytes as an accepted record: ignored (the gateway resent it).
        case duplicate(meterID: String, gatewayID: String)
        /// Waiting for earlier records of the meter.
        case held(meterID: String)
        case refused(Refusal, meterID: String, gatewayID: String, envelope: [UInt8])
    }

    private struct Track: Sendable {
        var head: MeterHead?
        var chain: MeterChain
        var held: [UInt64: (record: AuthenticatedRecord, arrivedMillis: Int64)] = [:]
        /// Sequences refused recently, to name the reason of a hole.
        var refused: Set<UInt64> = []
        /// The most recent holes recorded as missing data, to name why a late record is refused.
        var holes: [ClosedRange<UInt64>] = []
    }

    public private(set) var registry: Registry
    public let rules: LedgerRules
    private var tracks: [String: Track] = [:]

    public init(registry: Registry, heads: [String: MeterHead], rules: LedgerRules) {
        self.registry = registry
        self.rules = rules
        for (meterID, head) in heads {
            tracks[meterID] = Track(head: head, chain: MeterChain(lastSequence: head.sequence, lastHash: head.hash))
        }
    }

    public func head(of meterID: String) -> MeterHead? { tracks[meterID]?.head }

    public var heldCount: Int { tracks.values.reduce(0) { $0 + $1.held.count } }

    /// Applies a registry change for every record admitted after it.
    public mutating func apply(_ entry: RegistryEntry) throws(RegistryError) {
        try registry.apply(entry.change)
    }

    /// Admits one authenticated record received at `receivedMillis`.
    public mutating func admit(_ candidate: AuthenticatedRecord, receivedMillis: Int64) -> [Outcome] {
        let record = candidate.record
        let meterID = record.meterID
        // The registry may have changed since the record was authenticated.
        if let refusal = registry.check(record, signedWith: candidate.signingKey) {
            return [refused(refusal, candidate)]
        }
        // Taken out of the dictionary while it changes, so its buffers are not copied per record.
        var track = tracks.removeValue(forKey: meterID) ?? Track(head: nil, chain: MeterChain())
        defer { tracks[meterID] = track }
        switch track.chain.classify(record, bytes: candidate.verified.bytes) {
        case .duplicate:
            return [.duplicate(meterID: meterID, gatewayID: record.gatewayID)]
        case .equivocation:
            return equivocation(candidate, track: track)
        case .replay:
            if track.holes.contains(where: { $0.contains(record.sequence) }) {
                return [refused(.lateForGap, candidate)]
            }
            return [refused(.sequenceRegression(sequence: record.sequence, head: track.chain.lastSequence), candidate)]
        case .brokenLink:
            track.refused.insert(record.sequence)
            return [refused(.brokenLink, candidate)]
        case .gap:
            if let held = track.held[record.sequence] {
                if held.record.verified.bytes == candidate.verified.bytes { return [.duplicate(meterID: meterID, gatewayID: record.gatewayID)] }
                return [refused(.equivocation(sequence: record.sequence), candidate)]
            }
            guard track.held.count < rules.maximumHeldPerMeter else { return [refused(.tooManyHeld, candidate)] }
            track.held[record.sequence] = (candidate, receivedMillis)
            return [.held(meterID: meterID)]
        case .next:
            var outcomes: [Outcome] = []
            if accept(candidate, receivedMillis: receivedMillis, into: &track, outcomes: &outcomes) {
                drainHeld(&track, outcomes: &outcomes)
            }
            return outcomes
        }
    }

    /// Records holes older than the grace period as missing data and accepts what waited behind them.
    public mutating func expireHeld(nowMillis: Int64) -> [Outcome] {
        var outcomes: [Outcome] = []
        for meterID in tracks.keys.sorted() where !(tracks[meterID]!.held.isEmpty) {
            var track = tracks.removeValue(forKey: meterID)!
            while let oldestArrival = track.held.values.map(\.arrivedMillis).min(), nowMillis - oldestArrival >= rules.gapGraceMillis,
                  let next = track.held.keys.min() {
                let (candidate, arrived) = track.held.removeValue(forKey: next)!
                let first = track.chain.lastSequence + 1
                let last = next - 1
                // Check before recording the hole, so a missing-data event is always followed by the
                // record it bridges to.
                let latest = arrived + rules.futureToleranceMillis
                let refusal = track.head.map { $0.checkSuccessor(candidate.record, latestAllowedMillis: latest) }
                    ?? (candidate.record.captureTimeMillis > latest ? .futureTimestamp(aheadMillis: candidate.record.captureTimeMillis - latest) : nil)
                if let refusal {
                    track.refused.insert(next)
                    outcomes.append(refused(refusal, candidate))
                    continue
                }
                let reason: LedgerEvent.MissingDataReason = (first...last).contains(where: track.refused.contains) ? .refused : .neverArrived
                outcomes.append(.event(.missingData(meterID: meterID, first: first, last: last, reason: reason)))
                track.holes.append(first...last)
                if track.holes.count > 16 { track.holes.removeFirst() }
                track.refused = track.refused.filter { $0 > next }
                if accept(candidate, receivedMillis: arrived, into: &track, outcomes: &outcomes, bridgingGap: true) {
                    drainHeld(&track, outcomes: &outcomes)
                }
            }
            tracks[meterID] = track
        }
        return outcomes
    }

    // MARK: - Private

    private mutating func accept(
        _ candidate: AuthenticatedRecord, receivedMillis: Int64, into track: inout Track, outcomes: inout [Outcome], bridgingGap: Bool = false
    ) -> Bool {
        let record = candidate.record
        let hash = ReadingRecord.hash(of: candidate.verified.bytes)
        if let head = track.head, !bridgingGap,
           let refusal = head.checkSuccessor(record, latestAllowedMillis: receivedMillis + rules.futureToleranceMillis) {
            track.refused.insert(record.sequence)
            outcomes.append(refused(refusal, candidate))
            return false
        }
        if track.head == nil, record.captureTimeMillis > receivedMillis + rules.futureToleranceMillis {
            track.refused.insert(record.sequence)
            outcomes.append(refused(.futureTimestamp(aheadMillis: record.captureTimeMillis - receivedMillis - rules.futureToleranceMillis), candidate))
            return false
        }
        track.chain.accept(record, hash: hash)
        let head = track.head.map { $0.advanced(by: record, hash: hash) } ?? .first(record, hash: hash)
        track.head = head
        outcomes.append(.accepted(candidate, head: head))
        return true
    }

    /// Accepts held records that now continue the chain.
    private mutating func drainHeld(_ track: inout Track, outcomes: inout [Outcome]) {
        while let (candidate, arrived) = track.held.removeValue(forKey: track.chain.lastSequence + 1) {
            guard case .next = track.chain.classify(candidate.record, bytes: candidate.verified.bytes) else {
                track.refused.insert(candidate.record.sequence)
                outcomes.append(refused(.brokenLink, candidate))
                return
            }
            guard accept(candidate, receivedMillis: arrived, into: &track, outcomes: &outcomes) else { return }
        }
    }

    private func equivocation(_ candidate: AuthenticatedRecord, track: Track) -> [Outcome] {
        let record = candidate.record
        let event = LedgerEvent.equivocation(
            meterID: record.meterID, sequence: record.sequence,
            acceptedHash: track.chain.rememberedHash(of: record.sequence) ?? ReadingRecord.zeroHash,
            evidence: candidate.envelopeBytes)
        return [.event(event), refused(.equivocation(sequence: record.sequence), candidate)]
    }

    private func refused(_ refusal: Refusal, _ candidate: AuthenticatedRecord) -> Outcome {
        .refused(refusal, meterID: candidate.record.meterID, gatewayID: candidate.record.gatewayID, envelope: candidate.envelopeBytes)
    }
}
