import Testing
import Traces

@Suite("Trace time and energy text")
struct TraceTimeTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2026-06-01T00:15:00Z", june1 + quarterHour),
        ("2026-06-01T02:15:00+02:00", june1 + quarterHour),
        ("2026-05-31T19:15:00-05:00", june1 + quarterHour),
        ("2026-06-01t00:15:00.25z", june1 + quarterHour + 250),
        ("2024-02-29T12:00:00Z", 1_709_208_000_000),
        ("2000-03-01T00:00:00Z", 951_868_800_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
    ])
    func parses(text: String, millis: Int64) {
        #expect(TraceTime.millis(rfc3339: text) == millis)
    }

    @Test(arguments: [
        "2026-06-01T00:15:00", "2026-06-01T00:15:00+0200", "2026-06-01T24:00:00Z", "2026-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-06-01T00:15:60Z", "2026-06-01T00:15:00.Z", "2026-06-01T00:15:00+24:00", "1969-12-31T23:59:59Z",
        " 2026-06-01T00:15:00Z", "2026-06-01T00:15:00Z ",
    ])
    func refuses(text: String) {
        #expect(TraceTime.millis(rfc3339: text) == nil)
    }

    @Test func formatsAndRoundTripsAcrossCenturies() {
        #expect(TraceTime.text(millis: june1 + quarterHour) == "2026-06-01T00:15:00Z")
        #expect(TraceTime.text(millis: june1 + 7) == "2026-06-01T00:00:00.007Z")
        // Every day from 1970 to 2500 at a varying time of day.
        var day: Int64 = 0
        while day < 193_000 {
            let millis = day * 86_400_000 + (day * 7_919_123) % 86_400_000
            #expect(TraceTime.millis(rfc3339: TraceTime.text(millis: millis)) == millis)
            day += 97
        }
    }

    @Test func kWhTextIsExact() {
        #expect(EnergyText.kWh(6_321_393) == "6321.393")
        #expect(EnergyText.kWh(77) == "0.077")
        #expect(EnergyText.kWh(0) == "0.000")
        #expect(EnergyText.kWh(-5) == "-0.005")
        #expect(EnergyText.kWh(1000) == "1.000")
    }
}
