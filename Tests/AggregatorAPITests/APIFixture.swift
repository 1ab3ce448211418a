import AggregatorAPI
import Crypto
import Foundation
import GridLedgerAggregator
import GridLedgerCore
import GridLedgerRecords
import GridLedgerTestSupport
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerStore
import Logging
import Testing

/// A real chain in a real SQLite file: members alice (prosumer, meters m1 grid and m2 pv on
/// gateway gw1) and bob (consumer, meter m3 on gw2), three blocks of signed records, one refusal;
/// and bearer tokens for an operator, an auditor, alice, bob and a member the registry does not know.
final class APIFixture: Sendable {
    static let t0: Int64 = 1_700_000_000_000

    static func key(_ seed: UInt8) -> Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32))
    }

    static func raw(_ key: Curve25519.Signing.PrivateKey) -> [UInt8] { Array(key.publicKey.rawRepresentation) }

    static let aggregatorKey = key(9)
    static let gw1Key = key(1)
    static let gw2Key = key(4)
    /// Registered by no one: for POSTing new gateway keys.
    static let spareKey = key(7)

    static let m1 = "gw1:bus:1"
    static let m2 = "gw1:bus:2"
    static let m3 = "gw2:bus:1"

    static let changes: [RegistryChange] = [
        .addMember(Member(id: "alice", role: .prosumer, name: "Alice Ä.")),
        .addMember(Member(id: "bob", role: .consumer, name: "Bob")),
        .addMember(Member(id: "olga", role: .operator, name: "Olga (operator)")),
        .addGatewayKey(gatewayID: "gw1", publicKey: raw(gw1Key), validFromMillis: t0),
        .addGatewayKey(gatewayID: "gw2", publicKey: raw(gw2Key), validFromMillis: t0),
        .addMeter(RegisteredMeter(meterID: m1, gatewayID: "gw1", memberID: "alice", role: .grid, tariffGroup: "household")),
        .addMeter(RegisteredMeter(meterID: m2, gatewayID: "gw1", memberID: "alice", role: .pv, tariffGroup: "household")),
        .addMeter(RegisteredMeter(meterID: m3, gatewayID: "gw2", memberID: "bob", role: .load, tariffGroup: "flat")),
    ]

    /// Token secrets, as a caller would send them.
    enum Token {
        static let ops = "ops-secret-0123456789abcdef"
        static let audit = "audit-secret-0123456789abcdef"
        static let alice = "alice-secret-0123456789abcdef"
        static let bob = "bob-secret-0123456789abcdef"
        static let olga = "olga-secret-0123456789abcdef"
        static let stranger = "stranger-secret-0123456789abcdef"
    }

    static let tokens = APITokens(hashes: [
        (APITokens.hash(Token.ops), .named("ops", role: .operator)),
        (APITokens.hash(Token.audit), .named("audit", role: .auditor)),
        (APITokens.hash(Token.alice), .member("alice")),
        (APITokens.hash(Token.bob), .member("bob")),
        (APITokens.hash(Token.olga), .member("olga")),
        (APITokens.hash(Token.stranger), .member("stranger")),
    ])

    let directory: TemporaryDirectory
    let store: SQLiteLedgerStore
    let engine: LedgerEngine
    let metrics: AggregatorMetrics
    let registry: Registry
    /// The minted blocks, as committed.
    let blocks: [Block]
    /// Capture time of m1's record n is `t0 + 1000 * n`.
    static func captureTime(_ sequence: UInt64) -> Int64 { t0 + 1000 * Int64(sequence) }

    init() throws {
        directory = try TemporaryDirectory(prefix: "aggregator-api")
        let store = try SQLiteLedgerStore(path: directory.path("ledger.db"), access: .aggregator(publicKey: Self.raw(Self.aggregatorKey)))
        self.store = store
        var registry = Registry()
        var registryIDs: [Int64] = []
        var events: [[UInt8]] = []
        for (index, change) in Self.changes.enumerated() {
            let entry = RegistryEntry(change: change, recordedMillis: Self.t0 - 1000 + Int64(index), author: "cli")
            try registry.apply(change)
            registryIDs.append(try store.enqueueRegistryEntry(entry))
            events.append(try LedgerEvent.registry(entry).encoded())
        }
        self.registry = registry

        var gw1 = Gateway(id: "gw1", key: Self.gw1Key)
        var gw2 = Gateway(id: "gw2", key: Self.gw2Key)
        var heads: [String: MeterHead] = [:]
        var blocks: [Block] = []

        func commit(_ batches: [[(record: ReadingRecord, envelope: [UInt8])]], events: [[UInt8]], registryIDs: [Int64] = [],
                    refusals: [RefusedRecord] = []) throws {
            let items = batches.flatMap { $0 }
            var blockHeads: [String: MeterHead] = [:]
            for item in items {
                let hash = ReadingRecord.hash(of: try item.record.encoded())
                let head = heads[item.record.meterID].map { $0.advanced(by: item.record, hash: hash) } ?? .first(item.record, hash: hash)
                heads[item.record.meterID] = head
                blockHeads[item.record.meterID] = head
            }
            let block = try Block.mint(
                height: UInt64(blocks.count), previousHash: blocks.last?.header.hash ?? ReadingRecord.zeroHash,
                timeMillis: Self.t0 + 100_000 * Int64(blocks.count + 1), records: items.map(\.envelope), events: events,
                key: Self.aggregatorKey)
            try store.append(BlockCommit(
                block: block, recordKeys: items.map { ($0.record.meterID, $0.record.sequence, $0.record.captureTimeMillis) },
                heads: blockHeads, registryEntryIDs: registryIDs, refusals: refusals))
            blocks.append(block)
        }

        // Block 0: the registry, m1#1, m2#1 (one batch), m3#1.
        try commit([gw1.sign([(Self.m1, 1), (Self.m2, 1)]), gw2.sign([(Self.m3, 1)])], events: events, registryIDs: registryIDs)
        // Block 1: m1#2, m1#3, m2#2, m3#2; and a refusal.
        let refusal = RefusedRecord(receivedMillis: Self.t0 + 150_000, reason: "unknown_meter", detail: "meter 'gw1:bus:9' is not registered",
                                    meterID: "gw1:bus:9", gatewayID: "gw1", envelope: [1, 2, 3])
        try commit([gw1.sign([(Self.m1, 2), (Self.m1, 3), (Self.m2, 2)]), gw2.sign([(Self.m3, 2)])], events: [], refusals: [refusal])
        // Block 2: m1#4, m1#5, m3#3, and a missing-data event.
        let missing = try LedgerEvent.missingData(meterID: Self.m2, first: 3, last: 3, reason: .neverArrived).encoded()
        try commit([gw1.sign([(Self.m1, 4)]), gw1.sign([(Self.m1, 5)]), gw2.sign([(Self.m3, 3)])], events: [missing])
        self.blocks = blocks

        metrics = AggregatorMetrics()
        engine = LedgerEngine(registry: registry, heads: heads, rules: LedgerRules(), metrics: metrics, logger: Logger(label: "test"))
    }

    func application(tokens: APITokens = APIFixture.tokens) throws -> some ApplicationProtocol {
        try ReadAPI.buildApplication(
            settings: .init(host: "127.0.0.1", port: 0), store: store, engine: engine, metrics: metrics,
            publicKey: Self.raw(Self.aggregatorKey), tokens: tokens, clock: ManualClock(Self.t0 + 1_000_000), logger: Logger(label: "test"))
    }

    /// Runs `body` against the router in-process.
    func withClient<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await application().test(.router, body)
    }
}

/// A gateway keeping each meter's hash chain and signing batches with `BatchSigner`. Meter m's
/// record n is captured at `t0 + 1000 * n` with energy `100 * n` Wh.
struct Gateway {
    let id: String
    let key: Curve25519.Signing.PrivateKey
    var batchSequence: UInt64 = 0
    var last: [String: [UInt8]] = [:]

    init(id: String, key: Curve25519.Signing.PrivateKey) {
        self.id = id
        self.key = key
    }

    mutating func sign(_ items: [(meter: String, sequence: UInt64)]) -> [(record: ReadingRecord, envelope: [UInt8])] {
        var records: [ReadingRecord] = []
        for (meter, sequence) in items {
            let record = ReadingRecord(
                gatewayID: id, meterID: meter, sequence: sequence, captureTimeMillis: APIFixture.captureTime(sequence),
                flags: .clockSynchronized, profileID: "eastron-sdm630", status: .complete,
                previousHash: last[meter] ?? ReadingRecord.zeroHash,
                values: [Measurement(.energyActiveImportTotal, ScaledValue(100 * Int64(sequence))),
                         Measurement(.powerActiveTotal, ScaledValue(-12345, exponent: -1))])
            last[meter] = ReadingRecord.hash(of: try! record.encoded())
            records.append(record)
        }
        batchSequence += 1
        let envelopes = try! BatchSigner(gatewayID: id, key: key).sign(
            records: records.map { try! $0.encoded() }, batchSequence: batchSequence,
            createdMillis: records.map(\.captureTimeMillis).max()!)
        return zip(records, envelopes.map { $0.encoded() }).map { ($0, $1) }
    }
}

/// Request helpers: bearer headers and JSON bodies.
extension TestClientProtocol {
    func get(_ uri: String, token: String? = nil) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers(token))
    }

    func post(_ uri: String, token: String? = nil, body: String) async throws -> TestResponse {
        var headers = headers(token)
        headers[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    private func headers(_ token: String?) -> HTTPFields {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return headers
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object (fails the test otherwise).
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text)", sourceLocation: sourceLocation)
    }

    /// Checks the status and that the body is a JSON error with that status and a reason.
    func expectError(_ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(self.status == status, "\(text)", sourceLocation: sourceLocation)
        #expect(headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
        let error = try #require(try json(sourceLocation: sourceLocation)["error"] as? [String: Any], sourceLocation: sourceLocation)
        #expect(error["status"] as? Int == status.code, sourceLocation: sourceLocation)
        #expect((error["reason"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    }
}
