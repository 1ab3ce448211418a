/// The two register tables a Modbus device exposes for 16-bit words.
public enum RegisterFunction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Input registers, read with function code 4 (read-only, "3X" in datasheets).
    case input
    /// Holding registers, read with function code 3 ("4X" in datasheets).
    case holding

    /// The function code a read of this table uses.
    public var readFunctionCode: UInt8 {
        switch self {
        case .input: 4
        case .holding: 3
        }
    }
}

/// The most registers one Modbus read request may ask for (Modbus Application Protocol v1.1b3, 6.3).
public let modbusMaxRegistersPerRead = 125

/// A contiguous run of registers in one table.
public struct RegisterSpan: Sendable, Hashable, Codable, CustomStringConvertible {
    public var function: RegisterFunction
    public var address: UInt16
    public var count: UInt16

    public init(_ function: RegisterFunction, address: UInt16, count: UInt16) {
        self.function = function
        self.address = address
        self.count = count
    }

    /// One past the last address; an `Int` so a span ending at 0xFFFF does not overflow.
    public var end: Int { Int(address) + Int(count) }

    public func overlaps(_ other: RegisterSpan) -> Bool {
        function == other.function && Int(address) < other.end && Int(other.address) < end
    }

    public func contains(_ other: RegisterSpan) -> Bool {
        function == other.function && address <= other.address && other.end <= end
    }

    public var description: String {
        "\(function) \(address)…\(end - 1) (\(count))"
    }
}
