public import BillingCore
public import GridLedgerRecords

/// One member's line in an interval's settlement: energies in Wh, amounts in micro-units of
/// the contract's currency (10⁻⁶), each money column rounded so the interval's books balance
/// exactly at that unit (BillingCore's `MoneyRounding`).
public struct SettlementLine: Sendable, Hashable, Codable {
    public var memberID: String
    /// Some boundary value behind this line was estimated (a meter had not reported by the
    /// deadline) or interpolated across a gap; a later revision may correct it.
    public var estimated: Bool
    public var importWh: Int64
    public var exportWh: Int64
    public var fromCommunityWh: Int64
    public var toCommunityWh: Int64
    public var energyCharge: Int64
    public var energyCredit: Int64
    public var gridFeeCharge: Int64
    public var baselineCharge: Int64
    public var baselineCredit: Int64

    public var fromGridWh: Int64 { importWh - fromCommunityWh }
    public var toGridWh: Int64 { exportWh - toCommunityWh }
}

/// The settlement of one interval under one contract (or a chunk of its members), as recorded
/// in the chain (event kind 5; layout in docs/FORMAT.md, "Settlement").
public struct SettlementRecord: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    /// Members per event: keeps each event well under the body's 64 KiB limit.
    public static let membersPerChunk = 256
    /// Amounts are in these units per currency unit.
    public static let amountScale: Int64 = 1_000_000

    public var contractHash: [UInt8]
    public var intervalStartMillis: Int64
    public var intervalMillis: Int64
    /// 0 for the first settlement of the interval; each correction counts up.
    public var revision: UInt16
    public var chunk: UInt16
    public var chunkCount: UInt16
    public var mechanism: UInt8
    /// Tariff of the interval, micro-units per kWh (`communityPrice` −1: none).
    public var retail: Int64
    public var feedIn: Int64
    public var gridFee: Int64
    public var communityPrice: Int64
    /// The community's demand and supply (sums over all members, not only this chunk).
    public var demandWh: Int64
    public var supplyWh: Int64
    public var lines: [SettlementLine]

    /// Mechanism codes of the format.
    public static func code(of mechanism: Mechanism) -> UInt8 {
        switch mechanism {
        case .gridOnly: 0
        case .midMarketRate: 1
        case .supplyDemandRatio: 2
        case .billSharing: 3
        case .staticKeys: 4
        case .dynamicKeys: 5
        }
    }

    public func encoded() throws(RecordError) -> [UInt8] {
        guard contractHash.count == 32 else { throw .invalidField("contract hash", "must be 32 bytes") }
        guard lines.count <= Self.membersPerChunk else { throw .invalidField("settlement lines", "\(lines.count) > \(Self.membersPerChunk)") }
        var writer = ByteWriter(capacity: 120 + lines.count * 100)
        writer.u8(Self.formatVersion)
        writer.raw(contractHash)
        writer.i64(intervalStartMillis)
        writer.u32(UInt32(intervalMillis))
        writer.u16(revision)
        writer.u16(chunk)
        writer.u16(chunkCount)
        writer.u8(mechanism)
        for price in [retail, feedIn, gridFee, communityPrice, demandWh, supplyWh] { writer.i64(price) }
        writer.u16(UInt16(lines.count))
        for line in lines {
            try checkIdentifier("member id", line.memberID, maximum: 64)
            writer.shortString(line.memberID)
            writer.u8(line.estimated ? 1 : 0)
            for value in [line.importWh, line.exportWh, line.fromCommunityWh, line.toCommunityWh, line.energyCharge, line.energyCredit,
                          line.gridFeeCharge, line.baselineCharge, line.baselineCredit] {
                writer.i64(value)
            }
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(RecordError) {
        var reader = ByteReader(bytes)
        let version = try reader.u8("settlement version")
        guard version == Self.formatVersion else { throw .invalidField("settlement version", "unknown version \(version)") }
        contractHash = try reader.raw(32, "contract hash")
        intervalStartMillis = try reader.i64("interval start")
        intervalMillis = Int64(try reader.u32("interval length"))
        revision = try reader.u16("revision")
        chunk = try reader.u16("chunk")
        chunkCount = try reader.u16("chunk count")
        guard chunk < chunkCount else { throw .invalidField("chunk", "\(chunk) of \(chunkCount)") }
        mechanism = try reader.u8("mechanism")
        retail = try reader.i64("retail price")
        feedIn = try reader.i64("feed-in price")
        gridFee = try reader.i64("grid fee")
        communityPrice = try reader.i64("community price")
        demandWh = try reader.i64("demand")
        supplyWh = try reader.i64("supply")
        let count = Int(try reader.u16("line count"))
        guard count <= Self.membersPerChunk else { throw .invalidField("line count", "\(count) > \(Self.membersPerChunk)") }
        lines = []
        lines.reserveCapacity(count)
        for _ in 0..<count {
            let memberID = try reader.shortString("member id", maximum: 64, allowed: isIdentifierByte)
            let flags = try reader.u8("line flags")
            guard flags <= 1 else { throw .invalidField("line flags", "unknown flags \(flags)") }
            var values: [Int64] = []
            for name in ["import", "export", "from community", "to community", "energy charge", "energy credit", "grid fee", "baseline charge", "baseline credit"] {
                values.append(try reader.i64(name))
            }
            lines.append(SettlementLine(
                memberID: memberID, estimated: flags == 1, importWh: values[0], exportWh: values[1], fromCommunityWh: values[2],
                toCommunityWh: values[3], energyCharge: values[4], energyCredit: values[5], gridFeeCharge: values[6],
                baselineCharge: values[7], baselineCredit: values[8]))
        }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
    }

    public init(
        contractHash: [UInt8], intervalStartMillis: Int64, intervalMillis: Int64, revision: UInt16, chunk: UInt16, chunkCount: UInt16,
        mechanism: UInt8, retail: Int64, feedIn: Int64, gridFee: Int64, communityPrice: Int64, demandWh: Int64, supplyWh: Int64,
        lines: [SettlementLine]
    ) {
        self.contractHash = contractHash
        self.intervalStartMillis = intervalStartMillis
        self.intervalMillis = intervalMillis
        self.revision = revision
        self.chunk = chunk
        self.chunkCount = chunkCount
        self.mechanism = mechanism
        self.retail = retail
        self.feedIn = feedIn
        self.gridFee = gridFee
        self.communityPrice = communityPrice
        self.demandWh = demandWh
        self.supplyWh = supplyWh
        self.lines = lines
    }
}
