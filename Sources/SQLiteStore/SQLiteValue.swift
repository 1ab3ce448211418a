/// One SQLite value, for binding parameters and reading rows generically.
///
/// ```swift
/// let rows = try db.query("SELECT name, size FROM files WHERE owner = ?1", [.text("ops")])
/// ```
public enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    /// A blob; an empty array is a zero-length blob, not NULL.
    case blob([UInt8])
    case null

    /// The integer, or nil for any other storage class.
    public var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var real: Double? { if case .real(let v) = self { v } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
    public var blob: [UInt8]? { if case .blob(let v) = self { v } else { nil } }
    public var isNull: Bool { self == .null }
}

extension SQLiteValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}
