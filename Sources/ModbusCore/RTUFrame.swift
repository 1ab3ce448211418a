/// Modbus RTU framing for register reads (Modbus over Serial Line v1.02, 2.5.1): unit id, PDU,
/// CRC-16 low byte first, no MBAP header. Pure: the same frames go over a serial line or, through
/// a transparent serial-to-Ethernet gateway, over a TCP connection.
///
/// ```swift
/// let span = RegisterSpan(.input, address: 0, count: 2)
/// let request = RTUFrame.readRequest(unit: 1, span: span)   // 01 04 00 00 00 02 71 CB
/// switch RTUFrame.parseReadResponse(received, unit: 1, span: span) {
/// case .needMore(let n): // read at least n more bytes, then parse everything again
/// case .registers(let words): // done
/// case .failure(let error): // exception or garbage
/// }
/// ```
public enum RTUFrame {
    /// The longest RTU frame (Modbus over Serial Line v1.02, 2.5.1.1): a reader never needs to
    /// buffer more than this for one answer.
    public static let maxFrameLength = 256

    /// Length of an exception answer: unit, function | 0x80, exception code, CRC (2).
    public static let exceptionResponseLength = 5

    /// What `parseReadResponse` makes of the bytes received so far.
    public enum ParseResult: Sendable, Hashable {
        /// The frame is incomplete: at least this many more bytes are needed (always > 0).
        case needMore(Int)
        /// A complete, valid answer with exactly the requested number of registers.
        case registers([UInt16])
        /// A complete exception answer (`.exception`), or bytes that cannot become a valid
        /// answer to this request (`.invalidResponse`): the caller must not read on.
        case failure(ModbusError)
    }

    /// CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF, no final XOR. On the
    /// wire the low byte goes first.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }

    /// The 8-byte request frame reading `span` (function 3 or 4) from `unit`.
    ///
    /// Does not validate: the caller checks that `span.count` is 1…125 and that the span ends
    /// within the address space (a 16-bit count field cannot express more anyway).
    public static func readRequest(unit: UInt8, span: RegisterSpan) -> [UInt8] {
        var frame: [UInt8] = [
            unit, span.function.readFunctionCode,
            UInt8(span.address >> 8), UInt8(span.address & 0xFF),
            UInt8(span.count >> 8), UInt8(span.count & 0xFF),
        ]
        appendCRC(to: &frame)
        return frame
    }

    /// Parses the answer to `readRequest(unit:span:)` from the bytes received so far.
    ///
    /// Call it again with all bytes after each read: a result of `.needMore(n)` means no answer
    /// of the expected shape can be shorter than `bytes.count + n`, so a reader can read exactly
    /// `n` bytes and never consume bytes belonging to a later frame. Unit id, function code and
    /// byte count are checked as soon as they arrive, so garbage fails early instead of waiting
    /// for a timeout. Bytes beyond the end of a complete frame are invalid.
    public static func parseReadResponse(_ bytes: [UInt8], unit: UInt8, span: RegisterSpan) -> ParseResult {
        let function = span.function.readFunctionCode
        let normalLength = 5 + 2 * Int(span.count)
        guard !bytes.isEmpty else { return .needMore(exceptionResponseLength) }
        guard bytes[0] == unit else {
            return .failure(.invalidResponse("answer from unit \(bytes[0]) to a request for unit \(unit)"))
        }
        guard bytes.count >= 2 else { return .needMore(exceptionResponseLength - 1) }

        let expectedLength: Int
        switch bytes[1] {
        case function | 0x80:
            expectedLength = exceptionResponseLength
        case function:
            expectedLength = normalLength
            if bytes.count >= 3, Int(bytes[2]) != 2 * Int(span.count) {
                return .failure(.invalidResponse("byte count \(bytes[2]) for \(span) (expected \(2 * Int(span.count)))"))
            }
        default:
            return .failure(.invalidResponse("function code \(bytes[1]) in the answer to function \(function)"))
        }
        guard bytes.count >= expectedLength else { return .needMore(expectedLength - bytes.count) }
        guard bytes.count == expectedLength else {
            return .failure(.invalidResponse("\(bytes.count - expectedLength) bytes after the end of a \(expectedLength)-byte frame"))
        }

        let received = UInt16(bytes[expectedLength - 2]) | UInt16(bytes[expectedLength - 1]) << 8
        let computed = crc16(bytes[..<(expectedLength - 2)])
        guard received == computed else {
            return .failure(.invalidResponse("CRC \(hex(received)) does not match the computed \(hex(computed))"))
        }

        if expectedLength == exceptionResponseLength && bytes[1] & 0x80 != 0 {
            guard let code = ModbusExceptionCode(rawValue: bytes[2]) else {
                return .failure(.invalidResponse("unknown exception code \(bytes[2])"))
            }
            return .failure(.exception(code, span))
        }
        let words = (0..<Int(span.count)).map { i in UInt16(bytes[3 + 2 * i]) << 8 | UInt16(bytes[4 + 2 * i]) }
        return .registers(words)
    }

    /// Appends the CRC of `frame`, low byte first.
    private static func appendCRC(to frame: inout [UInt8]) {
        let crc = crc16(frame)
        frame.append(UInt8(crc & 0xFF))
        frame.append(UInt8(crc >> 8))
    }

    private static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}
