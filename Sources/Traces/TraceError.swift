/// What is wrong with a trace (or an importer's input) and where, e.g.
/// `line 17: import_wh: '12a' is not a whole number of Wh`.
///
/// Every refusal of the reader and the importers names the 1-based input line and, when one is to
/// blame, the field (a column name, or `header`); the writer names the 0-based index of the sample.
public struct TraceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line of the input; nil for the writer and for the input as a whole (empty, too large).
    public var line: Int?
    /// 0-based index of the sample given to the writer; nil for the reader and importers.
    public var sampleIndex: Int?
    /// The column (`import_wh`, `utc_timestamp`, …), `header`, or an option's name; nil when the
    /// line as a whole is wrong (too long, wrong number of fields).
    public var field: String?
    /// Why, in words.
    public var reason: String

    public init(line: Int? = nil, sampleIndex: Int? = nil, field: String? = nil, reason: String) {
        self.line = line
        self.sampleIndex = sampleIndex
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let line { parts.append("line \(line)") }
        if let sampleIndex { parts.append("sample \(sampleIndex)") }
        if let field { parts.append(field) }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }
}

/// Why one piece of text was refused; attached to its line and field by the caller.
struct Refusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Runs `body` and names `field` on `line` in its refusal.
@inline(__always)
func inField<T>(_ field: String?, line: Int?, _ body: () throws(Refusal) -> T) throws(TraceError) -> T {
    do throws(Refusal) {
        return try body()
    } catch {
        throw TraceError(line: line, field: field, reason: error.reason)
    }
}

/// A field's text for an error message: at most 40 characters, control characters shown as `?`.
func shown(_ bytes: ArraySlice<UInt8>) -> String {
    let limit = 40
    let cleaned = bytes.prefix(limit).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }
    return "'" + String(decoding: cleaned, as: UTF8.self) + (bytes.count > limit ? "…" : "") + "'"
}

/// Counts what `skipBad` left out and keeps the first few reasons.
struct SkipLog {
    var count = 0
    var reasons: [TraceError] = []

    mutating func record(_ error: TraceError) {
        count += 1
        if reasons.count < TraceLimits.keptSkipReasons { reasons.append(error) }
    }
}
