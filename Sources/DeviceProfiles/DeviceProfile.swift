public import GridLedgerCore
public import ModbusCore

/// A validated device profile: one meter or inverter model, or one SunSpec information model.
///
/// Built only by ``ProfileLoader``, which checks every field, so code holding a `DeviceProfile`
/// can rely on its invariants (known quantities, compatible units, no overlapping registers).
public struct DeviceProfile: Sendable, Hashable, Identifiable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case meter
        case inverter
        /// A SunSpec information model; its fields are offsets inside the model's data block.
        case sunspecModel = "sunspec-model"
    }

    /// A document a profile's registers come from.
    public struct Source: Sendable, Hashable, Codable {
        public var title: String
        public var url: String?
        public var note: String?
    }

    /// Limits of the device's Modbus implementation that the block planner must respect.
    public struct Limits: Sendable, Hashable {
        public var maxRegistersPerRead: Int
        public var gapLimit: Int
        public var unreadable: [RegisterSpan]

        public init(maxRegistersPerRead: Int = modbusMaxRegistersPerRead, gapLimit: Int = 10, unreadable: [RegisterSpan] = []) {
            self.maxRegistersPerRead = maxRegistersPerRead
            self.gapLimit = gapLimit
            self.unreadable = unreadable
        }
    }

    /// A register reference for identification.
    public struct RegisterReference: Sendable, Hashable {
        public var function: RegisterFunction
        public var address: UInt16
        public var type: RegisterType
        public var wordOrder: WordOrder
        /// Registers read (strings have their own length).
        public var count: Int

        public var span: RegisterSpan { RegisterSpan(function, address: address, count: UInt16(count)) }
    }

    /// A condition `scan` checks to recognise the model: the register holds one of `values`.
    public struct MatchRule: Sendable, Hashable {
        public var register: RegisterReference
        public var oneOf: [Int64]
    }

    public struct Identification: Sendable, Hashable {
        public var serialNumber: RegisterReference?
        public var match: [MatchRule]
    }

    /// Where a register is: an absolute address, or an offset inside a SunSpec model block.
    public struct Location: Sendable, Hashable {
        public var function: RegisterFunction
        /// Absolute address (devices) or offset from the model's data block (SunSpec models).
        public var address: UInt16

        public func span(count: Int, base: UInt16) -> RegisterSpan {
            RegisterSpan(function, address: base &+ address, count: UInt16(count))
        }
    }

    /// A named scale-factor register (`sunssf`): a signed power-of-ten exponent.
    public struct ScaleFactor: Sendable, Hashable {
        public var name: String
        public var location: Location
    }

    public struct SunSpecModel: Sendable, Hashable {
        public var id: UInt16
        public var length: UInt16
    }

    /// A named string point (identification strings of SunSpec model 1).
    public struct StringPoint: Sendable, Hashable {
        public var name: String
        public var location: Location
        public var length: Int
    }

    /// One measured quantity and how to decode it.
    public struct Field: Sendable, Hashable {
        public var quantity: Quantity
        public var location: Location
        public var type: RegisterType
        public var wordOrder: WordOrder
        public var deviceUnit: DeviceUnit
        /// Power-of-ten exponent of the profile's `scale` (0.01 → -2).
        public var scaleExponent: Int8
        /// Name of a ``ScaleFactor`` whose register value is added to the exponent.
        public var scaleFactor: String?
        public var invert: Bool
        /// Raw bit patterns that mean "not implemented".
        public var notImplemented: [UInt64]

        public var registerCount: Int { type.registerCount ?? 1 }
    }

    public var id: String
    public var manufacturer: String
    public var model: String
    public var kind: Kind
    public var description: String?
    public var sources: [Source]
    public var limits: Limits
    public var identification: Identification?
    public var scaleFactors: [ScaleFactor]
    /// For SunSpec models: the model id and its fixed length (`L` of the model header).
    public var sunspec: SunSpecModel?
    public var points: [StringPoint]
    public var fields: [Field]

    /// The register spans decoding needs: every field and every scale factor a field uses.
    /// For SunSpec models, spans are relative to `base` (the model's data block).
    public func requiredSpans(base: UInt16 = 0) -> [RegisterSpan] {
        var spans = fields.map { $0.location.span(count: $0.registerCount, base: base) }
        let usedFactors = Set(fields.compactMap(\.scaleFactor))
        spans += scaleFactors.filter { usedFactors.contains($0.name) }.map { $0.location.span(count: 1, base: base) }
        return spans
    }
}
