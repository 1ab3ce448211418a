public import GridLedgerCore
public import GridLedgerRecords

/// Tolerances of the record rules, shared by ingest and the offline verifier.
public struct LedgerRules: Sendable, Hashable {
    /// A capture time may be at most this far ahead of the receiver's clock (the block time,
    /// for the verifier).
    public var futureToleranceMillis: Int64
    /// How long records after a hole wait for the missing ones before the hole is recorded as
    /// missing data. Longer than the gateways' resend interval (the agent's
    /// `outbox.republishAfterSeconds`, default 300 s), so that a record lost in transit, or
    /// refused for a moment (a meter registered after its first readings), is resent in time.
    public var gapGraceMillis: Int64
    /// Out-of-order records held per meter while waiting for a hole to fill.
    public var maximumHeldPerMeter: Int

    public init(futureToleranceMillis: Int64 = 120_000, gapGraceMillis: Int64 = 330_000, maximumHeldPerMeter: Int = 4096) {
        self.futureToleranceMillis = futureToleranceMillis
        self.gapGraceMillis = gapGraceMillis
        self.maximumHeldPerMeter = maximumHeldPerMeter
    }
}

/// What the chain knows of a meter's last accepted record: enough to check the next one.
public struct MeterHead: Sendable, Hashable {
    public var sequence: UInt64
    public var hash: [UInt8]
    public var captureMillis: Int64
    /// The last value of every energy counter the meter reported (counters never decrease).
    public var counters: [Quantity: ScaledValue]

    public init(sequence: UInt64, hash: [UInt8], captureMillis: Int64, counters: [Quantity: ScaledValue]) {
        self.sequence = sequence
        self.hash = hash
        self.captureMillis = captureMillis
        self.counters = counters
    }

    /// The head after accepting `record` whose bytes hash to `hash`. Counters the record does
    /// not carry (a partial reading) keep their last value.
    public func advanced(by record: ReadingRecord, hash: [UInt8]) -> MeterHead {
        var counters = self.counters
        for value in record.values where value.quantity.isCounter { counters[value.quantity] = value.value }
        return MeterHead(sequence: record.sequence, hash: hash, captureMillis: record.captureTimeMillis, counters: counters)
    }

    public static func first(_ record: ReadingRecord, hash: [UInt8]) -> MeterHead {
        MeterHead(sequence: 0, hash: ReadingRecord.zeroHash, captureMillis: .min, counters: [:]).advanced(by: record, hash: hash)
    }

    /// The value rules between this head and a following record (sequence and link are the
    /// chain's business): time never goes back, counters never decrease, and the capture time is
    /// not beyond `latestAllowedMillis`.
    public func checkSuccessor(_ record: ReadingRecord, latestAllowedMillis: Int64) -> Refusal? {
        if record.captureTimeMillis > latestAllowedMillis {
            return .futureTimestamp(aheadMillis: record.captureTimeMillis - latestAllowedMillis)
        }
        if record.captureTimeMillis < captureMillis { return .timeRegression(behindMillis: captureMillis - record.captureTimeMillis) }
        for value in record.values where value.quantity.isCounter {
            if let last = counters[value.quantity], value.value < last { return .counterRollback(value.quantity) }
        }
        return nil
    }

    /// Persistent form (the store's, not part of the chain format): sequence, hash, capture time,
    /// then each counter as code, exponent, mantissa.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 50 + counters.count * 11)
        writer.u64(sequence)
        writer.raw(hash)
        writer.i64(captureMillis)
        writer.u8(UInt8(counters.count))
        for (quantity, value) in counters.sorted(by: { $0.key.code < $1.key.code }) {
            writer.u16(quantity.code)
            writer.i8(value.exponent)
            writer.i64(value.mantissa)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(RecordError) {
        var reader = ByteReader(bytes)
        sequence = try reader.u64("head sequence")
        hash = try reader.raw(32, "head hash")
        captureMillis = try reader.i64("head capture time")
        let count = Int(try reader.u8("counter count"))
        counters = [:]
        for _ in 0..<count {
            let code = try reader.u16("counter quantity")
            guard let quantity = Quantity(code: code) else { throw .invalidField("counter quantity", "unknown code \(code)") }
            let exponent = try reader.i8("counter exponent")
            counters[quantity] = ScaledValue(try reader.i64("counter mantissa"), exponent: exponent)
        }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
    }
}
