public import GridLedgerCore
import ModbusCore

/// What decoding one field gave.
public enum FieldOutcome: Sendable, Hashable {
    case value(ScaledValue)
    /// The device reports the quantity as not implemented (a marker value, NaN, or an
    /// unimplemented scale factor).
    case notImplemented
    /// The registers were not read (the read failed) or hold an unusable value.
    case missing(String)
}

/// Everything decoded from one register image.
public struct DecodedFields: Sendable, Hashable {
    public var measurements: [Measurement] = []
    public var notImplemented: [Quantity] = []
    public var missing: [(quantity: Quantity, reason: String)] = []

    public static func == (lhs: DecodedFields, rhs: DecodedFields) -> Bool {
        lhs.measurements == rhs.measurements && lhs.notImplemented == rhs.notImplemented
            && lhs.missing.map(\.quantity) == rhs.missing.map(\.quantity)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(measurements)
        hasher.combine(notImplemented)
    }
}

/// Decodes a profile's fields from register words into exact values in the vocabulary's units.
///
/// Integers keep their full resolution (a register in 0.01 kWh becomes a multiple of 10 Wh);
/// floats are rounded half-to-even to ``CanonicalUnit/floatResolutionExponent``.
public enum ProfileDecoder {
    /// Decodes every field of `profile`. `base` is the address of a SunSpec model's data block
    /// (0 for device profiles, whose addresses are absolute).
    public static func decode(_ profile: DeviceProfile, image: RegisterImage, base: UInt16 = 0) -> DecodedFields {
        var result = DecodedFields()
        for field in profile.fields {
            switch decode(field, of: profile, image: image, base: base) {
            case .value(let value): result.measurements.append(Measurement(field.quantity, value))
            case .notImplemented: result.notImplemented.append(field.quantity)
            case .missing(let reason): result.missing.append((field.quantity, reason))
            }
        }
        return result
    }

    /// Decodes one field.
    public static func decode(_ field: DeviceProfile.Field, of profile: DeviceProfile, image: RegisterImage, base: UInt16 = 0) -> FieldOutcome {
        let span = field.location.span(count: field.registerCount, base: base)
        guard let words = image.words(span) else { return .missing("registers \(span) not read") }
        let pattern = RegisterCodec.bits(words, order: field.wordOrder)
        if field.notImplemented.contains(pattern) { return .notImplemented }

        var exponent = Int(field.scaleExponent) + Int(field.deviceUnit.canonical.exponent)
        if let name = field.scaleFactor, let factor = profile.scaleFactors.first(where: { $0.name == name }) {
            guard let sfWords = image.words(factor.location.span(count: 1, base: base)) else {
                return .missing("scale factor \(name) not read")
            }
            let raw = sfWords.first!
            if raw == 0x8000 { return .notImplemented }
            let sf = Int(Int16(bitPattern: raw))
            guard (-10...10).contains(sf) else { return .missing("scale factor \(name) = \(sf) is out of range") }
            exponent += sf
        }
        let unit = field.quantity.unit
        switch RegisterCodec.decode(words, as: field.type, order: field.wordOrder) {
        case .integer(var raw):
            if field.invert { raw = -raw }
            return integerValue(raw, exponent: exponent, unit: unit)
        case .unsignedInteger(let raw):
            return .missing("value \(raw) exceeds the signed 64-bit range")
        case .float(let float):
            guard !float.isNaN else { return .notImplemented }
            guard float.isFinite else { return .missing("value is infinite") }
            let signed = field.invert ? -Double(float) : Double(float)
            return floatValue(signed, exponent: exponent, unit: unit)
        }
    }

    static func integerValue(_ raw: Int64, exponent: Int, unit: CanonicalUnit) -> FieldOutcome {
        guard (-18...18).contains(exponent) else { return .missing("scale 10^\(exponent) is out of range") }
        var value = ScaledValue(raw, exponent: Int8(exponent))
        if value.exponent > unit.maximumExponent {
            guard let exact = value.exactly(atExponent: unit.maximumExponent) else {
                return .missing("value \(value) overflows")
            }
            value = exact
        }
        return .value(value)
    }

    static func floatValue(_ value: Double, exponent: Int, unit: CanonicalUnit) -> FieldOutcome {
        let resolution = Int(unit.floatResolutionExponent)
        let shifted = value * ScaledValue.doublePowerOfTen(exponent - resolution)
        guard shifted.magnitude < 9.0e18 else { return .missing("value \(value) is out of range") }
        let mantissa = Int64(shifted.rounded(.toNearestOrEven))
        return .value(ScaledValue(mantissa, exponent: Int8(resolution)))
    }

}
