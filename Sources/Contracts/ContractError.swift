import YAMLConfiguration

/// Why a contract document, or a calendar question asked of it, was refused: where and why,
/// printed as `file:line: field: reason`.
///
/// ```swift
/// // contract.yaml:7: prices.retail.default: "0.3000001" has more than 6 fractional digits
/// ```
public struct ContractError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The document's name as given to `Contract.parse(_:file:)`, e.g. `"contract.yaml"`.
    public var file: String
    /// The 1-based line of the offending node, when known.
    public var line: Int?
    /// The dotted path of the offending field, e.g. `prices.retail.windows[0].from`; empty for
    /// the document as a whole.
    public var field: String
    /// Why the value was refused.
    public var reason: String

    /// An error at `file:line: field`.
    public init(file: String, line: Int? = nil, field: String, reason: String) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
    }

    /// `file:line: field: reason`, leaving out the line when unknown and the field when empty.
    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        return field.isEmpty ? "\(location): \(reason)" : "\(location): \(field): \(reason)"
    }

    init(_ error: ConfigurationError) {
        self.init(file: error.file, line: error.line, field: error.field, reason: error.reason)
    }

    /// An error about a calendar or tariff question rather than a document.
    static func calendar(_ field: String, _ reason: String) -> ContractError {
        ContractError(file: "calendar", field: field, reason: reason)
    }
}
