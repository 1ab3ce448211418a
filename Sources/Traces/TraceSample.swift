/// One row of a meter trace: a meter's cumulative energy registers at an instant, as a meter
/// would report them (docs/TRACES.md). Registers are whole Wh and never decrease per meter.
public struct TraceSample: Sendable, Hashable {
    /// UTC, milliseconds since 1970.
    public var millis: Int64
    /// The meter's id in the trace (becomes a simulated meter in a replay).
    public var meterID: String
    /// Cumulative active energy imported (OBIS 1.8.0), Wh.
    public var importWh: Int64
    /// Cumulative active energy exported (OBIS 2.8.0), Wh.
    public var exportWh: Int64
    /// Instantaneous active power, W, positive when importing; nil when the trace has none.
    public var powerW: Int64?
    /// Per-phase active power L1, L2, L3, W; nil when the trace has none.
    public var phasePowerW: [Int64]?

    public init(millis: Int64, meterID: String, importWh: Int64, exportWh: Int64, powerW: Int64? = nil, phasePowerW: [Int64]? = nil) {
        self.millis = millis
        self.meterID = meterID
        self.importWh = importWh
        self.exportWh = exportWh
        self.powerW = powerW
        self.phasePowerW = phasePowerW
    }
}
