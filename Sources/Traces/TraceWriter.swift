/// Writes samples as trace text, one by one, checking each as the reader would.
///
/// ```swift
/// var writer = TraceWriter(columns: TraceColumns(power: true), comments: ["house 7, June"])
/// try writer.append(TraceSample(millis: 0, meterID: "h7:grid", importWh: 0, exportWh: 0, powerW: 420))
/// let text = writer.text
/// ```
public struct TraceWriter: Sendable {
    /// The optional columns written.
    public let columns: TraceColumns
    /// The text so far: comments, header, one line per appended sample.
    public private(set) var text: String
    /// How many samples were appended.
    public private(set) var count = 0
    private var rules = SampleRules(placeNoun: "sample")

    /// Starts with `comments` (each line prefixed `# `) and the header of `columns`.
    public init(columns: TraceColumns, comments: [String] = []) {
        self.columns = columns
        var text = ""
        for comment in comments {
            for line in comment.split(separator: "\n", omittingEmptySubsequences: false) {
                text += "# " + line.filter { $0 != "\r" } + "\n"
            }
        }
        text += columns.names.joined(separator: ",") + "\n"
        self.text = text
    }

    /// Reserves room for about `bytes` more bytes of text.
    public mutating func reserveCapacity(_ bytes: Int) {
        text.reserveCapacity(text.utf8.count + bytes)
    }

    /// Appends one line. Throws, naming the sample's index, when the reader would refuse it:
    /// a bad meter id, a negative register, a time outside 1970…9999, a phase array that is not
    /// three values, a value without its column, or an ordering rule broken.
    public mutating func append(_ sample: TraceSample) throws(TraceError) {
        func fail(_ field: String, _ reason: String) -> TraceError { TraceError(sampleIndex: count, field: field, reason: reason) }
        do throws(Refusal) {
            try MeterID.check(Array(sample.meterID.utf8)[...])
        } catch {
            throw fail("meter", error.reason)
        }
        guard sample.millis >= TraceTime.earliestMillis, sample.millis <= TraceTime.latestMillis else {
            throw fail("timestamp", "\(sample.millis) ms is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z")
        }
        guard sample.importWh >= 0 else { throw fail("import_wh", "\(sample.importWh) is negative: registers are never negative") }
        guard sample.exportWh >= 0 else { throw fail("export_wh", "\(sample.exportWh) is negative: registers are never negative") }
        if sample.powerW != nil, !columns.power { throw fail("power_w", "the sample has a power but the trace has no power_w column") }
        if let phases = sample.phasePowerW {
            guard columns.phasePower else { throw fail("power_l1_w", "the sample has per-phase power but the trace has no power_l1_w… columns") }
            guard phases.count == 3 else { throw fail("power_l1_w", "\(phases.count) phase values: give three (L1, L2, L3)") }
        }
        if let refusal = rules.refusal(for: sample) { throw fail(refusal.field, refusal.reason) }
        var accepted = sample
        rules.accept(&accepted, place: count)
        var line = TraceTime.text(millis: sample.millis)
        line += ","
        line += sample.meterID
        line += ",\(sample.importWh),\(sample.exportWh)"
        if columns.power { line += "," + (sample.powerW.map { String($0) } ?? "") }
        if columns.phasePower {
            line += sample.phasePowerW.map { "," + $0.map { String($0) }.joined(separator: ",") } ?? ",,,"
        }
        line += "\n"
        text += line
        count += 1
    }
}
