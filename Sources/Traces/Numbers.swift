/// Exact parsing of the numbers traces and importers read. Nothing passes through floating point.
enum Numbers {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A non-negative whole number written with digits only (at most 18 after leading zeros).
    static func wholeNumber(_ bytes: ArraySlice<UInt8>, unit: String) throws(Refusal) -> Int64 {
        guard !bytes.isEmpty else { throw Refusal("empty: a whole number of \(unit) is required") }
        guard bytes.allSatisfy(isDigit) else {
            if bytes.first == UInt8(ascii: "-"), bytes.count > 1, bytes.dropFirst().allSatisfy(isDigit) {
                throw Refusal("\(shown(bytes)) is negative: registers are never negative")
            }
            throw Refusal("\(shown(bytes)) is not a whole number of \(unit)")
        }
        let significant = bytes.drop { $0 == UInt8(ascii: "0") }
        guard significant.count <= 18 else { throw Refusal("\(shown(bytes)) is too large (at most 18 digits)") }
        var value: Int64 = 0
        for byte in significant { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
        return value
    }

    /// A whole number with an optional sign (`-`), at most 15 digits after leading zeros.
    static func signedWholeNumber(_ bytes: ArraySlice<UInt8>, unit: String) throws(Refusal) -> Int64 {
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = negative ? bytes.dropFirst() : bytes
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else { throw Refusal("\(shown(bytes)) is not a whole number of \(unit)") }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        guard significant.count <= 15 else { throw Refusal("\(shown(bytes)) is too large (at most 15 digits)") }
        var value: Int64 = 0
        for byte in significant { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
        return negative ? -value : value
    }

    /// What to do with digits beyond `fractionDigits`.
    enum Excess {
        /// Refuse them unless they are zeros, with this phrase (`"a whole number of Wh"`).
        case refuse(String)
        /// Round half away from zero.
        case round
    }

    /// A plain decimal (`"6321.393"`, `"-1234.5"`, `".5"` is refused) in units of
    /// 10^-`fractionDigits`. At most 15 whole digits after leading zeros.
    static func decimal(_ bytes: ArraySlice<UInt8>, fractionDigits: Int, signed: Bool, excess: Excess, unit: String) throws(Refusal) -> Int64 {
        let negative = bytes.first == UInt8(ascii: "-")
        let plus = bytes.first == UInt8(ascii: "+")
        if negative, !signed { throw Refusal("\(shown(bytes)) is negative: registers are never negative") }
        let body = negative || plus ? bytes.dropFirst() : bytes
        let point = body.firstIndex(of: UInt8(ascii: "."))
        let whole = point.map { body[body.startIndex..<$0] } ?? body
        let fraction = point.map { body[($0 + 1)...] } ?? body[body.endIndex...]
        guard !whole.isEmpty, whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit), point == nil || !fraction.isEmpty else {
            if body.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                throw Refusal("\(shown(bytes)): exponents are not accepted, write a plain decimal such as 1234.5 \(unit)")
            }
            throw Refusal("\(shown(bytes)) is not a decimal number of \(unit) such as 1234.5")
        }
        let significant = whole.drop { $0 == UInt8(ascii: "0") }
        guard significant.count <= 15 else { throw Refusal("\(shown(bytes)) is too large (at most 15 whole digits)") }
        var value: Int64 = 0
        for byte in significant { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
        var kept = 0
        var roundUp = false
        for (offset, byte) in fraction.enumerated() {
            if offset < fractionDigits {
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                kept += 1
            } else if offset == fractionDigits {
                switch excess {
                case .refuse(let what):
                    if byte != UInt8(ascii: "0") { throw Refusal("\(shown(bytes)) is not \(what) (more than \(fractionDigits) decimals)") }
                case .round:
                    roundUp = byte >= UInt8(ascii: "5")
                }
            } else if case .refuse(let what) = excess, byte != UInt8(ascii: "0") {
                throw Refusal("\(shown(bytes)) is not \(what) (more than \(fractionDigits) decimals)")
            }
        }
        for _ in kept..<fractionDigits { value *= 10 }
        if roundUp { value += 1 }
        return negative ? -value : value
    }
}

/// Energy as text.
public enum EnergyText {
    /// Whole Wh as kWh with three decimals, exactly: `6321393` → `"6321.393"`, `-5` → `"-0.005"`.
    public static func kWh(_ wh: Int64) -> String {
        let magnitude = wh.magnitude
        let fraction = String(magnitude % 1000)
        return (wh < 0 ? "-" : "") + "\(magnitude / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
