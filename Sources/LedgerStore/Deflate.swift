import CZlib

/// zlib compression of block bodies. A body is mostly record envelopes whose batch headers,
/// signatures and audit paths repeat across the records of one gateway batch, so deflate's
/// back-references remove most of that repetition (docs/PERFORMANCE.md, bytes per record).
enum Deflate {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `u32` big-endian original length, then the zlib stream.
    static func compress(_ input: [UInt8], level: Int32) throws(Failure) -> [UInt8] {
        var bound = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(bound) + 4)
        let count = UInt32(input.count)
        output[0] = UInt8(truncatingIfNeeded: count >> 24)
        output[1] = UInt8(truncatingIfNeeded: count >> 16)
        output[2] = UInt8(truncatingIfNeeded: count >> 8)
        output[3] = UInt8(truncatingIfNeeded: count)
        let rc = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress! + 4, &bound, source.baseAddress, uLong(source.count), level)
            }
        }
        guard rc == Z_OK else { throw Failure(description: "zlib compress failed (\(rc))") }
        output.removeLast(output.count - 4 - Int(bound))
        return output
    }

    /// Inverse of ``compress(_:level:)``; refuses more than `maximumSize` bytes of output.
    static func decompress(_ input: [UInt8], maximumSize: Int) throws(Failure) -> [UInt8] {
        guard input.count >= 4 else { throw Failure(description: "compressed body is truncated") }
        let count = Int(input[0]) << 24 | Int(input[1]) << 16 | Int(input[2]) << 8 | Int(input[3])
        guard count <= maximumSize else { throw Failure(description: "compressed body claims \(count) bytes, more than \(maximumSize)") }
        var output = [UInt8](repeating: 0, count: count)
        var length = uLongf(count)
        let rc = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                uncompress(out.baseAddress, &length, source.baseAddress! + 4, uLong(source.count - 4))
            }
        }
        guard rc == Z_OK, Int(length) == count else { throw Failure(description: "compressed body is corrupt (zlib \(rc))") }
        return output
    }
}
