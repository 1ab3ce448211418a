/// Big-endian writer for the record formats.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func i8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    mutating func u16(_ v: UInt16) { append(UInt64(v), width: 2) }
    mutating func u32(_ v: UInt32) { append(UInt64(v), width: 4) }
    mutating func u64(_ v: UInt64) { append(v, width: 8) }
    mutating func i64(_ v: Int64) { append(UInt64(bitPattern: v), width: 8) }
    mutating func raw(_ v: some Collection<UInt8>) { bytes.append(contentsOf: v) }

    /// A length-prefixed (u8) ASCII identifier.
    mutating func shortString(_ v: String) {
        u8(UInt8(v.utf8.count))
        bytes.append(contentsOf: v.utf8)
    }

    private mutating func append(_ v: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
}

/// Bounds-checked big-endian reader: every read checks the remaining length first, so malformed
/// input ends in a ``RecordError`` and never a crash.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func u8(_ field: String) throws(RecordError) -> UInt8 { UInt8(try read(1, field)) }
    mutating func i8(_ field: String) throws(RecordError) -> Int8 { Int8(bitPattern: UInt8(try read(1, field))) }
    mutating func u16(_ field: String) throws(RecordError) -> UInt16 { UInt16(try read(2, field)) }
    mutating func u32(_ field: String) throws(RecordError) -> UInt32 { UInt32(try read(4, field)) }
    mutating func u64(_ field: String) throws(RecordError) -> UInt64 { try read(8, field) }
    mutating func i64(_ field: String) throws(RecordError) -> Int64 { Int64(bitPattern: try read(8, field)) }

    mutating func raw(_ count: Int, _ field: String) throws(RecordError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(field) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A length-prefixed (u8) identifier of `allowed` characters and 1…`maximum` bytes.
    mutating func shortString(_ field: String, maximum: Int, allowed: (UInt8) -> Bool) throws(RecordError) -> String {
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
func isIdentifierByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
        true
    default:
        false
    }
}

/// Refuses an id that is empty, longer than `maximum` bytes, or has a character outside the set.
func checkIdentifier(_ field: String, _ value: String, maximum: Int) throws(RecordError) {
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
