/// A profile that cannot be used, with where and why: `file:line: field: reason`.
public struct ProfileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    /// Path of the offending key, e.g. `fields[3] (voltage.l1).unit`.
    public var field: String
    public var reason: String

    public init(file: String? = nil, line: Int? = nil, field: String, reason: String) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var location = file ?? "profile"
        if let line { location += ":\(line)" }
        return field.isEmpty ? "\(location): \(reason)" : "\(location): \(field): \(reason)"
    }
}
