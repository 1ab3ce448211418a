public import GridLedgerCore
public import Traces

/// Drives a simulated meter from one meter's recorded trace, so that a replay reads, through
/// Modbus, the registers the real meter had. Between two samples the registers are interpolated
/// and floored like the settlement's boundary rule (docs/CONTRACTS.md), so they never decrease and
/// a reading at a sample's instant gives exactly its recorded registers; before the first sample
/// they stand at the first one's, after the last at the last one's.
///
/// Power is the sample's recorded power where the trace has it, else the average over the
/// segment (the register slope); voltage, frequency and power factor are nominal.
public struct TracePlayback: ValueGenerator {
    /// The meter's samples in time order (one meter; times strictly increasing).
    public let samples: [TraceSample]

    /// `samples` of one meter in strictly increasing time; `nil` when empty or out of order.
    public init?(samples: [TraceSample]) {
        guard let first = samples.first, samples.allSatisfy({ $0.meterID == first.meterID }),
              zip(samples, samples.dropFirst()).allSatisfy({ $0.millis < $1.millis })
        else { return nil }
        self.samples = samples
    }

    /// The registers (Wh) and net power (W) at `millis`.
    public func state(atMillis millis: Int64) -> (importWh: Int64, exportWh: Int64, powerW: Int64) {
        guard let next = firstIndex(after: millis) else {
            let last = samples[samples.count - 1]
            return (last.importWh, last.exportWh, last.powerW ?? 0)
        }
        guard next > 0 else { return (samples[0].importWh, samples[0].exportWh, samples[0].powerW ?? 0) }
        let from = samples[next - 1]
        let to = samples[next]
        let span = to.millis - from.millis
        let offset = millis - from.millis
        let importWh = from.importWh + Self.floorFraction(to.importWh - from.importWh, offset, span)
        let exportWh = from.exportWh + Self.floorFraction(to.exportWh - from.exportWh, offset, span)
        let slope = Int64((Int128((to.importWh - from.importWh) - (to.exportWh - from.exportWh)) * 3_600_000) / Int128(span))
        return (importWh, exportWh, offset == 0 ? (from.powerW ?? slope) : (to.powerW ?? slope))
    }

    public func values(atMillis millis: Int64) -> [Quantity: ScaledValue] {
        let (imported, exported, power) = state(atMillis: millis)
        var values: [Quantity: ScaledValue] = [
            .energyActiveImportTotal: ScaledValue(imported),
            .energyActiveExportTotal: ScaledValue(exported),
            .powerActiveTotal: ScaledValue(power),
            .frequency: ScaledValue(5000, exponent: -2),
            .powerFactorTotal: ScaledValue(1000, exponent: -3),
        ]
        let phases: [(Quantity, Quantity, Quantity, Quantity, Quantity)] = [
            (.voltageL1, .currentL1, .powerActiveL1, .energyActiveImportL1, .energyActiveExportL1),
            (.voltageL2, .currentL2, .powerActiveL2, .energyActiveImportL2, .energyActiveExportL2),
            (.voltageL3, .currentL3, .powerActiveL3, .energyActiveImportL3, .energyActiveExportL3),
        ]
        let phasePower = phasePowers(atMillis: millis) ?? [power / 3, power / 3, power - 2 * (power / 3)]
        for (index, (voltage, current, activePower, importL, exportL)) in phases.enumerated() {
            values[voltage] = ScaledValue(2300, exponent: -1)
            // |P| / 230 V in mA.
            values[current] = ScaledValue(abs(phasePower[index]) * 1000 / 230, exponent: -3)
            values[activePower] = ScaledValue(phasePower[index])
            values[importL] = ScaledValue(SyntheticHousehold.phaseShare(of: imported, phase: index))
            values[exportL] = ScaledValue(SyntheticHousehold.phaseShare(of: exported, phase: index))
        }
        return values
    }

    /// The recorded per-phase power of the segment `millis` falls in, when the trace has it.
    private func phasePowers(atMillis millis: Int64) -> [Int64]? {
        let index = firstIndex(after: millis) ?? samples.count - 1
        guard let phases = samples[index].phasePowerW, phases.count == 3 else { return nil }
        return phases
    }

    /// The first sample strictly after `millis`, or `nil` (binary search).
    private func firstIndex(after millis: Int64) -> Int? {
        var low = 0
        var high = samples.count
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].millis <= millis { low = middle + 1 } else { high = middle }
        }
        return low < samples.count ? low : nil
    }

    /// ⌊delta · offset / span⌋ without overflow.
    static func floorFraction(_ delta: Int64, _ offset: Int64, _ span: Int64) -> Int64 {
        let product = Int128(delta) * Int128(offset)
        var quotient = product / Int128(span)
        if product % Int128(span) != 0 && product < 0 { quotient -= 1 }
        return Int64(quotient)
    }
}
