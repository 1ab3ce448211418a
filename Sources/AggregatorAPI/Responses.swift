import GridLedgerCore
import GridLedgerRecords
import LedgerCore
import LedgerStore

// The JSON bodies of the read API, one type per schema in docs/openapi.yaml. Byte fields are
// lower-case hex, times milliseconds since the epoch (UTC).

struct HealthBody: Encodable {
    var status = "ok"
    /// nil for an empty chain: encoded as `null`, not left out.
    var height: UInt64?
    var blocks: Int
    var records: Int

    enum CodingKeys: CodingKey { case status, height, blocks, records }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(height, forKey: .height)
        try container.encode(blocks, forKey: .blocks)
        try container.encode(records, forKey: .records)
    }
}

struct ChainKeyBody: Encodable {
    var publicKey: String
    var keyId: String
    var fingerprint: String

    init(publicKey: [UInt8]) {
        self.publicKey = Hex.encode(publicKey)
        keyId = Hex.encode(KeyID.of(publicKey))
        fingerprint = KeyID.fingerprint(publicKey)
    }
}

struct BlockHeaderBody: Encodable {
    var height: UInt64
    var hash: String
    var previousHash: String
    var timeMillis: Int64
    var recordsRoot: String
    var eventsRoot: String
    var recordCount: UInt32
    var eventCount: UInt32
    var keyId: String
    var signature: String

    init(_ header: BlockHeader, signature: [UInt8]) {
        height = header.height
        hash = Hex.encode(header.hash)
        previousHash = Hex.encode(header.previousHash)
        timeMillis = header.timeMillis
        recordsRoot = Hex.encode(header.recordsRoot)
        eventsRoot = Hex.encode(header.eventsRoot)
        recordCount = header.recordCount
        eventCount = header.eventCount
        keyId = Hex.encode(header.keyID)
        self.signature = Hex.encode(signature)
    }
}

struct BlockListBody: Encodable {
    var blocks: [BlockHeaderBody]
    /// The `from` of the next page, nil when this page reaches the newest block.
    var next: UInt64?
}

struct BlockBody: Encodable {
    var header: BlockHeaderBody
    /// Only for operators and auditors.
    var records: [BlockRecordBody]?
    var events: [BlockEventBody]?
}

struct BlockRecordBody: Encodable {
    var position: Int
    var meterId: String?
    var sequence: UInt64?
    var envelope: String

    init(position: Int, envelope: [UInt8]) {
        self.position = position
        self.envelope = Hex.encode(envelope)
        if let decoded = try? RecordEnvelope(decoding: envelope), let record = try? ReadingRecord(decoding: decoded.record) {
            meterId = record.meterID
            sequence = record.sequence
        }
    }
}

struct BlockEventBody: Encodable {
    /// `registry`, `missingData`, `equivocation`, `contractDeployed`, `settlement`, or `undecodable`.
    var kind: String
    var summary: String
    var encoded: String

    init(_ bytes: [UInt8]) {
        encoded = Hex.encode(bytes)
        do {
            let event = try LedgerEvent(decoding: bytes)
            summary = event.summary
            switch event {
            case .registry: kind = "registry"
            case .missingData: kind = "missingData"
            case .equivocation: kind = "equivocation"
            case .contractDeployed: kind = "contractDeployed"
            case .settlement: kind = "settlement"
            }
        } catch {
            kind = "undecodable"
            summary = "\(error)"
        }
    }
}

struct MeterBody: Encodable {
    var meterId: String
    var gatewayId: String
    var memberId: String
    var role: String
    var tariffGroup: String

    init(_ meter: RegisteredMeter) {
        meterId = meter.meterID
        gatewayId = meter.gatewayID
        memberId = meter.memberID
        role = meter.role.rawValue
        tariffGroup = meter.tariffGroup
    }
}

struct MeterListBody: Encodable {
    var meters: [MeterBody]
}

struct MemberBody: Encodable {
    var id: String
    var role: String
    var name: String

    init(_ member: Member) {
        id = member.id
        role = member.role.rawValue
        name = member.name
    }
}

struct MemberListBody: Encodable {
    var members: [MemberBody]
}

struct ValueBody: Encodable {
    /// The quantity id, e.g. `energy.active.import.total`.
    var quantity: String
    /// The quantity's number in signed records (docs/FORMAT.md).
    var code: UInt16
    var obis: String?
    var mantissa: Int64
    var exponent: Int8
    /// The exact decimal value, e.g. `"1234.5"`.
    var value: String
    var unit: String

    init(_ measurement: Measurement) {
        quantity = measurement.quantity.rawValue
        code = measurement.quantity.code
        obis = measurement.quantity.obis
        mantissa = measurement.value.mantissa
        exponent = measurement.value.exponent
        value = measurement.value.description
        unit = measurement.quantity.unit.rawValue
    }
}

struct RecordBody: Encodable {
    var meterId: String
    var sequence: UInt64
    var captureTimeMillis: Int64
    var status: String
    var clockSynchronized: Bool
    var gatewayId: String
    var profileId: String
    var previousHash: String
    var hash: String
    var values: [ValueBody]
    var envelope: String
    var height: UInt64
    var position: Int

    init(_ stored: StoredRecord) throws {
        let envelope = try RecordEnvelope(decoding: stored.envelope)
        let record = try ReadingRecord(decoding: envelope.record)
        meterId = record.meterID
        sequence = record.sequence
        captureTimeMillis = record.captureTimeMillis
        status = record.status.rawValue
        clockSynchronized = record.flags.contains(.clockSynchronized)
        gatewayId = record.gatewayID
        profileId = record.profileID
        previousHash = Hex.encode(record.previousHash)
        hash = Hex.encode(ReadingRecord.hash(of: envelope.record))
        values = record.values.map(ValueBody.init)
        self.envelope = Hex.encode(stored.envelope)
        height = stored.location.height
        position = stored.location.position
    }
}

struct RecordListBody: Encodable {
    var meterId: String
    var records: [RecordBody]
    /// More records match the range than `limit`: ask again from the last capture time + 1.
    var more: Bool
}

struct RefusalBody: Encodable {
    var receivedMillis: Int64
    var reason: String
    var detail: String
    var meterId: String?
    var gatewayId: String?
    var envelope: String

    init(_ refusal: RefusedRecord) {
        receivedMillis = refusal.receivedMillis
        reason = refusal.reason
        detail = refusal.detail
        meterId = refusal.meterID
        gatewayId = refusal.gatewayID
        envelope = Hex.encode(refusal.envelope)
    }
}

struct RefusalListBody: Encodable {
    var refusals: [RefusalBody]
}

struct PendingEntryBody: Encodable {
    var id: Int64
    var recordedMillis: Int64
    var author: String
    var summary: String
    var change: RegistryChangeBody

    init(_ pending: PendingRegistryEntry) {
        id = pending.id
        recordedMillis = pending.entry.recordedMillis
        author = pending.entry.author
        summary = pending.entry.change.summary
        change = RegistryChangeBody(pending.entry.change)
    }
}

struct PendingListBody: Encodable {
    var pending: [PendingEntryBody]
}

struct EnqueuedBody: Encodable {
    var pending: Int64
    var summary: String
}
