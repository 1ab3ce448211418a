import Testing
import Traces

@Suite("Power series import")
struct PowerSeriesTests {
    static func parse(_ rows: [String], meter: String = "pv-1", step: Int64? = nil, startImportWh: Int64 = 0, skipBad: Bool = false) throws(TraceError) -> ParsedTrace {
        let text = "timestamp,power_w\n" + rows.map { $0 + "\n" }.joined()
        return try PowerSeriesImporter.parse(Array(text.utf8), options: .init(meterID: meter, stepMillis: step, startImportWh: startImportWh), skipBad: skipBad)
    }

    /// Rows every `stepMinutes` from 2026-06-01T00:00Z with these powers.
    static func rows(_ powers: [String], stepMinutes: Int64 = 15) -> [String] {
        powers.enumerated().map { index, power in "\(TraceTime.text(millis: june1 + Int64(index) * stepMinutes * 60_000)),\(power)" }
    }

    @Test func oneKilowattForAQuarterHourIs250Wh() throws {
        let trace = try Self.parse(Self.rows(["1000", "1000"]))
        #expect(trace.samples == [
            TraceSample(millis: june1, meterID: "pv-1", importWh: 0, exportWh: 0, powerW: 1000),
            TraceSample(millis: june1 + quarterHour, meterID: "pv-1", importWh: 250, exportWh: 0, powerW: 1000),
            // The closing sample ends the last row's step.
            TraceSample(millis: june1 + 2 * quarterHour, meterID: "pv-1", importWh: 500, exportWh: 0, powerW: nil),
        ])
        #expect(trace.meters == ["pv-1"])
        #expect(trace.rowsRead == 2)
        #expect(trace.columns == TraceColumns(power: true))
    }

    @Test func alternatingImportAndExport() throws {
        let trace = try Self.parse(Self.rows(["1000", "-1000", "1000", "-1000"]))
        #expect(trace.samples.map(\.importWh) == [0, 250, 250, 500, 500])
        #expect(trace.samples.map(\.exportWh) == [0, 0, 250, 250, 500])
        #expect(trace.samples.map(\.powerW) == [1000, -1000, 1000, -1000, nil])
    }

    @Test func fractionalWattsAreExactAndFloorsNeverDrift() throws {
        // 1234.5 W for 15 min = 308.625 Wh per step.
        let trace = try Self.parse(Self.rows(["1234.5", "1234.5", "1234.5", "1234.5"]))
        #expect(trace.samples.map(\.importWh) == [0, 308, 617, 925, 1234])
        #expect(trace.samples.map(\.powerW) == [1235, 1235, 1235, 1235, nil])
        // 3.6 W for 1 s = 0.001 Wh: a thousand steps make exactly 1 Wh, no more, no less.
        let tiny = try Self.parse((0..<1000).map { "\(TraceTime.text(millis: june1 + Int64($0) * 1000)),-3.6" })
        #expect(tiny.samples.last?.exportWh == 1)
        #expect(tiny.samples.dropLast().allSatisfy { $0.exportWh == 0 })
        #expect(tiny.samples.allSatisfy { $0.importWh == 0 })
        // 1 mW for an hour, a thousand times.
        let milli = try Self.parse((0..<1000).map { "\(TraceTime.text(millis: june1 + Int64($0) * 3_600_000)),0.001" })
        #expect(milli.samples.last?.importWh == 1)
        #expect(milli.samples[999].importWh == 0)
    }

    @Test func startRegistersAndGivenStep() throws {
        let trace = try Self.parse(["2026-06-01T00:00:00Z,400"], step: 3_600_000, startImportWh: 5000)
        #expect(trace.samples.map(\.importWh) == [5000, 5400])
        #expect(trace.samples.map(\.millis) == [june1, june1 + 3_600_000])
        let single = refusal { () throws(TraceError) in try Self.parse(["2026-06-01T00:00:00Z,400"]) }
        #expect(single?.line == 2 && single?.field == "step")
        let mismatch = refusal { () throws(TraceError) in try Self.parse(Self.rows(["1", "1"]), step: 600_000) }
        #expect(mismatch?.line == 3)
        #expect(mismatch?.reason.contains("expected 2026-06-01T00:10:00Z (one step of 10 min after line 2)") == true)
    }

    @Test func powerRoundsToWattsHalfAwayFromZeroButEnergyUsesMilliwatts() throws {
        let trace = try Self.parse(Self.rows(["-2.5", "1.4999", "0.0005", "2.5"], stepMinutes: 60))
        #expect(trace.samples.map(\.powerW) == [-3, 1, 0, 3, nil])
        // 1.4999 W rounds to 1.500 W of energy accounting: 1.5 Wh in the hour.
        #expect(trace.samples.map(\.importWh) == [0, 0, 1, 1, 4])
        #expect(trace.samples.map(\.exportWh) == [0, 2, 2, 2, 2])
    }

    @Test(arguments: [
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,1", "2026-06-01T00:35:00Z,1"], 4, "timestamp", "expected 2026-06-01T00:30:00Z (one step of 15 min after line 3), found 2026-06-01T00:35:00Z"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,1", "2026-06-01T00:45:00Z,1"], 4, "timestamp", "a gap of 1 step(s)"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,1", "2026-06-01T00:15:00Z,1"], 4, "timestamp", "expected 2026-06-01T00:30:00Z"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:00:00Z,1"], 3, "timestamp", "cannot set the step"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,12a"], 3, "power_w", "'12a' is not a decimal number of W"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,1e3"], 3, "power_w", "exponents are not accepted"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,"], 3, "power_w", "is not a decimal number"),
        (["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,100000000.001"], 3, "power_w", "beyond ±100000000 W"),
        (["2026-06-01T00:00:00Z,1", "yesterday,1"], 3, "timestamp", "is not an RFC 3339 timestamp"),
        (["2026-06-01T00:00:00Z,1,2"], 2, nil, "expected 2 fields"),
    ] as [([String], Int, String?, String)])
    func badRowNamesLineAndField(rows: [String], line: Int, field: String?, reason: String) {
        let error = refusal { () throws(TraceError) in try Self.parse(rows) }
        #expect(error?.line == line)
        #expect(error?.field == field)
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func skipBadBridgesGapsAndBadRowsWithZeroPower() throws {
        let rows = Self.rows(["1000", "1000", "bad", "1000"]) + ["2026-06-01T01:30:00Z,1000", "2026-06-01T01:40:00Z,5", "2026-06-01T01:45:00Z,1000"]
        let trace = try Self.parse(rows, skipBad: true)
        // 00:00 and 00:15 integrate; 00:30 is bad (its step counts as zero); 00:45; 01:00 and
        // 01:15 are missing (zero); 01:30; 01:40 is off the grid (left out); 01:45; closing 02:00.
        #expect(trace.samples.map { TraceTime.text(millis: $0.millis) } == [
            "2026-06-01T00:00:00Z", "2026-06-01T00:15:00Z", "2026-06-01T00:45:00Z", "2026-06-01T01:30:00Z", "2026-06-01T01:45:00Z", "2026-06-01T02:00:00Z",
        ])
        #expect(trace.samples.map(\.importWh) == [0, 250, 500, 750, 1000, 1250])
        #expect(trace.skipped == 3)
        #expect(trace.skipReasons.map(\.line) == [4, 6, 7])
        #expect(trace.skipReasons.map(\.field) == ["power_w", "timestamp", "timestamp"])
        #expect(trace.skipReasons[1].reason.contains("2 missing step(s) counted as zero power"))
        // A bad second row hides the step: an error even when skipping.
        let hidden = refusal { () throws(TraceError) in try Self.parse(["2026-06-01T00:00:00Z,1", "2026-06-01T00:15:00Z,x", "2026-06-01T00:30:00Z,1"], skipBad: true) }
        #expect(hidden?.line == 4 && hidden?.field == "step")
    }

    @Test func headerAndOptions() {
        for (header, reason) in [("timestamp,meter,power_w", "unknown column 'meter'"), ("timestamp", "missing column 'power_w'"), ("power_w,power_w", "twice")] {
            let error = refusal { () throws(TraceError) in try PowerSeriesImporter.parse(Array((header + "\n").utf8), options: .init(meterID: "m")) }
            #expect(error?.line == 1 && error?.field == "header" && error?.reason.contains(reason) == true, "\(String(describing: error))")
        }
        let badMeter = refusal { () throws(TraceError) in try Self.parse(Self.rows(["1", "1"]), meter: "my meter") }
        #expect(badMeter?.field == "meter" && badMeter?.line == nil)
        let badStep = refusal { () throws(TraceError) in try Self.parse(Self.rows(["1", "1"]), step: 0) }
        #expect(badStep?.field == "step")
    }

    @Test func importedSeriesIsAValidTrace() throws {
        let trace = try Self.parse(Self.rows(["250.25", "-80", "0", "1999.999"]))
        let text = try Trace.write(trace.samples)
        #expect(text.hasPrefix("timestamp,meter,import_wh,export_wh,power_w\n2026-06-01T00:00:00Z,pv-1,0,0,250\n"))
        #expect(text.hasSuffix("2026-06-01T01:00:00Z,pv-1,562,20,\n"))
        #expect(try Trace.parse(text).samples == trace.samples)
    }
}
