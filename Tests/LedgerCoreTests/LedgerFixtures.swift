import Crypto
import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import Testing

/// Fixed keys, ids and times, and a standard community: member `alice`, gateway `gw1` (key
/// valid from `t0`) with meters `m1` and `m2`, gateway `gw2` with meter `m3`.
enum Fixture {
    static let t0: Int64 = 1_700_000_000_000

    static func key(_ seed: UInt8) -> Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32))
    }

    static func raw(_ key: Curve25519.Signing.PrivateKey) -> [UInt8] { Array(key.publicKey.rawRepresentation) }

    /// gw1's registered key (valid from t0).
    static let gatewayKey = key(1)
    /// gw1's next key, for rotations.
    static let rotatedKey = key(2)
    /// Never registered anywhere.
    static let strangerKey = key(3)
    /// gw2's registered key.
    static let otherGatewayKey = key(4)
    static let aggregatorKey = key(9)
    static let otherAggregatorKey = key(10)

    static let gw1 = "gw1"
    static let gw2 = "gw2"
    static let m1 = "gw1:bus:1"
    static let m2 = "gw1:bus:2"
    static let m3 = "gw2:bus:1"

    static let changes: [RegistryChange] = [
        .addMember(Member(id: "alice", role: .prosumer, name: "Alice Ä.")),
        .addGatewayKey(gatewayID: gw1, publicKey: raw(gatewayKey), validFromMillis: t0),
        .addGatewayKey(gatewayID: gw2, publicKey: raw(otherGatewayKey), validFromMillis: t0),
        .addMeter(RegisteredMeter(meterID: m1, gatewayID: gw1, memberID: "alice", role: .grid, tariffGroup: "household")),
        .addMeter(RegisteredMeter(meterID: m2, gatewayID: gw1, memberID: "alice", role: .pv, tariffGroup: "household")),
        .addMeter(RegisteredMeter(meterID: m3, gatewayID: gw2, memberID: "alice", role: .battery, tariffGroup: "household")),
    ]

    static func entry(_ change: RegistryChange, at millis: Int64 = t0 - 1000) -> RegistryEntry {
        RegistryEntry(change: change, recordedMillis: millis, author: "cli")
    }

    static let entries: [RegistryEntry] = changes.enumerated().map { entry($1, at: t0 - 1000 + Int64($0)) }

    /// The standard registry, then `extra` changes.
    static func registry(_ extra: [RegistryChange] = []) -> Registry {
        var registry = Registry()
        for change in changes + extra { try! registry.apply(change) }
        return registry
    }

    static func ledger(_ extra: [RegistryChange] = [], heads: [String: MeterHead] = [:], rules: LedgerRules = LedgerRules()) -> IngestLedger {
        IngestLedger(registry: registry(extra), heads: heads, rules: rules)
    }

    /// A record with an energy counter (Wh) and a power value (not a counter).
    static func record(
        gateway: String = gw1, meter: String, sequence: UInt64, previous: [UInt8], at time: Int64, energy: Int64, power: Int64 = 500
    ) -> ReadingRecord {
        ReadingRecord(
            gatewayID: gateway, meterID: meter, sequence: sequence, captureTimeMillis: time, flags: .clockSynchronized,
            profileID: "p1", status: .complete, previousHash: previous,
            values: [Measurement(.energyActiveImportTotal, ScaledValue(energy)), Measurement(.powerActiveTotal, ScaledValue(power))])
    }

    static func bytes(_ record: ReadingRecord) -> [UInt8] { try! record.encoded() }
    static func hash(_ record: ReadingRecord) -> [UInt8] { ReadingRecord.hash(of: bytes(record)) }

    /// Authenticates with `registry` (fresh verifier cache), failing the test on refusal.
    static func authenticated(_ envelope: [UInt8], _ registry: Registry, sourceLocation: SourceLocation = #_sourceLocation) throws -> AuthenticatedRecord {
        switch registry.authenticate(envelope, verifier: RecordVerifier()) {
        case .success(let record): return record
        case .failure(let refusal):
            Issue.record("refused: \(refusal)", sourceLocation: sourceLocation)
            throw refusal
        }
    }

    /// The refusal of `envelope`, or nil when it authenticates.
    static func refusal(_ envelope: [UInt8], _ registry: Registry = registry(), topic: TopicClaim? = nil) -> Refusal? {
        if case .failure(let refusal) = registry.authenticate(envelope, topic: topic, verifier: RecordVerifier()) { return refusal }
        return nil
    }
}

/// A gateway that keeps each meter's chain (sequence, previous hash) and signs batches with `BatchSigner`.
/// Records it makes but a test never delivers are the "missing" ones.
struct TestGateway {
    let id: String
    var key: Curve25519.Signing.PrivateKey
    private(set) var batchSequence: UInt64 = 0
    private var last: [String: (sequence: UInt64, hash: [UInt8])] = [:]

    init(_ id: String = Fixture.gw1, key: Curve25519.Signing.PrivateKey = Fixture.gatewayKey) {
        self.id = id
        self.key = key
    }

    /// Hash of the last record made for `meter`.
    func lastHash(_ meter: String) -> [UInt8] { last[meter]?.hash ?? ReadingRecord.zeroHash }
    func lastSequence(_ meter: String) -> UInt64 { last[meter]?.sequence ?? 0 }

    /// The meter's next record: sequence + 1, linked to the previous one made here.
    mutating func next(_ meter: String, at time: Int64, energy: Int64, power: Int64 = 500) -> ReadingRecord {
        let previous = last[meter] ?? (0, ReadingRecord.zeroHash)
        let record = Fixture.record(gateway: id, meter: meter, sequence: previous.sequence + 1, previous: previous.hash, at: time, energy: energy, power: power)
        last[meter] = (record.sequence, Fixture.hash(record))
        return record
    }

    /// Envelope bytes of `records`, signed as one batch.
    mutating func sign(_ records: [ReadingRecord], created: Int64? = nil) -> [[UInt8]] {
        batchSequence += 1
        let encoded = records.map(Fixture.bytes)
        let envelopes = try! BatchSigner(gatewayID: id, key: key).sign(
            records: encoded, batchSequence: batchSequence, createdMillis: created ?? records.map(\.captureTimeMillis).max()!)
        return envelopes.map { $0.encoded() }
    }

    /// The envelope of the meter's next record, alone in its batch.
    mutating func envelope(_ meter: String, at time: Int64, energy: Int64, power: Int64 = 500) -> [UInt8] {
        sign([next(meter, at: time, energy: energy, power: power)])[0]
    }
}

/// One line per outcome, so a test states the whole sequence it expects.
func summary(_ outcomes: [IngestLedger.Outcome]) -> [String] {
    outcomes.map { outcome in
        switch outcome {
        case .accepted(let record, _): "accepted \(record.record.meterID)#\(record.record.sequence)"
        case .duplicate(let meterID, _): "duplicate \(meterID)"
        case .held(let meterID): "held \(meterID)"
        case .refused(let refusal, let meterID, _, let envelope):
            "refused \(refusal.code) \(meterID)#\((try? ReadingRecord(decoding: RecordEnvelope(decoding: envelope).record))?.sequence ?? 0)"
        case .event(let event):
            switch event {
            case .registry: "registry"
            case .missingData(let meterID, let first, let last, let reason): "missing \(meterID) \(first)...\(last) \(reason)"
            case .equivocation(let meterID, let sequence, _, _): "equivocation \(meterID)#\(sequence)"
            case .contractDeployed: "contract"
            case .settlement: "settlement"
            }
        }
    }
}

extension IngestLedger {
    /// Authenticates `envelope` with the ledger's current registry, then admits it.
    mutating func admit(_ envelope: [UInt8], at millis: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Outcome] {
        admit(try Fixture.authenticated(envelope, registry, sourceLocation: sourceLocation), receivedMillis: millis)
    }
}

/// Mints blocks that link to each other.
struct ChainBuilder {
    var blocks: [Block] = []

    @discardableResult
    mutating func mint(
        records: [[UInt8]], events: [[UInt8]], at time: Int64, key: Curve25519.Signing.PrivateKey = Fixture.aggregatorKey,
        height: UInt64? = nil, previousHash: [UInt8]? = nil
    ) throws -> Block {
        let block = try Block.mint(
            height: height ?? UInt64(blocks.count), previousHash: previousHash ?? blocks.last?.header.hash ?? ReadingRecord.zeroHash,
            timeMillis: time, records: records, events: events, key: key)
        blocks.append(block)
        return block
    }

    /// Mints a block of what `outcomes` produced: accepted envelopes as records, events as events.
    mutating func mint(_ outcomes: [IngestLedger.Outcome], extraEvents: [[UInt8]] = [], at time: Int64) throws {
        var records: [[UInt8]] = []
        var events = extraEvents
        for outcome in outcomes {
            switch outcome {
            case .accepted(let record, _): records.append(record.envelopeBytes)
            case .event(let event): events.append(try event.encoded())
            default: break
            }
        }
        try mint(records: records, events: events, at: time)
    }
}

/// Verifies `blocks` from block 0 with a fresh verifier: the first failure, or nil.
func verifyChain(_ blocks: [Block], key: Curve25519.Signing.PublicKey = Fixture.aggregatorKey.publicKey) -> ChainFailure? {
    var verifier = ChainVerifier(aggregatorKey: key)
    do {
        for block in blocks { try verifier.verify(block) }
        return nil
    } catch {
        return error
    }
}

/// Big-endian bytes and length-prefixed strings, for hand-made (invalid) encodings.
enum Bytes {
    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (UInt64($0) * 8)) } }
    static func i64(_ v: Int64) -> [UInt8] { u64(UInt64(bitPattern: v)) }
    static func short(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }
    static func short(_ bytes: [UInt8]) -> [UInt8] { [UInt8(bytes.count)] + bytes }
}

/// A chain of three blocks made from `IngestLedger` outcomes, as an aggregator would mint it:
/// block 0 holds the registry and the first records; block 1 records of all meters and an
/// equivocation; block 2 a missing-data event (m1 #4 never arrived) bridged by m1 #5.
struct StandardChain {
    var blocks: [Block] = []
    var ledger = IngestLedger(registry: Registry(), heads: [:], rules: LedgerRules())
    /// Every outcome, per block.
    var outcomes: [[IngestLedger.Outcome]] = []
    static let t = Fixture.t0 + 1000

    init() throws {
        typealias F = Fixture
        let t = Self.t
        var chain = ChainBuilder()
        var gw = TestGateway()
        var gw2 = TestGateway(F.gw2, key: F.otherGatewayKey)

        var events: [[UInt8]] = []
        for entry in F.entries {
            try ledger.apply(entry)
            events.append(try LedgerEvent.registry(entry).encoded())
        }
        var out: [IngestLedger.Outcome] = []
        for envelope in gw.sign([gw.next(F.m1, at: t, energy: 100), gw.next(F.m2, at: t, energy: 10)]) {
            out += try ledger.admit(envelope, at: t + 100)
        }
        try chain.mint(out, extraEvents: events, at: t + 500)
        outcomes.append(out)

        out = []
        let m1first = gw.lastHash(F.m1)
        let batch = gw.sign([gw.next(F.m1, at: t + 1000, energy: 110), gw.next(F.m2, at: t + 1000, energy: 12)])
        out += try ledger.admit(batch[1], at: t + 1100)
        out += try ledger.admit(batch[0], at: t + 1100)
        out += try ledger.admit(gw2.envelope(F.m3, at: t + 1000, energy: 5), at: t + 1100)
        let other = F.record(meter: F.m1, sequence: 2, previous: m1first, at: t + 1000, energy: 111)
        out += try ledger.admit(gw.sign([other])[0], at: t + 1200)
        out += try ledger.admit(gw.envelope(F.m1, at: t + 2000, energy: 120), at: t + 2100)
        try chain.mint(out, at: t + 2500)
        outcomes.append(out)

        out = []
        _ = gw.next(F.m1, at: t + 3000, energy: 130)  // m1 #4: lost
        out += try ledger.admit(gw.envelope(F.m1, at: t + 4000, energy: 140), at: t + 4100)
        out += try ledger.admit(gw.envelope(F.m2, at: t + 4000, energy: 14), at: t + 4100)
        out += ledger.expireHeld(nowMillis: t + 4100 + ledger.rules.gapGraceMillis)
        try chain.mint(out, at: t + 4100 + ledger.rules.gapGraceMillis)
        outcomes.append(out)
        blocks = chain.blocks
    }
}
