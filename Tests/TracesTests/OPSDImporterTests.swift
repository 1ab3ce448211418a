import Foundation
import Testing
import Traces

@Suite("Open Power System Data import")
struct OPSDImporterTests {
    /// Two houses; house 2 has no grid export column. Line 3 has a grid import without export,
    /// line 4 names interpolated cells.
    static let sample = """
        utc_timestamp,cet_cest_timestamp,DE_KN_residential1_grid_import,DE_KN_residential1_grid_export,DE_KN_residential1_pv,DE_KN_residential1_heat_pump,DE_KN_residential2_grid_import,DE_KN_residential2_dishwasher,interpolated_values\r
        2015-10-04T01:00:00Z,2015-10-04T03:00:00+0200,0.077,0.000,,1.5,10.000,0.0,\r
        2015-10-04T02:00:00Z,2015-10-04T04:00:00+0200,0.100,,0.010,1.520,10.5,0.3,DE_KN_residential1_pv\r
        2015-10-04T03:00:00Z,2015-10-04T05:00:00+0200,0.150,0.020,0.020,,,0.3,"DE_KN_residential1_grid_import | DE_KN_residential2_dishwasher"\r

        """
    /// 2015-10-04T01:00:00Z.
    static let start: Int64 = 1_443_920_400_000
    static let hour: Int64 = 3_600_000

    static func parse(_ text: String, options: OPSDHouseholdImporter.Options = .init(), skipBad: Bool = false) throws(TraceError) -> ParsedTrace {
        try OPSDHouseholdImporter.parse(Array(text.utf8), options: options, skipBad: skipBad)
    }

    @Test func mapsHousesAndDevicesToMetersInWh() throws {
        let trace = try Self.parse(Self.sample)
        func s(_ hours: Int64, _ meter: String, _ importWh: Int64, _ exportWh: Int64) -> TraceSample {
            TraceSample(millis: Self.start + hours * Self.hour, meterID: meter, importWh: importWh, exportWh: exportWh)
        }
        let r1 = "DE_KN_residential1", r2 = "DE_KN_residential2"
        #expect(trace.samples == [
            s(0, "\(r1):grid", 77, 0), s(0, "\(r1):heat_pump", 1500, 0), s(0, "\(r2):grid", 10_000, 0), s(0, "\(r2):dishwasher", 0, 0),
            s(1, "\(r1):pv", 0, 10), s(1, "\(r1):heat_pump", 1520, 0), s(1, "\(r2):grid", 10_500, 0), s(1, "\(r2):dishwasher", 300, 0),
            s(2, "\(r1):grid", 150, 20), s(2, "\(r1):pv", 0, 20), s(2, "\(r2):dishwasher", 300, 0),
        ])
        #expect(trace.meters == ["\(r1):grid", "\(r1):heat_pump", "\(r2):grid", "\(r2):dishwasher", "\(r1):pv"])
        #expect(trace.rowsRead == 3)
        // The grid reading of line 3 (import without export) is always left out, and counted.
        #expect(trace.skipped == 1)
        #expect(trace.skipReasons.first?.line == 3)
        #expect(trace.skipReasons.first?.field == "DE_KN_residential1_grid_export")
        // The result is a valid trace.
        #expect(try Trace.parse(Trace.write(trace.samples)).samples == trace.samples)
    }

    @Test func dropsInterpolatedCellsOnRequest() throws {
        let trace = try Self.parse(Self.sample, options: .init(dropInterpolated: true))
        #expect(trace.samples.count == 8)
        #expect(!trace.samples.contains { $0.meterID.hasSuffix(":pv") && $0.exportWh == 10 })
        #expect(trace.skipped == 2)
        #expect(trace.skipReasons.last?.line == 4)
        #expect(trace.skipReasons.last?.reason.contains("interpolated (dropped)") == true)
    }

    @Test func selectsHousesAndDevices() throws {
        let grids = try Self.parse(Self.sample, options: .init(devices: ["grid"]))
        #expect(grids.meters == ["DE_KN_residential1:grid", "DE_KN_residential2:grid"])
        let house2 = try Self.parse(Self.sample, options: .init(houses: ["DE_KN_residential2"], devices: ["grid", "dishwasher"]))
        #expect(house2.meters == ["DE_KN_residential2:grid", "DE_KN_residential2:dishwasher"])
        #expect(house2.skipped == 0)
        let noHouse = refusal { () throws(TraceError) in try Self.parse(Self.sample, options: .init(houses: ["DE_KN_residential9"])) }
        #expect(noHouse?.field == "house" && noHouse?.line == nil)
        #expect(noHouse?.reason.contains("DE_KN_residential1, DE_KN_residential2") == true)
        let noDevice = refusal { () throws(TraceError) in try Self.parse(Self.sample, options: .init(houses: ["DE_KN_residential2"], devices: ["pv"])) }
        #expect(noDevice?.field == "device")
        #expect(noDevice?.reason.contains("dishwasher, grid") == true)
    }

    @Test(arguments: [("0.077", Int64(77)), ("6321.393", 6_321_393), ("0", 0), ("12", 12_000), ("0.5", 500), ("1.25", 1250), ("9563.0980", 9_563_098)])
    func kWhTextBecomesExactWh(text: String, wh: Int64) throws {
        let trace = try Self.parse("utc_timestamp,DE_KN_residential1_pv\n2015-10-04T01:00:00Z,\(text)\n")
        #expect(trace.samples == [TraceSample(millis: Self.start, meterID: "DE_KN_residential1:pv", importWh: 0, exportWh: wh)])
    }

    /// Each bad row: line, column, reason; with skipBad the row (or the one reading) is left out.
    @Test(arguments: [
        ("2015-10-04T02:00:00Z,2015-10-04T04:00:00+0200,1.4,0.3", "DE_KN_residential1_heat_pump", "1.400 kWh is less than 1.500 kWh on line 2: registers never decrease", 1),
        ("2015-10-04T02:00:00Z,2015-10-04T04:00:00+0200,1.2345,0.3", "DE_KN_residential1_heat_pump", "'1.2345' is not a whole number of Wh (more than 3 decimals)", 1),
        ("2015-10-04T02:00:00Z,2015-10-04T04:00:00+0200,12a,0.3", "DE_KN_residential1_heat_pump", "'12a' is not a decimal number of kWh", 1),
        ("2015-10-04T02:00:00Z,2015-10-04T04:00:00+0200,1.6,-0.3", "DE_KN_residential1_pv", "negative", 1),
        ("2015-10-04T02:00:00Z,2015-10-04T05:00:00+0200,1.6,0.3", "cet_cest_timestamp", "is not the same instant as utc_timestamp 2015-10-04T02:00:00Z", 0),
        ("2015-10-04T01:00:00Z,2015-10-04T03:00:00+0200,1.6,0.3", "utc_timestamp", "is not after 2015-10-04T01:00:00Z on line 2", 0),
        ("2015-10-04 02:00,,1.6,0.3", "utc_timestamp", "is not an RFC 3339 timestamp", 0),
        ("2015-10-04T02:00:00Z,2015-10-04T04:00:00+0200,1.6", nil, "expected 4 fields as in the header, found 3", 0),
    ] as [(String, String?, String, Int)])
    func badRowNamesLineAndColumn(row: String, field: String?, reason: String, keptOfRow: Int) throws {
        let text = "utc_timestamp,cet_cest_timestamp,DE_KN_residential1_heat_pump,DE_KN_residential1_pv\n"
            + "2015-10-04T01:00:00Z,2015-10-04T03:00:00+0200,1.5,0.2\n" + row + "\n"
            + "2015-10-04T03:00:00Z,2015-10-04T05:00:00+0200,1.7,0.4\n"
        let error = try #require(refusal { () throws(TraceError) in try Self.parse(text) })
        #expect(error.line == 3)
        #expect(error.field == field)
        #expect(error.reason.contains(reason), "\(error)")
        let skipped = try Self.parse(text, skipBad: true)
        #expect(skipped.skipped == 1)
        #expect(skipped.skipReasons == [error])
        // The other reading of the row is kept when only one was bad, and the next row is read.
        #expect(skipped.samples.count == 2 + keptOfRow + 2)
        #expect(skipped.samples.suffix(2).map(\.millis) == [Self.start + 2 * Self.hour, Self.start + 2 * Self.hour])
    }

    @Test(arguments: [
        ("cet_cest_timestamp,DE_KN_residential1_pv", "no utc_timestamp column"),
        ("timestamp,meter,import_wh,export_wh", "looks like a trace already"),
        ("utc_timestamp,price_eur", "unknown column 'price_eur'"),
        ("utc_timestamp,DE_KN_residential1_pv,DE_KN_residential1_pv", "appears twice"),
        ("utc_timestamp,interpolated_values", "no device columns"),
        ("utc_timestamp,DE_KN_house 1_pv", "cannot name a meter"),
    ])
    func badHeader(header: String, reason: String) {
        let error = refusal { () throws(TraceError) in try Self.parse(header + "\n2015-10-04T01:00:00Z,1\n", skipBad: true) }
        #expect(error?.line == 1)
        #expect(error?.field == "header")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    static let realFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/traces/opsd-residential4-60min.csv").standardizedFileURL.path

    /// The recorded house (docs in shared/traces/README.md); skipped when the file is absent.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: realFile), "needs ../shared/traces/opsd-residential4-60min.csv"))
    func realHouseholdFile() throws {
        let bytes = try #require(FileManager.default.contents(atPath: Self.realFile))
        let trace = try OPSDHouseholdImporter.parse(Array(bytes))
        #expect(trace.rowsRead == 11_867)
        #expect(trace.skipped == 0)
        let house = "DE_KN_residential4"
        #expect(Set(trace.meters) == Set(["grid", "pv", "heat_pump", "ev", "dishwasher", "freezer", "refrigerator", "washing_machine"].map { "\(house):\($0)" }))
        let summaries = Dictionary(uniqueKeysWithValues: trace.meterSummaries().map { ($0.meterID, $0) })
        let grid = try #require(summaries["\(house):grid"])
        // The first and last rows with both grid registers.
        #expect(grid.first == TraceSample(millis: TraceTime.millis(rfc3339: "2015-10-11T19:00:00Z")!, meterID: "\(house):grid", importWh: 77, exportWh: 0))
        #expect(grid.last == TraceSample(millis: TraceTime.millis(rfc3339: "2017-02-09T11:00:00Z")!, meterID: "\(house):grid", importWh: 6_321_393, exportWh: 9_563_098))
        #expect(grid.samples == 11_524)
        let pv = try #require(summaries["\(house):pv"])
        #expect(pv.last.exportWh == 12_336_971 && pv.first.exportWh == 0 && pv.last.importWh == 0)
        #expect(summaries["\(house):heat_pump"]?.samples == 11_569)
        #expect(trace.samples.count == 90_059)
        #expect(trace.span == TraceTime.millis(rfc3339: "2015-10-04T01:00:00Z")!...TraceTime.millis(rfc3339: "2017-02-09T11:00:00Z")!)
        // Written and read back: the same samples.
        let text = try Trace.write(trace.samples)
        #expect(try Trace.parse(text).samples == trace.samples)
    }
}
