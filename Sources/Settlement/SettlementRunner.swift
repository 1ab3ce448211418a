import BillingCore
public import LedgerCore

/// Settles a community's intervals from the chain, block by block: the same code runs in the
/// aggregator (which writes the records into the block) and in the verifier (which re-derives
/// them and compares bytes). Pure: everything comes from the block (its records, registry,
/// deployments and time), so both get the same result.
///
/// An interval `[start, end)` is settled in the first block whose time is past `end` and whose
/// chain holds, for every grid meter of the contract's members, readings on both sides of both
/// boundaries; or, once the block time passes `end + estimateAfter`, with the missing boundary
/// values estimated (the meter's last registers, i.e. no energy since) and its lines marked. When
/// the readings arrive later, the interval is settled again with the next revision number.
public struct SettlementRunner: Sendable {
    /// Boundary values are derived at every multiple of this; contract intervals are multiples.
    public static let gridMillis: Int64 = 5 * 60_000
    /// After this long, an estimated interval is final (no more revisions).
    public static let revisionWindowMillis: Int64 = 40 * 86_400_000

    struct MemberInput: Sendable, Hashable {
        var memberID: String
        var importWh: Int64
        var exportWh: Int64
        var estimated: Bool
    }

    struct Provisional: Sendable {
        var terms: any SettlementTerms
        var revision: UInt16
        var inputs: [MemberInput]
    }

    private var contracts: [any SettlementTerms] = []
    private var tracks: [String: CounterTrack] = [:]
    /// Values that stood in for unknown boundaries, so the intervals on both sides agree.
    private var estimates: [String: [Int64: BoundaryValue]] = [:]
    /// Settled intervals with estimated inputs, by start: they are revised when data arrives.
    private var provisional: [Int64: Provisional] = [:]
    /// Start of the first interval not yet settled; `nil` until a contract is deployed.
    public private(set) var nextIntervalStart: Int64?
    public private(set) var failures: [SettlementFailure] = []

    public init() {}

    public var deployedContracts: [any SettlementTerms] { contracts }

    /// Why `terms` cannot be deployed in a block of time `blockTimeMillis`, or `nil`. A contract
    /// cannot reach back into settled intervals nor further than the readings kept (the revision
    /// window), must start on the hour (every allowed interval divides an hour, so a switch of
    /// contracts never splits an interval), and a new version of a contract id must be higher.
    public func refusal(of terms: any SettlementTerms, blockTimeMillis: Int64) -> String? {
        if terms.validFromMillis % 3_600_000 != 0 { return "validFrom must be on a full hour (UTC offset included)" }
        if terms.intervalMillis <= 0 || terms.intervalMillis % Self.gridMillis != 0 || 3_600_000 % terms.intervalMillis != 0 {
            return "the settlement interval must divide an hour and be a multiple of 5 minutes"
        }
        if let next = nextIntervalStart, terms.validFromMillis < next {
            return "validFrom is before the first unsettled interval (\(next) ms): settled intervals cannot change"
        }
        if terms.validFromMillis < blockTimeMillis - Self.revisionWindowMillis {
            return "validFrom is more than \(Self.revisionWindowMillis / 86_400_000) days before the block time: readings that old are no longer kept"
        }
        if contracts.contains(where: { $0.hash == terms.hash }) { return "this exact contract is already deployed" }
        if let previous = contracts.last(where: { $0.contractID == terms.contractID }), previous.version >= terms.version {
            return "version \(terms.version) is not above the deployed version \(previous.version) of \(terms.contractID)"
        }
        return nil
    }

    /// Deploys `terms` (checked with ``refusal(of:blockTimeMillis:)`` first).
    public mutating func deploy(_ terms: any SettlementTerms) {
        contracts.append(terms)
        if nextIntervalStart == nil || terms.validFromMillis < nextIntervalStart! {
            nextIntervalStart = terms.validFromMillis
        }
    }

    /// Takes one block's readings and returns the settlement records due at its time: revisions
    /// first (oldest interval first), then newly settled intervals in order.
    public mutating func apply(samples: [MeterSample], registry: Registry, blockTimeMillis: Int64) -> [SettlementRecord] {
        var revise: Set<Int64> = []
        for sample in samples where registry.meters[sample.meterID]?.role == .grid {
            var track = tracks[sample.meterID] ?? CounterTrack(gridMillis: Self.gridMillis)
            for boundary in track.add(sample.counters) {
                if estimates[sample.meterID]?.removeValue(forKey: boundary) != nil {
                    for (start, entry) in provisional where start == boundary || start + entry.terms.intervalMillis == boundary {
                        revise.insert(start)
                    }
                }
            }
            tracks[sample.meterID] = track
        }
        var records: [SettlementRecord] = []
        for start in revise.sorted() {
            guard var entry = provisional[start] else { continue }
            guard let inputs = memberInputs(entry.terms, registry: registry, start: start, end: start + entry.terms.intervalMillis, estimating: true),
                  inputs != entry.inputs, entry.revision < UInt16.max
            else { continue }
            entry.revision += 1
            entry.inputs = inputs
            records += settle(inputs, terms: entry.terms, start: start, revision: entry.revision)
            provisional[start] = inputs.contains(where: \.estimated) ? entry : nil
        }
        while let start = nextIntervalStart {
            guard let terms = activeContract(at: start) else {
                guard let later = contracts.map(\.validFromMillis).filter({ $0 > start }).min() else { break }
                nextIntervalStart = later
                continue
            }
            let end = start + terms.intervalMillis
            guard end <= blockTimeMillis else { break }
            // Estimates only once the deadline has passed; before it, wait for the readings.
            let estimating = blockTimeMillis >= end + terms.estimateAfterMillis
            guard let inputs = memberInputs(terms, registry: registry, start: start, end: end, estimating: estimating) else { break }
            records += settle(inputs, terms: terms, start: start, revision: 0)
            if inputs.contains(where: \.estimated) { provisional[start] = Provisional(terms: terms, revision: 0, inputs: inputs) }
            nextIntervalStart = end
        }
        forgetSettled(blockTimeMillis: blockTimeMillis)
        return records
    }

    // MARK: - Private

    private func activeContract(at millis: Int64) -> (any SettlementTerms)? {
        var active: (any SettlementTerms)?
        for terms in contracts where terms.validFromMillis <= millis {
            if active == nil || terms.validFromMillis >= active!.validFromMillis { active = terms }
        }
        return active
    }

    /// Each member's energy in `[start, end)`. A boundary the readings do not determine yet is
    /// estimated when `estimating` (the meter's last registers, remembered so that the next
    /// interval starts from the same value); otherwise the result is `nil`.
    private mutating func memberInputs(
        _ terms: any SettlementTerms, registry: Registry, start: Int64, end: Int64, estimating: Bool
    ) -> [MemberInput]? {
        var inputs: [MemberInput] = []
        for (memberID, meters) in Self.membership(terms, registry: registry) {
            var input = MemberInput(memberID: memberID, importWh: 0, exportWh: 0, estimated: false)
            for meterID in meters {
                guard let track = tracks[meterID], let last = track.last else {
                    // A meter that never reported: wait for it until the deadline, then count
                    // nothing for it and mark the line (its first reading, when it comes, covers
                    // everything before it, so there is nothing to revise).
                    guard estimating else { return nil }
                    input.estimated = true
                    continue
                }
                var values: [BoundaryValue] = []
                for boundary in [start, end] {
                    if let value = track.value(at: boundary) ?? estimates[meterID]?[boundary] {
                        values.append(value)
                    } else {
                        guard estimating else { return nil }
                        let held = BoundaryValue(importWh: last.importWh, exportWh: last.exportWh, measured: false)
                        estimates[meterID, default: [:]][boundary] = held
                        values.append(held)
                    }
                }
                input.add(from: values[0], to: values[1])
            }
            inputs.append(input)
        }
        return inputs
    }

    /// The contract's members, each with its grid meters, sorted by member id (bytes).
    static func membership(_ terms: any SettlementTerms, registry: Registry) -> [(String, [String])] {
        var meters: [String: [String]] = [:]
        for meter in registry.meters.values where meter.role == .grid {
            meters[meter.memberID, default: []].append(meter.meterID)
        }
        let candidates: [String] = terms.memberIDs ?? registry.members.values
            .filter { ($0.role == .prosumer || $0.role == .consumer) && meters[$0.id] != nil }
            .map(\.id)
        return candidates
            .filter { registry.members[$0] != nil }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { ($0, (meters[$0] ?? []).sorted()) }
    }

    private mutating func settle(_ inputs: [MemberInput], terms: any SettlementTerms, start: Int64, revision: UInt16) -> [SettlementRecord] {
        guard !inputs.isEmpty else { return [] }
        do {
            let tariff = try terms.tariff(forIntervalStartingAt: start)
            let settlement = try IntervalSettlement(
                members: inputs.map { MemberEnergy(memberID: $0.memberID, importWh: $0.importWh, exportWh: $0.exportWh) },
                tariff: tariff, mechanism: terms.mechanism)
            let rounded = try RoundedSettlement(settlement, unitsPerCurrencyUnit: SettlementRecord.amountScale)
            let estimated = Dictionary(uniqueKeysWithValues: inputs.map { ($0.memberID, $0.estimated) })
            let lines = rounded.members.map { member in
                SettlementLine(
                    memberID: member.memberID, estimated: estimated[member.memberID] ?? false, importWh: member.importWh,
                    exportWh: member.exportWh, fromCommunityWh: member.fromCommunityWh, toCommunityWh: member.toCommunityWh,
                    energyCharge: member.energyCharge, energyCredit: member.energyCredit, gridFeeCharge: member.gridFeeCharge,
                    baselineCharge: member.baselineCharge, baselineCredit: member.baselineCredit)
            }
            let chunks = stride(from: 0, to: lines.count, by: SettlementRecord.membersPerChunk).map {
                Array(lines[$0..<min(lines.count, $0 + SettlementRecord.membersPerChunk)])
            }
            return chunks.enumerated().map { index, chunk in
                SettlementRecord(
                    contractHash: terms.hash, intervalStartMillis: start, intervalMillis: terms.intervalMillis, revision: revision,
                    chunk: UInt16(index), chunkCount: UInt16(chunks.count), mechanism: SettlementRecord.code(of: terms.mechanism),
                    retail: tariff.retail.microUnitsPerKWh, feedIn: tariff.feedIn.microUnitsPerKWh, gridFee: tariff.gridFee.microUnitsPerKWh,
                    communityPrice: tariff.communityPrice?.microUnitsPerKWh ?? -1,
                    demandWh: inputs.reduce(0) { $0 + $1.importWh }, supplyWh: inputs.reduce(0) { $0 + $1.exportWh }, lines: chunk)
            }
        } catch {
            failures.append(SettlementFailure(intervalStartMillis: start, reason: "\(error)"))
            return []
        }
    }

    private mutating func forgetSettled(blockTimeMillis: Int64) {
        for start in provisional.keys where start < blockTimeMillis - Self.revisionWindowMillis { provisional[start] = nil }
        guard let next = nextIntervalStart else {
            // No contract yet: keep what a contract deployed now may still reach back to.
            for meterID in tracks.keys { tracks[meterID]!.forget(before: blockTimeMillis - Self.revisionWindowMillis) }
            return
        }
        let keepFrom = provisional.keys.min().map { min($0, next) } ?? next
        for meterID in tracks.keys { tracks[meterID]!.forget(before: keepFrom) }
        for meterID in estimates.keys {
            estimates[meterID] = estimates[meterID]!.filter { $0.key >= keepFrom }
            if estimates[meterID]!.isEmpty { estimates[meterID] = nil }
        }
    }
}

extension SettlementRunner.MemberInput {
    /// Adds one meter's energy between two boundary values; an estimated or interpolated value
    /// (`measured` false) marks the line.
    mutating func add(from: BoundaryValue, to: BoundaryValue) {
        // Never negative: registers never decrease (ingest refuses), and an estimate holds the
        // last registers, which no earlier boundary exceeds. BillingCore refuses a negative value.
        importWh += to.importWh - from.importWh
        exportWh += to.exportWh - from.exportWh
        if !from.measured || !to.measured { estimated = true }
    }
}
