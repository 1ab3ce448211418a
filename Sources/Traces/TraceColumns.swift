/// The optional columns of a trace: `power_w`, and the three `power_l1_w,power_l2_w,power_l3_w`.
/// `timestamp,meter,import_wh,export_wh` are always present.
public struct TraceColumns: Sendable, Hashable {
    /// `power_w`: instantaneous active power, W.
    public var power: Bool
    /// `power_l1_w,power_l2_w,power_l3_w`: active power per phase, W.
    public var phasePower: Bool

    public init(power: Bool = false, phasePower: Bool = false) {
        self.power = power
        self.phasePower = phasePower
    }

    /// The four register columns only.
    public static let registers = TraceColumns()

    /// The columns that hold every optional value of `samples`.
    public static func needed<S: Sequence>(by samples: S) -> TraceColumns where S.Element == TraceSample {
        var columns = TraceColumns()
        for sample in samples {
            if sample.powerW != nil { columns.power = true }
            if sample.phasePowerW != nil { columns.phasePower = true }
            if columns.power && columns.phasePower { break }
        }
        return columns
    }

    /// The header's column names in the writer's order.
    public var names: [String] {
        var names = TraceColumn.required.map(\.rawValue)
        if power { names.append(TraceColumn.powerW.rawValue) }
        if phasePower { names += TraceColumn.phases.map(\.rawValue) }
        return names
    }
}

/// Every column name the trace format knows.
enum TraceColumn: String, CaseIterable {
    case timestamp
    case meter
    case importWh = "import_wh"
    case exportWh = "export_wh"
    case powerW = "power_w"
    case powerL1 = "power_l1_w"
    case powerL2 = "power_l2_w"
    case powerL3 = "power_l3_w"

    static let required: [TraceColumn] = [.timestamp, .meter, .importWh, .exportWh]
    static let phases: [TraceColumn] = [.powerL1, .powerL2, .powerL3]
    static var knownList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
