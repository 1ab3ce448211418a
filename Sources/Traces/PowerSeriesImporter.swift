/// Imports a power series at a fixed resolution (`timestamp,power_w`, one meter) and integrates
/// it into cumulative registers (docs/TRACES.md, "Power series").
///
/// Each row's power is the **average power over the step that starts at its timestamp**. Imports
/// accumulate max(P, 0)·Δt and exports max(−P, 0)·Δt exactly (in mW·ms, with the remainder below
/// one Wh carried, so the floored Wh registers never drift); the sample at a row's timestamp
/// holds the energy of all rows before it, plus the start registers. One more sample closes the
/// last step (its `powerW` is nil), so n rows give n + 1 samples.
///
/// ```swift
/// let csv = "timestamp,power_w\n2026-06-01T00:00:00Z,1000\n2026-06-01T00:15:00Z,-400.5\n"
/// let trace = try PowerSeriesImporter.parse(Array(csv.utf8), options: .init(meterID: "pv-1"))
/// trace.samples.map(\.importWh)  // [0, 250, 250]
/// trace.samples.map(\.exportWh)  // [0, 0, 100]
/// ```
public enum PowerSeriesImporter {
    public struct Options: Sendable, Hashable {
        /// The meter id every sample gets.
        public var meterID: String
        /// The step in milliseconds; nil: the difference of the first two rows' timestamps.
        public var stepMillis: Int64?
        /// Registers at the first timestamp, Wh.
        public var startImportWh: Int64
        public var startExportWh: Int64

        public init(meterID: String, stepMillis: Int64? = nil, startImportWh: Int64 = 0, startExportWh: Int64 = 0) {
            self.meterID = meterID
            self.stepMillis = stepMillis
            self.startImportWh = startImportWh
            self.startExportWh = startExportWh
        }
    }

    /// The largest power magnitude accepted, W (100 MW).
    public static let maximumPowerW: Int64 = 100_000_000
    /// The longest step accepted, ms (one day).
    public static let maximumStepMillis: Int64 = 86_400_000

    /// Reads and integrates a power series. Errors name the line and the column; a step that is
    /// not the expected one (gap, uneven spacing, time going back) is an error too. With
    /// `skipBad`, bad rows are left out and counted, and missing steps (a gap of whole steps, or
    /// the step of a left-out row) count as zero power: the registers stay flat over them.
    public static func parse(_ bytes: [UInt8], options: Options, skipBad: Bool = false, limits: TraceLimits = .trace) throws(TraceError) -> ParsedTrace {
        do throws(Refusal) {
            try MeterID.check(Array(options.meterID.utf8)[...])
        } catch {
            throw TraceError(field: "meter", reason: error.reason)
        }
        if let step = options.stepMillis, !(1...maximumStepMillis).contains(step) {
            throw TraceError(field: "step", reason: "\(step) ms: the step must be 1 ms … 1 day")
        }
        guard options.startImportWh >= 0, options.startExportWh >= 0 else {
            throw TraceError(field: "start registers", reason: "registers are never negative")
        }
        guard bytes.count <= limits.maximumBytes else {
            throw TraceError(reason: "the input is \(bytes.count) bytes, more than the limit of \(limits.maximumBytes) bytes")
        }
        var scanner = LineScanner(bytes, maximumLineBytes: limits.maximumLineBytes)
        var columns: (count: Int, timestamp: Int, power: Int)?
        while columns == nil, let line = scanner.next() {
            if line.isBlank || line.isComment { continue }
            columns = try header(line, limits: limits)
        }
        guard let columns else { throw TraceError(reason: "the input is empty: a power series starts with the header timestamp,power_w") }

        var skips = SkipLog()
        var samples: [TraceSample] = []
        var rows = 0
        var step = options.stepMillis
        var previous: (millis: Int64, milliwatts: Int64, line: Int)?
        var skippedSincePrevious = false
        var importEnergy = EnergyAccumulator(wh: options.startImportWh)
        var exportEnergy = EnergyAccumulator(wh: options.startExportWh)

        /// Adds one step of `milliwatts`.
        func integrate(_ milliwatts: Int64, over millis: Int64, line: Int) throws(TraceError) {
            do throws(Refusal) {
                if milliwatts > 0 { try importEnergy.add(milliwatts * millis) }
                if milliwatts < 0 { try exportEnergy.add(-milliwatts * millis) }
            } catch {
                throw TraceError(line: line, reason: error.reason)
            }
        }
        func emit(_ millis: Int64, powerW: Int64?) {
            samples.append(TraceSample(millis: millis, meterID: options.meterID, importWh: importEnergy.wh, exportWh: exportEnergy.wh, powerW: powerW))
        }

        while let line = scanner.next() {
            if line.isBlank || line.isComment { continue }
            rows += 1
            guard rows <= limits.maximumRows else { throw TraceError(line: line.number, reason: "more than \(limits.maximumRows) rows: split the file") }
            let n = line.number
            if step == nil, let first = previous, skippedSincePrevious {
                throw TraceError(line: n, field: "step", reason: "a row after line \(first.line), the first, was left out, so the step cannot be detected from the first two rows: give the step (e.g. --step 900)")
            }
            do throws(TraceError) {
                guard !line.isTooLong else { throw TraceError(line: n, reason: "the line is longer than \(limits.maximumLineBytes) bytes") }
                let fields = CSVFields.plain(line.bytes)
                guard fields.count == columns.count else {
                    throw TraceError(line: n, reason: "expected \(columns.count) fields (timestamp,power_w), found \(fields.count)")
                }
                let millis = try inField("timestamp", line: n) { () throws(Refusal) in try TraceTime.parse(fields[columns.timestamp], compactOffset: false) }
                let (milliwatts, watts) = try inField("power_w", line: n) { () throws(Refusal) in
                    let cell = fields[columns.power]
                    let value = try Numbers.decimal(cell, fractionDigits: 3, signed: true, excess: .round, unit: "W")
                    guard value.magnitude <= UInt64(maximumPowerW) * 1000 else {
                        throw Refusal("\(shown(cell)) is beyond ±\(maximumPowerW) W")
                    }
                    // Rounded from the text itself, not from the milliwatts (no double rounding).
                    return (value, try Numbers.decimal(cell, fractionDigits: 0, signed: true, excess: .round, unit: "W"))
                }
                guard let before = previous else {
                    previous = (millis, milliwatts, n)
                    emit(millis, powerW: watts)
                    skippedSincePrevious = false
                    continue
                }
                let delta = millis - before.millis
                guard let known = step else {
                    guard delta > 0, delta <= maximumStepMillis else {
                        throw TraceError(line: n, field: "timestamp", reason: "\(TraceTime.text(millis: millis)) is not 1 ms … 1 day after line \(before.line)'s \(TraceTime.text(millis: before.millis)), so it cannot set the step")
                    }
                    step = delta
                    try integrate(before.milliwatts, over: delta, line: n)
                    previous = (millis, milliwatts, n)
                    emit(millis, powerW: watts)
                    skippedSincePrevious = false
                    continue
                }
                if delta != known {
                    let expected = TraceTime.text(millis: before.millis + known)
                    let reason = "expected \(expected) (one step of \(durationText(known)) after line \(before.line)), found \(TraceTime.text(millis: millis))"
                    guard skipBad, delta > known, delta % known == 0 else {
                        throw TraceError(line: n, field: "timestamp", reason: reason + (delta > 0 && delta % known == 0 ? ": a gap of \(delta / known - 1) step(s)" : ""))
                    }
                    // A gap of whole steps: the missing steps count as zero power. Counted once:
                    // not again when it is the place of rows already left out.
                    if !skippedSincePrevious { skips.record(TraceError(line: n, field: "timestamp", reason: reason + ": \(delta / known - 1) missing step(s) counted as zero power")) }
                }
                try integrate(before.milliwatts, over: known, line: n)
                previous = (millis, milliwatts, n)
                emit(millis, powerW: watts)
                skippedSincePrevious = false
            } catch {
                guard skipBad else { throw error }
                skips.record(error)
                skippedSincePrevious = true
            }
        }
        if let last = previous {
            guard let known = step else {
                throw TraceError(line: last.line, field: "step", reason: "one row cannot tell the step: give the step (e.g. --step 900)")
            }
            try integrate(last.milliwatts, over: known, line: last.line)
            guard last.millis + known <= TraceTime.latestMillis else {
                throw TraceError(line: last.line, field: "timestamp", reason: "the last step ends after 9999-12-31")
            }
            emit(last.millis + known, powerW: nil)
        }
        return ParsedTrace(
            samples: samples, meters: samples.isEmpty ? [] : [options.meterID], rowsRead: rows, skipped: skips.count, skipReasons: skips.reasons,
            columns: samples.isEmpty ? .registers : TraceColumns(power: true))
    }

    static func header(_ line: CSVLine, limits: TraceLimits) throws(TraceError) -> (count: Int, timestamp: Int, power: Int) {
        func fail(_ reason: String) -> TraceError { TraceError(line: line.number, field: "header", reason: reason) }
        guard !line.isTooLong else { throw fail("the line is longer than \(limits.maximumLineBytes) bytes") }
        let names = CSVFields.plain(line.bytes).map { String(decoding: $0, as: UTF8.self) }
        for name in names where name != "timestamp" && name != "power_w" {
            throw fail("unknown column '\(name)': a power series has the columns timestamp,power_w (one meter, named by the meter option)")
        }
        guard Set(names).count == names.count else { throw fail("a column appears twice") }
        guard let timestamp = names.firstIndex(of: "timestamp") else { throw fail("missing column 'timestamp': the header is timestamp,power_w") }
        guard let power = names.firstIndex(of: "power_w") else { throw fail("missing column 'power_w': the header is timestamp,power_w") }
        return (names.count, timestamp, power)
    }

    static func durationText(_ millis: Int64) -> String {
        if millis % 60_000 == 0 { return "\(millis / 60_000) min" }
        if millis % 1000 == 0 { return "\(millis / 1000) s" }
        return "\(millis) ms"
    }
}

/// Energy in whole Wh plus the exact remainder in mW·ms (3 600 000 000 mW·ms = 1 Wh).
struct EnergyAccumulator {
    static let milliwattMillisPerWh: Int64 = 3_600_000_000
    private(set) var wh: Int64
    private var remainder: Int64 = 0

    init(wh: Int64) { self.wh = wh }

    /// Adds `milliwattMillis` (≥ 0, at most 8.64e18: 100 MW for a day).
    mutating func add(_ milliwattMillis: Int64) throws(Refusal) {
        let whole = milliwattMillis / Self.milliwattMillisPerWh
        remainder += milliwattMillis % Self.milliwattMillisPerWh
        let carry = remainder / Self.milliwattMillisPerWh
        remainder %= Self.milliwattMillisPerWh
        let (sum, overflow) = wh.addingReportingOverflow(whole + carry)
        guard !overflow, sum <= 999_999_999_999_999_999 else { throw Refusal("the register overflows") }
        wh = sum
    }
}
