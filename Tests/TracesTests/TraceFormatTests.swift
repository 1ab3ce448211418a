import Testing
import Traces

/// 2026-06-01T00:00:00Z.
let june1: Int64 = 1_780_272_000_000
let quarterHour: Int64 = 900_000

/// The error `body` throws; fails the test when it throws none.
func refusal<T>(_ body: () throws(TraceError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> TraceError? {
    do {
        _ = try body()
        Issue.record("no error thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("Trace format")
struct TraceFormatTests {
    static let header = "timestamp,meter,import_wh,export_wh\n"

    @Test func writesAndReadsBackEverySample() throws {
        let samples = [
            TraceSample(millis: june1, meterID: "h1:grid", importWh: 1200, exportWh: 0, powerW: 420, phasePowerW: [100, 200, 120]),
            TraceSample(millis: june1, meterID: "h2:pv", importWh: 0, exportWh: 98_765_432_109, powerW: -3000),
            TraceSample(millis: june1 + 250, meterID: "h3", importWh: 7, exportWh: 7),
            TraceSample(millis: june1 + quarterHour, meterID: "h1:grid", importWh: 1300, exportWh: 5, powerW: nil, phasePowerW: [-1, 0, 1]),
            TraceSample(millis: june1 + quarterHour, meterID: "h2:pv", importWh: 0, exportWh: 98_765_432_109, powerW: 0),
        ]
        let text = try Trace.write(samples, comments: ["two houses", "second line\nthird line"])
        #expect(text.hasPrefix("# two houses\n# second line\n# third line\ntimestamp,meter,import_wh,export_wh,power_w,power_l1_w,power_l2_w,power_l3_w\n"))
        #expect(text.contains("\n2026-06-01T00:00:00.250Z,h3,7,7,,,,\n"))
        #expect(text.contains("\n2026-06-01T00:15:00Z,h1:grid,1300,5,,-1,0,1\n"))
        let trace = try Trace.parse(text)
        #expect(trace.samples == samples)
        #expect(trace.meters == ["h1:grid", "h2:pv", "h3"])
        #expect(trace.rowsRead == 5)
        #expect(trace.skipped == 0)
        #expect(trace.span == june1...(june1 + quarterHour))
        #expect(trace.columns == TraceColumns(power: true, phasePower: true))
        // And once more: the writer's output is a fixed point.
        #expect(try Trace.write(trace.samples, comments: ["two houses", "second line\nthird line"]) == text)
    }

    @Test func headerHoldsOnlyTheColumnsInUse() throws {
        let plain = try Trace.write([TraceSample(millis: 0, meterID: "m", importWh: 1, exportWh: 2)])
        #expect(plain == "timestamp,meter,import_wh,export_wh\n1970-01-01T00:00:00Z,m,1,2\n")
        let power = try Trace.write([TraceSample(millis: 0, meterID: "m", importWh: 1, exportWh: 2, powerW: -5)])
        #expect(power == "timestamp,meter,import_wh,export_wh,power_w\n1970-01-01T00:00:00Z,m,1,2,-5\n")
    }

    @Test func readsCommentsBlankLinesCRLFByteOrderMarkOffsetsAndAnyColumnOrder() throws {
        let text = "\u{FEFF}# exported by hand\r\n\r\nmeter,export_wh,timestamp,import_wh,power_w\r\nm1,0,2026-06-01T02:00:00+02:00,10,\r\n# a note\r\nm1,3,2026-06-01T00:15:00.5Z,12,-40\r\n"
        let trace = try Trace.parse(text)
        #expect(trace.samples == [
            TraceSample(millis: june1, meterID: "m1", importWh: 10, exportWh: 0),
            TraceSample(millis: june1 + quarterHour + 500, meterID: "m1", importWh: 12, exportWh: 3, powerW: -40),
        ])
        #expect(trace.rowsRead == 2)
    }

    @Test func equalTimesOfDifferentMetersAreFine() throws {
        let trace = try Trace.parse(Self.header + "2026-06-01T00:00:00Z,b,1,0\n2026-06-01T00:00:00Z,a,1,0\n2026-06-01T00:15:00Z,a,1,0\n")
        #expect(trace.meters == ["b", "a"])
        #expect(trace.samples.count == 3)
    }

    /// Each kind of bad row: its line, its field, and a reason that says what is wrong.
    @Test(arguments: [
        ("2026-06-01 00:15:00Z,m,1,0", nil as String?, "timestamp", "is not an RFC 3339 timestamp"),
        ("2026-02-29T00:00:00Z,m,1,0", nil, "timestamp", "is not a calendar date"),
        ("2026-06-01T00:15:00.1234Z,m,1,0", nil, "timestamp", "more precise than a millisecond"),
        ("1969-12-31T23:59:59Z,m,1,0", nil, "timestamp", "outside 1970"),
        ("2026-06-01T00:15:00Z,m,12a,0", nil, "import_wh", "'12a' is not a whole number of Wh"),
        ("2026-06-01T00:15:00Z,m,1,1.5", nil, "export_wh", "'1.5' is not a whole number of Wh"),
        ("2026-06-01T00:15:00Z,m,-1,0", nil, "import_wh", "negative"),
        ("2026-06-01T00:15:00Z,m,,0", nil, "import_wh", "empty"),
        ("2026-06-01T00:15:00Z,m,1234567890123456789,0", nil, "import_wh", "too large"),
        ("2026-06-01T00:15:00Z,m, 1,0", nil, "import_wh", "' 1' is not a whole number"),
        ("2026-06-01T00:15:00Z,house 1,1,0", nil, "meter", "characters other than"),
        ("2026-06-01T00:15:00Z,,1,0", nil, "meter", "empty"),
        ("2026-06-01T00:15:00Z,\(String(repeating: "x", count: 129)),1,0", nil, "meter", "longer than 128"),
        ("2026-06-01T00:15:00Z,m,1,0,5", nil, nil, "expected 4 fields"),
        ("2026-06-01T00:15:00Z,m,5,0", "2026-06-01T00:30:00Z,m,4,0", "import_wh", "4 Wh is less than 5 Wh on line 2 for meter 'm': registers never decrease"),
        ("2026-06-01T00:15:00Z,m,5,9", "2026-06-01T00:30:00Z,m,5,8", "export_wh", "8 Wh is less than 9 Wh on line 2"),
        ("2026-06-01T00:15:00Z,m,5,0", "2026-06-01T00:15:00Z,m,5,0", "timestamp", "meter 'm' already has a sample at 2026-06-01T00:15:00Z (line 2)"),
        ("2026-06-01T00:15:00Z,m,5,0", "2026-06-01T00:00:00Z,n,5,0", "timestamp", "is earlier than 2026-06-01T00:15:00Z on line 2: rows must be sorted by time"),
    ])
    func badRowNamesLineAndField(first: String, second: String?, field: String?, reason: String) throws {
        let text = Self.header + first + "\n" + (second.map { $0 + "\n" } ?? "")
        let badLine = second == nil ? 2 : 3
        let error = try #require(refusal { () throws(TraceError) in try Trace.parse(text) })
        #expect(error.line == badLine)
        #expect(error.field == field)
        #expect(error.reason.contains(reason), "\(error)")
        #expect(error.description.hasPrefix("line \(badLine): " + (field.map { $0 + ": " } ?? "")))
        // Skipped instead, the bad row is counted and the rest is read.
        let skipped = try Trace.parse(text + "2026-06-02T00:00:00Z,m,99,99\n", skipBad: true)
        #expect(skipped.skipped == 1)
        #expect(skipped.skipReasons == [error])
        #expect(skipped.samples.last == TraceSample(millis: june1 + 96 * quarterHour, meterID: "m", importWh: 99, exportWh: 99))
        #expect(skipped.rowsRead == (second == nil ? 2 : 3))
    }

    @Test func exactMessageOfANonIntegerRegister() {
        let error = refusal { () throws(TraceError) in try Trace.parse(Self.header + "\n".repeated(15) + "2026-06-01T00:15:00Z,m,12a,0\n") }
        #expect(error?.description == "line 17: import_wh: '12a' is not a whole number of Wh")
    }

    @Test func phasesAreAllOrNone() {
        let header = "timestamp,meter,import_wh,export_wh,power_l1_w,power_l2_w,power_l3_w\n"
        let error = refusal { () throws(TraceError) in try Trace.parse(header + "2026-06-01T00:15:00Z,m,1,0,5,,7\n") }
        #expect(error?.line == 2)
        #expect(error?.field == "power_l2_w")
        let badPower = refusal { () throws(TraceError) in try Trace.parse(header + "2026-06-01T00:15:00Z,m,1,0,5,6,7.5\n") }
        #expect(badPower?.field == "power_l3_w")
    }

    @Test(arguments: [
        ("timestamp,meter,import_wh,export_wh,voltage_v", "unknown column 'voltage_v'"),
        ("timestamp,meter,import_wh", "missing column 'export_wh'"),
        ("timestamp,meter,export_wh,import_wh,meter", "column 'meter' appears twice"),
        ("timestamp,meter,import_wh,export_wh,power_l1_w,power_l2_w", "missing column power_l3_w"),
        ("utc_timestamp,cet_cest_timestamp,DE_KN_residential4_grid_import", "--format opsd"),
        ("timestamp,power_w", "--format power-series"),
    ])
    func badHeaderIsFatalEvenWhenSkipping(header: String, reason: String) {
        let error = refusal { () throws(TraceError) in try Trace.parse("# comment\n" + header + "\n2026-06-01T00:00:00Z,m,1,0\n", skipBad: true) }
        #expect(error?.line == 2)
        #expect(error?.field == "header")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func emptyInputHasNoHeader() {
        for text in ["", "# only a comment\n", "\n\n"] {
            let error = refusal { () throws(TraceError) in try Trace.parse(text) }
            #expect(error?.line == nil)
            #expect(error?.reason.contains("no header line") == true)
        }
    }

    @Test func headerOnlyIsAnEmptyTrace() throws {
        let trace = try Trace.parse(Self.header)
        #expect(trace.samples.isEmpty && trace.meters.isEmpty && trace.span == nil && trace.rowsRead == 0)
    }

    @Test func tooLongLineIsABadRow() throws {
        let long = "2026-06-01T00:15:00Z,m,1,0" + String(repeating: "0", count: 1100)
        let text = Self.header + "2026-06-01T00:00:00Z,m,1,0\n" + long + "\n2026-06-01T00:30:00Z,m,2,0\n"
        let error = refusal { () throws(TraceError) in try Trace.parse(text) }
        #expect(error?.line == 3)
        #expect(error?.description == "line 3: the line is longer than 1024 bytes")
        let skipped = try Trace.parse(text, skipBad: true)
        #expect(skipped.skipped == 1 && skipped.samples.count == 2)
        // A too-long header ends the parse.
        let header = refusal { () throws(TraceError) in try Trace.parse(String(repeating: "x", count: 2000) + "\n", skipBad: true) }
        #expect(header?.line == 1 && header?.field == "header")
    }

    @Test func rowAndSizeLimitsEndTheParse() {
        let limits = TraceLimits(maximumBytes: 200, maximumRows: 2, maximumLineBytes: 100)
        let rows = Self.header + "2026-06-01T00:00:00Z,m,1,0\n2026-06-01T00:15:00Z,m,1,0\n2026-06-01T00:30:00Z,m,1,0\n"
        let tooMany = refusal { () throws(TraceError) in try Trace.parse(rows, skipBad: true, limits: limits) }
        #expect(tooMany?.line == 4)
        #expect(tooMany?.reason.contains("more than 2 rows") == true)
        let tooLarge = refusal { () throws(TraceError) in try Trace.parse(rows + String(repeating: "#\n", count: 60), limits: limits) }
        #expect(tooLarge?.line == nil)
        #expect(tooLarge?.reason.contains("more than the limit of 200 bytes") == true)
    }

    @Test func skipBadCountsEveryBadRowAndKeepsTheFirstReasons() throws {
        var text = Self.header + "2026-06-01T00:00:00Z,m,100,0\n"
        for minute in 1...12 { text += "2026-06-01T00:\(minute < 10 ? "0" : "")\(minute):00Z,m,\(minute),0\n" }  // all decrease
        text += "2026-06-01T01:00:00Z,m,101,0\n"
        let trace = try Trace.parse(text, skipBad: true)
        #expect(trace.skipped == 12)
        #expect(trace.skipReasons.count == TraceLimits.keptSkipReasons)
        #expect(trace.skipReasons.map(\.line) == Array(3...12))
        #expect(trace.samples.map(\.importWh) == [100, 101])
    }

    @Test func writerRefusesWhatTheReaderWouldRefuse() {
        let good = TraceSample(millis: june1, meterID: "m", importWh: 5, exportWh: 5)
        var later = good
        later.millis += quarterHour
        var decreasing = later
        decreasing.importWh = 4
        var badID = good
        badID.meterID = "a,b"
        var negative = good
        negative.exportWh = -1
        var twoPhases = good
        twoPhases.phasePowerW = [1, 2]
        var early = good
        early.millis = -1
        for (samples, index, field) in [
            ([good, good], 1, "timestamp"), ([good, decreasing], 1, "import_wh"),
            ([badID], 0, "meter"), ([good, negative], 1, "export_wh"), ([twoPhases], 0, "power_l1_w"), ([early], 0, "timestamp"),
            ([later, good], 1, "timestamp"),
        ] as [([TraceSample], Int, String)] {
            let error = refusal { () throws(TraceError) in try Trace.write(samples) }
            #expect(error?.sampleIndex == index, "\(samples)")
            #expect(error?.field == field, "\(String(describing: error))")
        }
        var writer = TraceWriter(columns: .registers)
        let powered = TraceSample(millis: 0, meterID: "m", importWh: 0, exportWh: 0, powerW: 1)
        #expect(refusal { () throws(TraceError) in try writer.append(powered) }?.field == "power_w")
        #expect(writer.count == 0)
    }

    @Test func summariesPerMeter() throws {
        let trace = try Trace.parse(Self.header + """
            2026-06-01T00:00:00Z,a,1000,0
            2026-06-01T00:00:00Z,b,5,7
            2026-06-01T00:15:00Z,a,1500,20
            2026-06-01T00:30:00Z,a,2750,20

            """)
        let summaries = trace.meterSummaries()
        #expect(summaries.map(\.meterID) == ["a", "b"])
        #expect(summaries.map(\.samples) == [3, 1])
        #expect(summaries[0].importedWh == 1750 && summaries[0].exportedWh == 20)
        #expect(summaries[0].first.millis == june1 && summaries[0].last.millis == june1 + 2 * quarterHour)
        #expect(summaries[1].importedWh == 0)
    }
}

extension String {
    func repeated(_ count: Int) -> String { String(repeating: self, count: count) }
}
