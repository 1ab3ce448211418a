/// One reading's energy registers, in whole Wh (floored: a register that never decreases still
/// never decreases, so interval energies still add up to the register's difference).
public struct CounterSample: Sendable, Hashable {
    public var millis: Int64
    public var importWh: Int64
    public var exportWh: Int64

    public init(millis: Int64, importWh: Int64, exportWh: Int64) {
        self.millis = millis
        self.importWh = importWh
        self.exportWh = exportWh
    }
}

/// A meter's registers at a settlement boundary.
public struct BoundaryValue: Sendable, Hashable {
    public var importWh: Int64
    public var exportWh: Int64
    /// Derived from readings at most ``CounterTrack/measuredSpanMillis`` apart around the boundary
    /// (or a reading exactly on it). `false`: interpolated across a longer gap, or estimated.
    public var measured: Bool
}

/// A grid meter's registers at the settlement boundaries (every multiple of `gridMillis`, UTC),
/// derived from its readings in chain order.
///
/// The rule (docs/CONTRACTS.md, "Energy per interval"): a boundary `T` between two readings
/// `(t0, v0)` and `(t1, v1)` with `t0 < T ≤ t1` gets `v0 + ⌊(v1 − v0)·(T − t0)/(t1 − t0)⌋`, for the
/// import and the export register alike; boundaries before the meter's first reading get the first
/// reading's values (nothing was metered before it). The interval energies of a meter therefore add
/// up, to the Wh, to the difference of its registers between any two boundaries.
public struct CounterTrack: Sendable, Hashable {
    /// Readings further apart than this give interpolated, not measured, boundary values.
    public static let measuredSpanMillis: Int64 = 15 * 60_000

    public let gridMillis: Int64
    public private(set) var first: CounterSample?
    public private(set) var last: CounterSample?
    /// Boundary values derived so far and not yet forgotten.
    private var values: [Int64: BoundaryValue] = [:]

    public init(gridMillis: Int64) {
        self.gridMillis = gridMillis
    }

    /// Takes the next reading; returns the boundaries whose values it determined, in order.
    /// Readings not after the last one (same capture time) are ignored.
    @discardableResult
    public mutating func add(_ sample: CounterSample) -> [Int64] {
        guard let previous = last else {
            first = sample
            last = sample
            if sample.millis % gridMillis == 0 {
                values[sample.millis] = BoundaryValue(importWh: sample.importWh, exportWh: sample.exportWh, measured: true)
                return [sample.millis]
            }
            return []
        }
        guard sample.millis > previous.millis else { return [] }
        last = sample
        var determined: [Int64] = []
        var boundary = Self.ceiling(previous.millis + 1, to: gridMillis)
        let span = sample.millis - previous.millis
        let measured = span <= Self.measuredSpanMillis
        while boundary <= sample.millis {
            values[boundary] = BoundaryValue(
                importWh: Self.interpolate(previous.importWh, sample.importWh, at: boundary - previous.millis, over: span),
                exportWh: Self.interpolate(previous.exportWh, sample.exportWh, at: boundary - previous.millis, over: span),
                measured: measured || boundary == sample.millis)
            determined.append(boundary)
            boundary += gridMillis
        }
        return determined
    }

    /// The registers at `boundary`, if the readings so far determine them.
    public func value(at boundary: Int64) -> BoundaryValue? {
        if let value = values[boundary] { return value }
        guard let first else { return nil }
        if boundary < first.millis { return BoundaryValue(importWh: first.importWh, exportWh: first.exportWh, measured: true) }
        return nil
    }

    /// Whether the meter has reported anything yet.
    public var hasReadings: Bool { first != nil }

    /// Drops boundary values before `millis` (settled for good).
    public mutating func forget(before millis: Int64) {
        guard values.keys.contains(where: { $0 < millis }) else { return }
        values = values.filter { $0.key >= millis }
    }

    static func interpolate(_ from: Int64, _ to: Int64, at offset: Int64, over span: Int64) -> Int64 {
        if offset >= span { return to }
        let scaled = Int128(to - from) * Int128(offset)
        var quotient = scaled / Int128(span)
        if scaled % Int128(span) != 0 && scaled < 0 { quotient -= 1 }
        return from + Int64(quotient)
    }

    static func ceiling(_ value: Int64, to multiple: Int64) -> Int64 {
        let remainder = value % multiple
        if remainder == 0 { return value }
        return remainder > 0 ? value + multiple - remainder : value - remainder
    }
}
