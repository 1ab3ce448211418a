/// What a reader or importer made of its input: the samples in trace order and a summary.
///
/// ```swift
/// let trace = try Trace.parse(bytes, skipBad: true)
/// print(trace.meters, trace.samples.count, trace.skipped)
/// for meter in trace.meterSummaries() { print(meter.meterID, EnergyText.kWh(meter.importedWh)) }
/// ```
public struct ParsedTrace: Sendable, Hashable {
    /// Sorted by time (ties in input order); per meter strictly increasing in time, registers
    /// never decreasing.
    public var samples: [TraceSample]
    /// Meter ids in the order of their first sample.
    public var meters: [String]
    /// Data rows read, comments, blank lines and the header excluded, bad rows included.
    public var rowsRead: Int
    /// What `skipBad` left out: rows (trace format, power series) or readings (one meter in one
    /// row of an Open Power System Data file); also the grid readings OPSD importing always skips.
    public var skipped: Int
    /// The first `TraceLimits.keptSkipReasons` reasons of `skipped`, in input order.
    public var skipReasons: [TraceError]
    /// The optional columns the samples have values for.
    public var columns: TraceColumns

    public init(samples: [TraceSample], meters: [String], rowsRead: Int, skipped: Int = 0, skipReasons: [TraceError] = [], columns: TraceColumns? = nil) {
        self.samples = samples
        self.meters = meters
        self.rowsRead = rowsRead
        self.skipped = skipped
        self.skipReasons = skipReasons
        self.columns = columns ?? .needed(by: samples)
    }

    /// The first and last sample times, UTC milliseconds; nil without samples.
    public var span: ClosedRange<Int64>? {
        guard let first = samples.first, let last = samples.last else { return nil }
        return first.millis...last.millis
    }

    /// One summary per meter, in `meters` order.
    public func meterSummaries() -> [MeterSummary] {
        var index: [String: Int] = [:]
        var summaries: [MeterSummary] = []
        summaries.reserveCapacity(meters.count)
        for sample in samples {
            if let position = index[sample.meterID] {
                summaries[position].last = sample
                summaries[position].samples += 1
            } else {
                index[sample.meterID] = summaries.count
                summaries.append(MeterSummary(meterID: sample.meterID, samples: 1, first: sample, last: sample))
            }
        }
        return summaries
    }
}

/// One meter of a trace: its first and last samples and the energy between them.
public struct MeterSummary: Sendable, Hashable {
    public var meterID: String
    /// How many samples the meter has.
    public var samples: Int
    public var first: TraceSample
    public var last: TraceSample

    public init(meterID: String, samples: Int, first: TraceSample, last: TraceSample) {
        self.meterID = meterID
        self.samples = samples
        self.first = first
        self.last = last
    }

    /// Energy imported between the first and last sample, Wh.
    public var importedWh: Int64 { last.importWh - first.importWh }
    /// Energy exported between the first and last sample, Wh.
    public var exportedWh: Int64 { last.exportWh - first.exportWh }
}
