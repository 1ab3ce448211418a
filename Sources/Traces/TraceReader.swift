/// The trace format (docs/TRACES.md): reading and writing.
///
/// ```swift
/// let text = try Trace.write([
///     TraceSample(millis: 1_780_272_000_000, meterID: "house-1:grid", importWh: 1200, exportWh: 0),
///     TraceSample(millis: 1_780_272_900_000, meterID: "house-1:grid", importWh: 1450, exportWh: 0),
/// ])
/// let trace = try Trace.parse(Array(text.utf8))
/// ```
public enum Trace {
    /// The columns every trace starts its header with.
    public static let requiredHeader = "timestamp,meter,import_wh,export_wh"

    /// Reads a trace from its bytes. Errors name the line and the field; with `skipBad`, bad rows
    /// (unreadable fields, time going back, a register decreasing, a too-long line) are left out
    /// and counted instead, while a bad header, too large an input or too many rows still end
    /// the parse.
    public static func parse(_ bytes: [UInt8], skipBad: Bool = false, limits: TraceLimits = .trace) throws(TraceError) -> ParsedTrace {
        var reader = TraceReader(skipBad: skipBad, limits: limits)
        return try reader.read(bytes)
    }

    /// Reads a trace from text; see `parse(_:skipBad:limits:)`.
    public static func parse(_ text: String, skipBad: Bool = false, limits: TraceLimits = .trace) throws(TraceError) -> ParsedTrace {
        try parse(Array(text.utf8), skipBad: skipBad, limits: limits)
    }

    /// `samples` as trace text: the header holds the optional columns some sample has a value
    /// for, `comments` come first as `# ` lines. Throws for a sample the reader would refuse
    /// (bad meter id, negative register, out of order, …), naming its index.
    public static func write(_ samples: [TraceSample], comments: [String] = []) throws(TraceError) -> String {
        var writer = TraceWriter(columns: .needed(by: samples), comments: comments)
        writer.reserveCapacity(samples.count * 48)
        for sample in samples { try writer.append(sample) }
        return writer.text
    }
}

/// The reader behind `Trace.parse`.
struct TraceReader {
    let skipBad: Bool
    let limits: TraceLimits
    private var rules = SampleRules(placeNoun: "line")
    private var skips = SkipLog()

    init(skipBad: Bool, limits: TraceLimits) {
        self.skipBad = skipBad
        self.limits = limits
    }

    /// Where each column is in a row.
    struct Layout {
        var count: Int
        var timestamp = 0, meter = 0, importWh = 0, exportWh = 0
        var power: Int?
        var phases: [Int]?
        var names: [String]
    }

    mutating func read(_ bytes: [UInt8]) throws(TraceError) -> ParsedTrace {
        guard bytes.count <= limits.maximumBytes else {
            throw TraceError(reason: "the input is \(bytes.count) bytes, more than the limit of \(limits.maximumBytes) bytes: split the trace")
        }
        var scanner = LineScanner(bytes, maximumLineBytes: limits.maximumLineBytes)
        var layout: Layout?
        var samples: [TraceSample] = []
        var rows = 0
        while let line = scanner.next() {
            if line.isBlank || line.isComment { continue }
            guard let columns = layout else {
                guard !line.isTooLong else {
                    throw TraceError(line: line.number, field: "header", reason: "the line is longer than \(limits.maximumLineBytes) bytes")
                }
                layout = try Self.header(line)
                continue
            }
            rows += 1
            guard rows <= limits.maximumRows else {
                throw TraceError(line: line.number, reason: "more than \(limits.maximumRows) rows: split the trace")
            }
            do throws(TraceError) {
                guard !line.isTooLong else {
                    throw TraceError(line: line.number, reason: "the line is longer than \(limits.maximumLineBytes) bytes")
                }
                var sample = try Self.sample(line, columns)
                if let refusal = rules.refusal(for: sample) {
                    throw TraceError(line: line.number, field: refusal.field, reason: refusal.reason)
                }
                rules.accept(&sample, place: line.number)
                samples.append(sample)
            } catch {
                guard skipBad else { throw error }
                skips.record(error)
            }
        }
        guard layout != nil else {
            throw TraceError(reason: "no header line: a trace starts with \(Trace.requiredHeader) (docs/TRACES.md)")
        }
        return ParsedTrace(samples: samples, meters: rules.meters, rowsRead: rows, skipped: skips.count, skipReasons: skips.reasons)
    }

    static func header(_ line: CSVLine) throws(TraceError) -> Layout {
        let fields = CSVFields.plain(line.bytes)
        var layout = Layout(count: fields.count, names: [])
        var seen: [TraceColumn: Int] = [:]
        func fail(_ reason: String) -> TraceError { TraceError(line: line.number, field: "header", reason: reason) }
        for (index, field) in fields.enumerated() {
            let name = String(decoding: field, as: UTF8.self)
            guard let column = TraceColumn(rawValue: name) else {
                if index == 0, name == "utc_timestamp" {
                    throw fail("unknown column 'utc_timestamp': this looks like an Open Power System Data file; import it with `gridledger trace import --format opsd`")
                }
                throw fail("unknown column \(shown(field)) (known: \(TraceColumn.knownList))")
            }
            guard seen[column] == nil else { throw fail("column '\(name)' appears twice") }
            seen[column] = index
            layout.names.append(name)
        }
        if seen[.meter] == nil, seen[.timestamp] != nil, seen[.powerW] != nil, seen[.importWh] == nil {
            throw fail("missing column 'meter': this looks like a power series (timestamp,power_w); import it with `gridledger trace import --format power-series`")
        }
        for column in TraceColumn.required where seen[column] == nil {
            throw fail("missing column '\(column.rawValue)': a trace's header has \(Trace.requiredHeader)")
        }
        let phases = TraceColumn.phases.compactMap { seen[$0] }
        if !phases.isEmpty, phases.count != 3 {
            let missing = TraceColumn.phases.filter { seen[$0] == nil }.map(\.rawValue).joined(separator: ", ")
            throw fail("missing column \(missing): per-phase power needs power_l1_w, power_l2_w and power_l3_w")
        }
        layout.timestamp = seen[.timestamp]!
        layout.meter = seen[.meter]!
        layout.importWh = seen[.importWh]!
        layout.exportWh = seen[.exportWh]!
        layout.power = seen[.powerW]
        layout.phases = phases.isEmpty ? nil : phases
        return layout
    }

    static func sample(_ line: CSVLine, _ layout: Layout) throws(TraceError) -> TraceSample {
        let fields = CSVFields.plain(line.bytes)
        guard fields.count == layout.count else {
            throw TraceError(line: line.number, reason: "expected \(layout.count) fields (\(layout.names.joined(separator: ","))), found \(fields.count)")
        }
        let n = line.number
        let millis = try inField("timestamp", line: n) { () throws(Refusal) in try TraceTime.parse(fields[layout.timestamp], compactOffset: false) }
        let meterBytes = fields[layout.meter]
        try inField("meter", line: n) { () throws(Refusal) in try MeterID.check(meterBytes) }
        let importWh = try inField("import_wh", line: n) { () throws(Refusal) in try Numbers.wholeNumber(fields[layout.importWh], unit: "Wh") }
        let exportWh = try inField("export_wh", line: n) { () throws(Refusal) in try Numbers.wholeNumber(fields[layout.exportWh], unit: "Wh") }
        var sample = TraceSample(millis: millis, meterID: String(decoding: meterBytes, as: UTF8.self), importWh: importWh, exportWh: exportWh)
        if let power = layout.power, !fields[power].isEmpty {
            sample.powerW = try inField("power_w", line: n) { () throws(Refusal) in try Numbers.signedWholeNumber(fields[power], unit: "W") }
        }
        if let phases = layout.phases {
            let cells = phases.map { fields[$0] }
            let filled = cells.filter { !$0.isEmpty }.count
            if filled == 3 {
                var values: [Int64] = []
                for (cell, column) in zip(cells, TraceColumn.phases) {
                    values.append(try inField(column.rawValue, line: n) { () throws(Refusal) in try Numbers.signedWholeNumber(cell, unit: "W") })
                }
                sample.phasePowerW = values
            } else if filled != 0 {
                let empty = zip(cells, TraceColumn.phases).first { $0.0.isEmpty }!.1
                throw TraceError(line: n, field: empty.rawValue, reason: "empty while other phases have a value: give all three phases or none")
            }
        }
        return sample
    }
}
