import DeviceProfiles
import GridLedgerCore
import ModbusCore
import Testing

/// Bad profiles must be refused with the file, line and field named: a silently wrong profile is
/// the worst failure a meter reader can have.
@Suite("Profile loader errors")
struct ProfileLoaderTests {
    func error(_ yaml: String, file: String? = "test-meter.yaml") -> ProfileError? {
        do {
            _ = try ProfileLoader.load(yaml: yaml, fileName: file)
            return nil
        } catch {
            return error
        }
    }

    @Test func validMinimalProfileLoads() throws {
        let profile = try ProfileLoader.load(yaml: Fixtures.profile(fields: "  - {quantity: energy.active.import.total, address: 0x48, unit: kWh}"), fileName: "test-meter.yaml")
        #expect(profile.fields.count == 1)
        #expect(profile.fields[0].location.address == 0x48)
        #expect(profile.fields[0].location.function == .input)
        #expect(profile.fields[0].wordOrder == .highFirst)
        #expect(profile.limits.maxRegistersPerRead == 125)
    }

    @Test func unknownKeyIsNamedWithItsLine() throws {
        let yaml = Fixtures.profile(fields: """
              - {quantity: voltage.l1, address: 0, unit: V}
              - {quantity: voltage.l2, address: 2, unit: V, wordorder: low-first}
            """)
        let e = try #require(error(yaml))
        #expect(e.field == "fields[1].wordorder")
        #expect(e.reason.contains("unknown key"))
        #expect(e.line == 11)
        #expect(e.description.hasPrefix("test-meter.yaml:11: fields[1].wordorder"))
    }

    @Test(arguments: [
        ("  - {quantity: voltage.l9, address: 0, unit: V}", "fields[0].quantity", "not in the vocabulary"),
        ("  - {quantity: voltage.l1, address: 0, unit: kWh}", "fields[0] (voltage.l1).unit", "does not measure"),
        ("  - {quantity: voltage.l1, address: 0, unit: volts}", "fields[0] (voltage.l1).unit", "not a known unit"),
        ("  - {quantity: voltage.l1, address: 0, unit: V, scale: 0.5}", "fields[0] (voltage.l1).scale", "power of ten"),
        ("  - {quantity: voltage.l1, address: 0, unit: V, type: float16}", "fields[0] (voltage.l1).type", "is not one of"),
        ("  - {quantity: voltage.l1, address: 0, unit: V, wordOrder: middle}", "fields[0] (voltage.l1).wordOrder", "high-first or low-first"),
        ("  - {quantity: voltage.l1, address: 70000, unit: V}", "fields[0] (voltage.l1).address", "outside"),
        ("  - {quantity: voltage.l1, unit: V}", "fields[0] (voltage.l1).address", "missing"),
        ("  - {quantity: voltage.l1, address: 0, unit: V, scaleFactor: V_SF}", "fields[0] (voltage.l1).scaleFactor", "not defined"),
        ("  - {quantity: voltage.l1, address: 0, unit: V}\n  - {quantity: voltage.l1, address: 4, unit: V}", "fields[1] (voltage.l1)", "appears twice"),
        ("  - {quantity: voltage.l1, address: 0, unit: V}\n  - {quantity: voltage.l2, address: 1, unit: V}", "fields[1] (voltage.l2)", "overlap"),
    ])
    func fieldErrors(fields: String, field: String, reason: String) throws {
        let e = try #require(error(Fixtures.profile(fields: fields)))
        #expect(e.field == field)
        #expect(e.reason.contains(reason), "\(e)")
        #expect(e.line != nil, "field errors name their line: \(e)")
    }

    @Test func idMustMatchFileName() throws {
        let e = try #require(error(Fixtures.profile(fields: "  - {quantity: voltage.l1, address: 0, unit: V}"), file: "other.yaml"))
        #expect(e.field == "id")
    }

    @Test func invalidYAMLNamesTheLine() throws {
        let e = try #require(error("id: x\nfields: [\n  - {quantity: a"))
        #expect(e.reason.hasPrefix("invalid YAML"))
        #expect(e.line != nil)
    }

    @Test func missingSourceIsRefused() throws {
        let yaml = Fixtures.profile(fields: "  - {quantity: voltage.l1, address: 0, unit: V}").replacingOccurrences(of: "source:\n  - {title: test}\n", with: "")
        #expect(try #require(error(yaml)).field == "source")
    }

    @Test func deviceLimitsAreChecked() throws {
        let yaml = Fixtures.profile(fields: "  - {quantity: voltage.l1, address: 0, unit: V}", extra: "modbus: {maxRegistersPerRead: 200}")
        #expect(try #require(error(yaml)).field == "modbus.maxRegistersPerRead")
        let unreadable = Fixtures.profile(fields: "  - {quantity: voltage.l1, address: 0, unit: V}", extra: "modbus: {unreadable: [{function: input, from: 1, to: 5}]}")
        #expect(try #require(error(unreadable)).reason.contains("contains the register"))
    }

    @Test func sunspecModelsUseOffsetsInsideTheModel() throws {
        let yaml = """
            id: sunspec-9999
            manufacturer: SunSpec Alliance
            model: test
            kind: sunspec-model
            source: [{title: spec}]
            sunspec: {model: 9999, length: 4}
            fields:
              - {quantity: power.active.total, offset: 3, type: int32, unit: W}
            """
        let e = try #require(error(yaml, file: "sunspec-9999.yaml"))
        #expect(e.reason.contains("outside the model"))
    }

    @Test func oversizedFileIsRefused() throws {
        let e = try #require(error(String(repeating: "#", count: ProfileLoader.maximumSize + 1)))
        #expect(e.reason.contains("larger than"))
    }
}
