import Foundation

/// What the aggregator sends on `gridledger/v1/<gateway>/confirm` once records are durably in a
/// block: for each meter, the highest sequence up to which every record is stored.
///
/// JSON: `{"confirmed": {"<meter id>": <sequence>, ...}}`. Bounded: at most 64 KiB and 4096
/// meters; anything else is refused whole.
public struct Confirmation: Sendable, Hashable, Codable {
    public static let maximumSize = 64 * 1024
    public static let maximumMeters = 4096

    public var confirmed: [String: UInt64]

    public init(confirmed: [String: UInt64]) { self.confirmed = confirmed }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(decoding payload: [UInt8]) throws {
        guard payload.count <= Self.maximumSize else { throw Invalid(description: "\(payload.count) bytes exceed \(Self.maximumSize)") }
        do {
            self = try JSONDecoder().decode(Confirmation.self, from: Data(payload))
        } catch {
            throw Invalid(description: "not a confirmation: \(error)")
        }
        guard confirmed.count <= Self.maximumMeters else { throw Invalid(description: "more than \(Self.maximumMeters) meters") }
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array((try? encoder.encode(self)) ?? Data())
    }
}
