import GridLedgerRecords
import LedgerCore
import Testing

@Suite("Registry entries and ledger events: encoding")
struct EventCodingTests {
    typealias F = Fixture

    static let events: [LedgerEvent] = F.entries.map(LedgerEvent.registry) + [
        .registry(F.entry(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: F.t0 + 5000), at: F.t0 + 4000)),
        .registry(F.entry(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: -5))),
        .registry(F.entry(.addMember(Member(id: "op.1", role: .operator, name: String(repeating: "é", count: 64))))),
        .registry(F.entry(.addMember(Member(id: "aud", role: .auditor, name: "")))),
        .registry(F.entry(.addMember(Member(id: "c", role: .consumer, name: "Bob")))),
        .registry(F.entry(.addMeter(RegisteredMeter(meterID: "gw1:b:9", gatewayID: F.gw1, memberID: "c", role: .load, tariffGroup: "t-1")))),
        .missingData(meterID: F.m1, first: 1, last: 1, reason: .neverArrived),
        .missingData(meterID: F.m2, first: 7, last: 1_000_000, reason: .refused),
        .equivocation(meterID: F.m1, sequence: 42, acceptedHash: Array(0..<32), evidence: [1, 2, 3]),
        .equivocation(meterID: F.m1, sequence: 1, acceptedHash: ReadingRecord.zeroHash, evidence: []),
    ]

    /// An `addMember` event made by hand, with any role byte and name bytes.
    func memberEvent(role: UInt8 = 1, name: [UInt8]) -> [UInt8] {
        [1] + Bytes.i64(F.t0) + Bytes.short("cli") + [1] + Bytes.short("alice") + [role] + Bytes.short(name)
    }

    func meterEvent(kind: UInt8 = 4, role: UInt8 = 1) -> [UInt8] {
        [1] + Bytes.i64(F.t0) + Bytes.short("cli") + [kind] + Bytes.short(F.m1) + Bytes.short(F.gw1) + Bytes.short("alice") + [role] + Bytes.short("t")
    }

    func missingEvent(first: UInt64, last: UInt64, reason: UInt8 = 1) -> [UInt8] {
        [2] + Bytes.short(F.m1) + Bytes.u64(first) + Bytes.u64(last) + [reason]
    }

    func decodes(_ bytes: [UInt8]) -> Bool { (try? LedgerEvent(decoding: bytes)) != nil }

    @Test(arguments: events)
    func roundTrip(_ event: LedgerEvent) throws {
        let bytes = try event.encoded()
        #expect(try LedgerEvent(decoding: bytes) == event)
        #expect(try LedgerEvent(decoding: bytes).encoded() == bytes)
        // Trailing bytes and every truncation are refused.
        #expect(throws: RecordError.trailingBytes(1)) { try LedgerEvent(decoding: bytes + [0]) }
        for length in 0..<bytes.count {
            #expect(!decodes(Array(bytes.prefix(length))), "prefix of \(length) bytes decoded")
        }
    }

    @Test func handMadeEncodingsMatchTheEncoder() throws {
        let member = LedgerEvent.registry(RegistryEntry(change: .addMember(Member(id: "alice", role: .prosumer, name: "Al")), recordedMillis: F.t0, author: "cli"))
        #expect(try member.encoded() == memberEvent(name: Array("Al".utf8)))
        let meter = LedgerEvent.registry(RegistryEntry(
            change: .addMeter(RegisteredMeter(meterID: F.m1, gatewayID: F.gw1, memberID: "alice", role: .grid, tariffGroup: "t")),
            recordedMillis: F.t0, author: "cli"))
        #expect(try meter.encoded() == meterEvent())
        #expect(try LedgerEvent.missingData(meterID: F.m1, first: 2, last: 3, reason: .neverArrived).encoded() == missingEvent(first: 2, last: 3))
    }

    @Test func unknownKindsAreRefused() {
        for kind: UInt8 in [0, 4, 255] {
            #expect(!decodes([kind] + Array(missingEvent(first: 1, last: 1).dropFirst())), "event kind \(kind)")
        }
        for kind: UInt8 in [0, 5, 255] {
            #expect(!decodes(meterEvent(kind: kind)), "registry change kind \(kind)")
        }
        #expect(decodes(meterEvent(kind: 4)))
    }

    @Test func badRolesAreRefused() {
        for role: UInt8 in 1...4 {
            #expect(decodes(memberEvent(role: role, name: [])))
            #expect(decodes(meterEvent(role: role)))
        }
        for role: UInt8 in [0, 5, 255] {
            #expect(!decodes(memberEvent(role: role, name: [])), "member role \(role)")
            #expect(!decodes(meterEvent(role: role)), "meter role \(role)")
        }
    }

    @Test func emptyMissingRangesAreRefused() {
        #expect(decodes(missingEvent(first: 1, last: 1)))
        #expect(!decodes(missingEvent(first: 0, last: 3)))
        #expect(!decodes(missingEvent(first: 5, last: 4)))
        #expect(!decodes(missingEvent(first: 2, last: 2, reason: 0)))
        #expect(!decodes(missingEvent(first: 2, last: 2, reason: 3)))
        #expect(throws: RecordError.self) { try LedgerEvent.missingData(meterID: F.m1, first: 0, last: 0, reason: .refused).encoded() }
        #expect(throws: RecordError.self) { try LedgerEvent.missingData(meterID: F.m1, first: 3, last: 2, reason: .refused).encoded() }
    }

    @Test func memberNamesAreBoundedPlainText() {
        #expect(decodes(memberEvent(name: Array(repeating: UInt8(ascii: "a"), count: 128))))
        #expect(!decodes(memberEvent(name: Array(repeating: UInt8(ascii: "a"), count: 129))))
        #expect(!decodes(memberEvent(name: Array("Al\u{7}ce".utf8))))
        #expect(!decodes(memberEvent(name: Array("Al\nce".utf8))))
        #expect(!decodes(memberEvent(name: Array("Al\u{85}ce".utf8))))  // C1 control
        #expect(!decodes(memberEvent(name: [0x41, 0xff, 0x41])))  // not UTF-8
        for name in [String(repeating: "a", count: 129), String(repeating: "é", count: 65), "tab\there", "\u{0}"] {
            let event = LedgerEvent.registry(F.entry(.addMember(Member(id: "alice", role: .prosumer, name: name))))
            #expect(throws: RecordError.self, "encoded name \(name.debugDescription)") { try event.encoded() }
        }
    }

    @Test func invalidIdentifiersAreRefused() {
        let badMember = LedgerEvent.registry(F.entry(.addMember(Member(id: "al ice", role: .prosumer, name: ""))))
        #expect(throws: RecordError.self) { try badMember.encoded() }
        let shortKey = LedgerEvent.registry(F.entry(.addGatewayKey(gatewayID: F.gw1, publicKey: [1, 2], validFromMillis: 0)))
        #expect(throws: RecordError.self) { try shortKey.encoded() }
        let badAuthor = LedgerEvent.registry(RegistryEntry(change: F.changes[0], recordedMillis: 0, author: ""))
        #expect(throws: RecordError.self) { try badAuthor.encoded() }
        let badHash = LedgerEvent.equivocation(meterID: F.m1, sequence: 1, acceptedHash: [0], evidence: [])
        #expect(throws: RecordError.self) { try badHash.encoded() }
        #expect(!decodes([1] + Bytes.i64(0) + Bytes.short("c/i") + Array(memberEvent(name: []).dropFirst(1 + 8 + 4))))
    }

    @Test func oversizedEventsAreRefused() {
        let big = LedgerEvent.equivocation(meterID: F.m1, sequence: 1, acceptedHash: ReadingRecord.zeroHash,
                                           evidence: Array(repeating: 0, count: RecordEnvelope.maximumSize + 1))
        #expect(throws: RecordError.self) { try big.encoded() }
        #expect(throws: RecordError.tooLarge(LedgerEvent.maximumSize + 1, maximum: LedgerEvent.maximumSize)) {
            try LedgerEvent(decoding: Array(repeating: 2, count: LedgerEvent.maximumSize + 1))
        }
    }
}
