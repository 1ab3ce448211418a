import GridLedgerCore
import Testing
import Traces
@testable import MeterSimulator

/// A trace drives a simulated meter: the registers at a sample are the recorded ones, between
/// samples they are interpolated and floored (never decreasing), outside the trace they hold.
@Suite("Trace playback")
struct TracePlaybackTests {
    let trace = [
        TraceSample(millis: 0, meterID: "m", importWh: 1_000, exportWh: 50),
        TraceSample(millis: 900_000, meterID: "m", importWh: 1_250, exportWh: 50),   // 1 kW import for 15 min
        TraceSample(millis: 1_800_000, meterID: "m", importWh: 1_250, exportWh: 51, powerW: -7),
    ]

    @Test func registersAtSamplesBetweenThemAndOutside() throws {
        let playback = try #require(TracePlayback(samples: trace))
        #expect(playback.state(atMillis: -5).importWh == 1_000)
        #expect(playback.state(atMillis: 0).importWh == 1_000 && playback.state(atMillis: 0).exportWh == 50)
        #expect(playback.state(atMillis: 900_000).importWh == 1_250)
        // A third of the way: 1 000 + ⌊250/3⌋ = 1 083; power from the slope: 250 Wh in 15 min = 1 000 W.
        let third = playback.state(atMillis: 300_000)
        #expect(third.importWh == 1_083 && third.exportWh == 50 && third.powerW == 1_000)
        // In the last segment the recorded power of its end sample is used.
        #expect(playback.state(atMillis: 1_000_000).powerW == -7)
        #expect(playback.state(atMillis: 99_000_000).importWh == 1_250 && playback.state(atMillis: 99_000_000).exportWh == 51)
    }

    @Test func registersNeverDecreaseAndPhasesAddUp() throws {
        let playback = try #require(TracePlayback(samples: trace))
        var previous: (Int64, Int64) = (0, 0)
        for millis in stride(from: Int64(-60_000), through: 2_000_000, by: 7_000) {
            let values = playback.values(atMillis: millis)
            let imported = try #require(values[.energyActiveImportTotal]?.mantissa)
            let exported = try #require(values[.energyActiveExportTotal]?.mantissa)
            #expect(imported >= previous.0 && exported >= previous.1)
            previous = (imported, exported)
            let phases = [Quantity.energyActiveImportL1, .energyActiveImportL2, .energyActiveImportL3].compactMap { values[$0]?.mantissa }
            #expect(phases.reduce(0, +) == imported)
        }
    }

    @Test func anEmptyOrUnorderedTraceIsRefused() {
        #expect(TracePlayback(samples: []) == nil)
        #expect(TracePlayback(samples: [trace[1], trace[0]]) == nil)
        #expect(TracePlayback(samples: [trace[0], TraceSample(millis: 5, meterID: "other", importWh: 0, exportWh: 0)]) == nil)
    }
}
