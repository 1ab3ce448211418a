import Foundation
import Hummingbird
import LedgerCore

/// Strict parsing of path and query parameters: every malformed, oversized or out-of-range value
/// is a 400 naming the parameter, never a default and never a crash.
enum Parameter {
    /// A path parameter, percent-decoded.
    static func path(_ name: String, _ context: APIRequestContext) throws(APIError) -> String {
        guard let raw = context.parameters.get(name) else { throw APIError.badRequest("missing path parameter '\(name)'") }
        guard raw.utf8.count <= 3 * 128, let decoded = raw.removingPercentEncoding else {
            throw APIError.badRequest("path parameter '\(name)' is not valid percent-encoded text")
        }
        return decoded
    }

    /// A meter id: 1…128 characters of `[A-Za-z0-9._:-]`.
    static func meterID(_ context: APIRequestContext) throws(APIError) -> String {
        let id = try path("meterId", context)
        guard isIdentifier(id, maximum: 128) else { throw APIError.badRequest("meterId must be 1…128 characters of [A-Za-z0-9._:-]") }
        return id
    }

    /// An unsigned decimal path parameter (no sign, at most 20 digits).
    static func unsigned(_ name: String, _ context: APIRequestContext, minimum: UInt64 = 0) throws(APIError) -> UInt64 {
        let text = try path(name, context)
        guard (1...20).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = UInt64(text) else {
            throw APIError.badRequest("\(name) must be a non-negative whole number")
        }
        guard value >= minimum else { throw APIError.badRequest("\(name) must be at least \(minimum)") }
        return value
    }

    /// A 32-byte hash as 64 hex digits.
    static func hash(_ name: String, _ context: APIRequestContext) throws(APIError) -> [UInt8] {
        let text = try path(name, context)
        guard text.utf8.count == 64, let bytes = Hex.decode(text) else { throw APIError.badRequest("\(name) must be 64 hex digits") }
        return bytes
    }

    /// A whole-number query parameter within `range`, or `defaultValue` when absent.
    static func query(_ name: String, _ request: Request, in range: ClosedRange<Int64>, default defaultValue: Int64) throws(APIError) -> Int64 {
        let values = request.uri.queryParameters.getAll(name)
        guard let text = values.first else { return defaultValue }
        guard values.count == 1 else { throw APIError.badRequest("query parameter '\(name)' is given more than once") }
        guard text.utf8.count <= 20, let value = Int64(text), text.first != "+" else {
            throw APIError.badRequest("query parameter '\(name)' must be a whole number, got '\(text.prefix(32))'")
        }
        guard range.contains(value) else {
            throw APIError.badRequest("query parameter '\(name)' must be within \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
        return value
    }
}
