public import GridLedgerCore

/// Produces a simulated meter's values at a point in time (milliseconds, UTC), in the
/// vocabulary's units. Later, recorded traces drive the simulator through this protocol.
public protocol ValueGenerator: Sendable {
    func values(atMillis: Int64) -> [Quantity: ScaledValue]
}

/// Fixed values: what tests and `--value` use, so a foreign client can check exact numbers.
public struct FixedValues: ValueGenerator {
    public var fixed: [Quantity: ScaledValue]

    public init(_ fixed: [Quantity: ScaledValue]) { self.fixed = fixed }

    public func values(atMillis: Int64) -> [Quantity: ScaledValue] { fixed }
}

/// A plausible three-phase household with rooftop PV: a daily load curve, a solar bell around
/// noon, mains voltage and frequency with small deterministic ripple. Energy counters are the
/// exact integral of the simulated power since `startMillis`, so they only ever increase and
/// import/export split as a real bidirectional meter's would.
public struct SyntheticHousehold: ValueGenerator {
    public var startMillis: Int64
    /// Counter values at `startMillis`, in Wh.
    public var initialImportWh: Int64
    public var initialExportWh: Int64
    public var baseLoadW: Double
    public var peakPVW: Double
    /// Varies the curve between simulated meters.
    public var seed: UInt64

    public init(startMillis: Int64, initialImportWh: Int64 = 1_000_000, initialExportWh: Int64 = 250_000, baseLoadW: Double = 400, peakPVW: Double = 4000, seed: UInt64 = 1) {
        self.startMillis = startMillis
        self.initialImportWh = initialImportWh
        self.initialExportWh = initialExportWh
        self.baseLoadW = baseLoadW
        self.peakPVW = peakPVW
        self.seed = seed
    }

    /// Net active power at `millis`: positive import, negative export (vocabulary convention).
    public func netPowerW(atMillis millis: Int64) -> Double {
        let dayFraction = Double(((millis % 86_400_000) + 86_400_000) % 86_400_000) / 86_400_000
        let phase = Double(seed % 97) / 97
        let load = baseLoadW * (1 + 0.6 * Self.sinApprox(2 * Double.pi * (dayFraction + phase)))
            + 1500 * max(0, Self.sinApprox(2 * Double.pi * (dayFraction - 0.75) * 3))  // evening peak
        let solar = max(0, Self.sinApprox(Double.pi * (dayFraction - 0.25) * 2))
        return load - peakPVW * solar * solar
    }

    public func values(atMillis millis: Int64) -> [Quantity: ScaledValue] {
        let (imported, exported) = integrate(to: millis)
        let power = netPowerW(atMillis: millis)
        let ripple = Self.sinApprox(Double(millis % 60_000) / 60_000 * 2 * Double.pi)
        let voltage = 230 + 2 * ripple
        let current = abs(power) / 3 / voltage
        var values: [Quantity: ScaledValue] = [
            .energyActiveImportTotal: ScaledValue(imported),
            .energyActiveExportTotal: ScaledValue(exported),
            .powerActiveTotal: Self.scaled(power, exponent: -1),
            .frequency: Self.scaled(50 + 0.02 * ripple, exponent: -2),
            .powerFactorTotal: ScaledValue(980, exponent: -3),
        ]
        let reactive = power * 0.2
        let apparent = (power * power + reactive * reactive).squareRoot()
        let phases: [(Quantity, Quantity, Quantity, Quantity, Quantity, Quantity, Quantity, Quantity)] = [
            (.voltageL1, .currentL1, .powerActiveL1, .powerReactiveL1, .powerApparentL1, .powerFactorL1, .energyActiveImportL1, .energyActiveExportL1),
            (.voltageL2, .currentL2, .powerActiveL2, .powerReactiveL2, .powerApparentL2, .powerFactorL2, .energyActiveImportL2, .energyActiveExportL2),
            (.voltageL3, .currentL3, .powerActiveL3, .powerReactiveL3, .powerApparentL3, .powerFactorL3, .energyActiveImportL3, .energyActiveExportL3),
        ]
        for (index, (v, i, p, q, s, pf, ei, ee)) in phases.enumerated() {
            values[v] = Self.scaled(voltage, exponent: -1)
            values[i] = Self.scaled(current, exponent: -3)
            values[p] = Self.scaled(power / 3, exponent: -1)
            values[q] = Self.scaled(reactive / 3, exponent: -1)
            values[s] = Self.scaled(apparent / 3, exponent: -1)
            values[pf] = ScaledValue(980, exponent: -3)
            // Per-phase counters split the totals evenly and add up to them: L1 = ⌈t/3⌉, L2 = ⌊(t+1)/3⌋,
            // L3 = ⌊t/3⌋. Each never decreases as the total grows (putting t mod 3 on L1 did: a
            // real meter's counters never do, and the aggregator refuses a record where one does).
            values[ei] = ScaledValue(Self.phaseShare(of: imported, phase: index))
            values[ee] = ScaledValue(Self.phaseShare(of: exported, phase: index))
        }
        values[.powerReactiveTotal] = Self.scaled(reactive, exponent: -1)
        values[.powerApparentTotal] = Self.scaled(apparent, exponent: -1)
        values[.energyReactiveImportTotal] = ScaledValue(imported / 5)
        values[.energyReactiveExportTotal] = ScaledValue(exported / 5)
        for line in [Quantity.voltageL1L2, .voltageL2L3, .voltageL3L1] {
            values[line] = Self.scaled(voltage * 1.7320508075688772, exponent: -1)
        }
        values[.currentN] = ScaledValue(0, exponent: -3)
        values[.dcPower] = Self.scaled(max(0, -power), exponent: -1)
        values[.dcVoltage] = Self.scaled(600, exponent: -1)
        values[.dcCurrent] = Self.scaled(max(0, -power) / 600, exponent: -3)
        values[.temperature] = Self.scaled(35 + 5 * ripple, exponent: -1)
        return values
    }

    /// Import and export counters at `millis`: the initial counters plus the integral of the
    /// positive and negative parts of net power, in whole Wh (one-minute steps, deterministic).
    func integrate(to millis: Int64) -> (Int64, Int64) {
        guard millis > startMillis else { return (initialImportWh, initialExportWh) }
        let step: Int64 = 60_000
        var importWh = 0.0, exportWh = 0.0
        var t = startMillis
        while t < millis {
            let dt = min(step, millis - t)
            let p = netPowerW(atMillis: t + dt / 2)
            let wh = p * Double(dt) / 3_600_000
            if wh > 0 { importWh += wh } else { exportWh -= wh }
            t += dt
        }
        return (initialImportWh + Int64(importWh), initialExportWh + Int64(exportWh))
    }

    static func scaled(_ value: Double, exponent: Int8) -> ScaledValue {
        ScaledValue(Int64((value * ScaledValue.doublePowerOfTen(-Int(exponent))).rounded()), exponent: exponent)
    }

    /// sin without Foundation, accurate to ~1e-6 — plenty for a simulated load curve.
    /// Phase `phase` (0, 1, 2)'s third of `total`: the three add up to `total` and each is
    /// non-decreasing in `total`.
    static func phaseShare(of total: Int64, phase: Int) -> Int64 {
        (total + Int64(2 - phase)) / 3
    }

    static func sinApprox(_ x: Double) -> Double {
        var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
        if r > Double.pi { r -= 2 * Double.pi } else if r < -Double.pi { r += 2 * Double.pi }
        var term = r, sum = r
        for n in 1...9 {
            term *= -r * r / Double((2 * n) * (2 * n + 1))
            sum += term
        }
        return sum
    }
}
