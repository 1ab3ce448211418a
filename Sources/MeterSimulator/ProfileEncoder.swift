public import DeviceProfiles
public import GridLedgerCore
import ModbusCore

/// The inverse of ``ProfileDecoder``: the register words a device of `profile` would send for a
/// value. Used by the simulator; a round-trip test ties the two together.
public enum ProfileEncoder {
    /// Words for `value` (in the vocabulary's unit) in `field`'s encoding. Integer types round
    /// half-to-even to the register's resolution and clamp to the type's range.
    public static func encode(_ value: ScaledValue, for field: DeviceProfile.Field, scaleFactor: Int = 0) -> [UInt16] {
        let exponent = Int(field.scaleExponent) + Int(field.deviceUnit.canonical.exponent) + scaleFactor
        let signed = field.invert ? ScaledValue(-value.mantissa, exponent: value.exponent) : value
        switch field.type {
        case .float32:
            let double = signed.approximateDouble * ScaledValue.doublePowerOfTen(-exponent)
            return RegisterCodec.encode(float: Float(double), order: field.wordOrder)
        default:
            let raw = signed.rounded(toExponent: Int8(clamping: exponent))?.mantissa ?? 0
            return RegisterCodec.encode(integer: clamp(raw, to: field.type), as: field.type, order: field.wordOrder)
        }
    }

    static func clamp(_ value: Int64, to type: RegisterType) -> Int64 {
        switch type {
        case .int16, .sunssf: min(max(value, Int64(Int16.min)), Int64(Int16.max))
        case .uint16: min(max(value, 0), Int64(UInt16.max))
        case .int32: min(max(value, Int64(Int32.min)), Int64(Int32.max))
        case .uint32, .acc32: min(max(value, 0), Int64(UInt32.max))
        case .uint64: max(value, 0)
        case .int64, .float32, .string: value
        }
    }
}
