/// How a value is laid out in 16-bit Modbus registers.
public enum RegisterType: String, Sendable, Hashable, Codable, CaseIterable {
    case int16, uint16, int32, uint32, int64, uint64, float32
    /// SunSpec accumulator: unsigned 32 bits, 0 means "not implemented".
    case acc32
    /// SunSpec scale factor: signed 16-bit power-of-ten exponent, 0x8000 means "not implemented".
    case sunssf
    /// A string of ASCII characters packed two per register (identification only).
    case string

    /// Registers one value occupies (strings: per profile, so nil here).
    public var registerCount: Int? {
        switch self {
        case .int16, .uint16, .sunssf: 1
        case .int32, .uint32, .float32, .acc32: 2
        case .int64, .uint64: 4
        case .string: nil
        }
    }

    public var isSigned: Bool {
        switch self {
        case .int16, .int32, .int64, .sunssf, .float32: true
        default: false
        }
    }

    /// The SunSpec "not implemented" raw bit pattern for this type (SunSpec Information Model
    /// Specification, table "Data types"), as an unsigned value of the type's width.
    public var sunSpecNotImplemented: UInt64? {
        switch self {
        case .int16, .sunssf: 0x8000
        case .uint16: 0xFFFF
        case .int32: 0x8000_0000
        case .uint32: 0xFFFF_FFFF
        case .acc32: 0
        case .int64: 0x8000_0000_0000_0000
        case .uint64: 0xFFFF_FFFF_FFFF_FFFF
        case .float32, .string: nil
        }
    }
}

/// The order in which the 16-bit words of a 32- or 64-bit value arrive. Bytes inside each word
/// are always big-endian (Modbus Application Protocol v1.1b3, 4.2).
public enum WordOrder: String, Sendable, Hashable, Codable {
    /// Most significant word first: the Modbus convention ("big endian", "ABCD").
    case highFirst = "high-first"
    /// Least significant word first ("word-swapped", "CDAB").
    case lowFirst = "low-first"
}

/// A decoded raw register value before scaling.
public enum RawValue: Sendable, Hashable {
    case integer(Int64)
    /// Unsigned 64-bit values above `Int64.max`.
    case unsignedInteger(UInt64)
    case float(Float)
}

/// Packing and unpacking of register words, pure and symmetric: `encode(decode(w)) == w`.
public enum RegisterCodec {
    /// The unsigned bit pattern of `words` (1, 2 or 4 of them) in `order`.
    public static func bits(_ words: ArraySlice<UInt16>, order: WordOrder) -> UInt64 {
        let ordered = order == .highFirst ? Array(words) : words.reversed()
        return ordered.reduce(0) { ($0 << 16) | UInt64($1) }
    }

    /// The words carrying the low `count * 16` bits of `bits`, in `order`.
    public static func words(bits: UInt64, count: Int, order: WordOrder) -> [UInt16] {
        let highFirst = (0..<count).map { i in UInt16(truncatingIfNeeded: bits >> (16 * (count - 1 - i))) }
        return order == .highFirst ? highFirst : highFirst.reversed()
    }

    /// Decodes one value of `type` from exactly `type.registerCount` words.
    public static func decode(_ words: ArraySlice<UInt16>, as type: RegisterType, order: WordOrder) -> RawValue {
        let pattern = bits(words, order: order)
        switch type {
        case .int16, .sunssf: return .integer(Int64(Int16(bitPattern: UInt16(truncatingIfNeeded: pattern))))
        case .uint16: return .integer(Int64(UInt16(truncatingIfNeeded: pattern)))
        case .int32: return .integer(Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: pattern))))
        case .uint32, .acc32: return .integer(Int64(UInt32(truncatingIfNeeded: pattern)))
        case .int64: return .integer(Int64(bitPattern: pattern))
        case .uint64: return pattern > UInt64(Int64.max) ? .unsignedInteger(pattern) : .integer(Int64(pattern))
        case .float32: return .float(Float(bitPattern: UInt32(truncatingIfNeeded: pattern)))
        case .string: return .integer(0)
        }
    }

    /// Encodes an integer into `type.registerCount` words (two's complement for signed types).
    public static func encode(integer value: Int64, as type: RegisterType, order: WordOrder) -> [UInt16] {
        let count = type.registerCount ?? 1
        return words(bits: UInt64(bitPattern: value), count: count, order: order)
    }

    /// Encodes a float32 into two words.
    public static func encode(float value: Float, order: WordOrder) -> [UInt16] {
        words(bits: UInt64(value.bitPattern), count: 2, order: order)
    }

    /// Decodes an ASCII string packed two characters per register, trimming NULs and spaces.
    public static func decodeString(_ words: ArraySlice<UInt16>) -> String {
        var bytes: [UInt8] = []
        for word in words {
            bytes.append(UInt8(word >> 8))
            bytes.append(UInt8(word & 0xFF))
        }
        let printable = bytes.prefix { $0 != 0 }.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: "?") }
        return String(decoding: printable, as: UTF8.self).trimmingSpaces()
    }

    /// Packs an ASCII string into `count` registers, padding with NUL.
    public static func encodeString(_ text: String, count: Int) -> [UInt16] {
        var bytes = Array(text.utf8.prefix(count * 2))
        bytes += Array(repeating: 0, count: count * 2 - bytes.count)
        return (0..<count).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.last == " " { scalars.removeLast() }
        while scalars.first == " " { scalars.removeFirst() }
        return String(scalars)
    }
}
