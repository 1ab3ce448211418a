public import YAMLConfiguration

/// Why a contract document, or a calendar question asked of it, was refused: where and why,
/// printed as `file:line: field: reason`; the same error as every other YAML document's.
///
/// ```swift
/// // contract.yaml:7: prices.retail.default: "0.3000001" has more than 6 fractional digits
/// ```
public typealias ContractError = ConfigurationError

extension ConfigurationError {
    /// An error about a calendar or tariff question rather than a document.
    static func calendar(_ field: String, _ reason: String) -> ContractError {
        ContractError(file: "calendar", field: field, reason: reason)
    }
}
