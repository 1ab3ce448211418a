/// One line of input: its 1-based number and its bytes without the line break (`\n` or `\r\n`).
struct CSVLine {
    var number: Int
    var bytes: ArraySlice<UInt8>
    /// Longer than the limit; `bytes` is then empty.
    var isTooLong: Bool

    /// Empty or only a carriage return: ignored by every reader.
    var isBlank: Bool { bytes.isEmpty && !isTooLong }
    /// Starts with `#`.
    var isComment: Bool { bytes.first == UInt8(ascii: "#") }
}

/// Splits bytes into lines, bounding each line's length. A UTF-8 byte order mark at the start is
/// skipped; the last line needs no line break.
struct LineScanner {
    private let bytes: [UInt8]
    private var position: Int
    private var number = 0
    private let maximumLineBytes: Int

    init(_ bytes: [UInt8], maximumLineBytes: Int) {
        self.bytes = bytes
        self.maximumLineBytes = maximumLineBytes
        position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    mutating func next() -> CSVLine? {
        guard position < bytes.count else { return nil }
        number += 1
        let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        var contentEnd = end
        if contentEnd > position, bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
        defer { position = end + 1 }
        if contentEnd - position > maximumLineBytes {
            return CSVLine(number: number, bytes: bytes[position..<position], isTooLong: true)
        }
        return CSVLine(number: number, bytes: bytes[position..<contentEnd], isTooLong: false)
    }
}

enum CSVFields {
    /// Fields separated by commas; no quoting.
    static func plain(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
    }

    /// Fields separated by commas, RFC 4180 quoting allowed (`"a,b"`, `"say ""hi"""`) but no
    /// line break inside a field.
    static func quoted(_ line: ArraySlice<UInt8>) throws(Refusal) -> [ArraySlice<UInt8>] {
        guard line.contains(UInt8(ascii: "\"")) else { return plain(line) }
        var fields: [ArraySlice<UInt8>] = []
        var index = line.startIndex
        while true {
            if index < line.endIndex, line[index] == UInt8(ascii: "\"") {
                var value: [UInt8] = []
                index += 1
                while true {
                    guard index < line.endIndex else { throw Refusal("a quoted field is not closed (line breaks inside fields are not supported)") }
                    if line[index] == UInt8(ascii: "\"") {
                        if index + 1 < line.endIndex, line[index + 1] == UInt8(ascii: "\"") {
                            value.append(UInt8(ascii: "\""))
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    value.append(line[index])
                    index += 1
                }
                fields.append(value[...])
                guard index == line.endIndex || line[index] == UInt8(ascii: ",") else {
                    throw Refusal("text after a closing quote (field \(fields.count))")
                }
            } else {
                let end = line[index...].firstIndex(of: UInt8(ascii: ",")) ?? line.endIndex
                fields.append(line[index..<end])
                index = end
            }
            if index == line.endIndex { return fields }
            index += 1  // the comma
        }
    }
}

/// Meter ids: 1…128 characters of `A-Z a-z 0-9 . _ : -`.
enum MeterID {
    static let maximumLength = 128

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    static func check(_ slice: ArraySlice<UInt8>) throws(Refusal) {
        let bytes = slice
        guard !bytes.isEmpty else { throw Refusal("empty: a meter id is required") }
        guard bytes.count <= maximumLength else { throw Refusal("\(shown(slice)) is longer than \(maximumLength) characters") }
        guard bytes.allSatisfy(isAllowed) else {
            throw Refusal("\(shown(slice)) has characters other than A-Z a-z 0-9 . _ : -")
        }
    }

    /// Whether `id` is a valid meter id.
    static func isValid(_ id: String) -> Bool {
        (try? check(Array(id.utf8)[...])) != nil
    }
}
