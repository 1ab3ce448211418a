/// Big-endian writer for the record formats.
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func i8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    package mutating func u16(_ v: UInt16) { append(UInt64(v), width: 2) }
    package mutating func u32(_ v: UInt32) { append(UInt64(v), width: 4) }
    package mutating func u64(_ v: UInt64) { append(v, width: 8) }
    package mutating func i64(_ v: Int64) { append(UInt64(bitPattern: v), width: 8) }
    package mutating func raw(_ v: some Collection<UInt8>) { bytes.append(contentsOf: v) }

    /// A length-prefixed (u8) ASCII identifier.
    package mutating func shortString(_ v: String) {
        u8(UInt8(v.utf8.count))
        bytes.append(contentsOf: v.utf8)
    }

    private mutating func append(_ v: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
}

/// Bounds-checked big-endian reader: every read checks the remaining length first, so malformed
/// input ends in a ``RecordError`` and never a crash.
package struct ByteReader {
    private let bytes: [UInt8]
    package private(set) var offset = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var remaining: Int { bytes.count - offset }
    package var isAtEnd: Bool { offset == bytes.count }

    package mutating func u8(_ field: String) throws(RecordError) -> UInt8 { UInt8(try read(1, field)) }
    package mutating func i8(_ field: String) throws(RecordError) -> Int8 { Int8(bitPattern: UInt8(try read(1, field))) }
    package mutating func u16(_ field: String) throws(RecordError) -> UInt16 { UInt16(try read(2, field)) }
    package mutating func u32(_ field: String) throws(RecordError) -> UInt32 { UInt32(try read(4, field)) }
    package mutating func u64(_ field: String) throws(RecordError) -> UInt64 { try read(8, field) }
    package mutating func i64(_ field: String) throws(RecordError) -> Int64 { Int64(bitPattern: try read(8, field)) }

    package mutating func raw(_ count: Int, _ field: String) throws(RecordError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(field) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A length-prefixed (u8) identifier of `allowed` characters and 1…`maximum` bytes.
    package mutating func shortString(_ field: String, maximum: Int, allowed: (UInt8) -> Bool) throws(RecordError) -> String {
        let length = Int(try u8("\(field) length"))
        guard (1...maximum).contains(length) else { throw .invalidField(field, "length \(length) is outside 1…\(maximum)") }
        let raw = try raw(length, field)
        guard raw.allSatisfy(allowed) else { throw .invalidField(field, "contains a character outside [A-Za-z0-9._:-]") }
        return String(decoding: raw, as: UTF8.self)
    }

    private mutating func read(_ width: Int, _ field: String) throws(RecordError) -> UInt64 {
        guard remaining >= width else { throw .truncated(field) }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return value
    }
}

/// Characters allowed in gateway, meter and profile ids: safe as MQTT topic levels and in logs.
package func isIdentifierByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
        true
    default:
        false
    }
}

/// Refuses an id that is empty, longer than `maximum` bytes, or has a character outside the set.
package func checkIdentifier(_ field: String, _ value: String, maximum: Int) throws(RecordError) {
    guard (1...maximum).contains(value.utf8.count), value.utf8.allSatisfy(isIdentifierByte) else {
        throw .invalidField(field, "'\(value)' must be 1…\(maximum) characters of [A-Za-z0-9._:-]")
    }
}

/// Why bytes are not a valid record, batch header or envelope.
public enum RecordError: Error, Sendable, Hashable, CustomStringConvertible {
    case truncated(String)
    case tooLarge(Int, maximum: Int)
    case unsupportedVersion(UInt8)
    case invalidField(String, String)
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .truncated(let field): "truncated: input ends inside \(field)"
        case .tooLarge(let size, let maximum): "\(size) bytes exceed the maximum of \(maximum)"
        case .unsupportedVersion(let version): "unsupported format version \(version)"
        case .invalidField(let field, let reason): "\(field): \(reason)"
        case .trailingBytes(let count): "\(count) unexpected bytes after the end"
        }
    }
}
