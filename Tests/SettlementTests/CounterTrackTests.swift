import Testing
@testable import Settlement

@Suite("Counter boundaries")
struct CounterTrackTests {
    let minute: Int64 = 60_000

    @Test func boundariesAreInterpolatedAndFlooredAndAddUpToTheRegisters() {
        var track = CounterTrack(gridMillis: 5 * minute)
        #expect(track.add(CounterSample(millis: 2 * minute, importWh: 1000, exportWh: 50)) == [])
        // 2 → 12 min, 1000 → 1101 Wh: the 5 min boundary is 3/10 of the way (30.3 → 30), the 10 min one 8/10 (80.8 → 80).
        #expect(track.add(CounterSample(millis: 12 * minute, importWh: 1101, exportWh: 50)) == [5 * minute, 10 * minute])
        #expect(track.value(at: 5 * minute) == BoundaryValue(importWh: 1030, exportWh: 50, measured: true))
        #expect(track.value(at: 10 * minute) == BoundaryValue(importWh: 1080, exportWh: 50, measured: true))
        // Before the first reading: the first reading's registers (nothing metered before).
        #expect(track.value(at: 0) == BoundaryValue(importWh: 1000, exportWh: 50, measured: true))
        #expect(track.value(at: 15 * minute) == nil)
    }

    @Test func aReadingOnTheBoundaryIsTakenAsIsAndALongGapIsNotMeasured() {
        var track = CounterTrack(gridMillis: 5 * minute)
        track.add(CounterSample(millis: 5 * minute, importWh: 7, exportWh: 0))
        #expect(track.value(at: 5 * minute)?.importWh == 7)
        // 5 → 65 min: a one-hour gap; boundaries inside are interpolated, the one on the reading is measured.
        let determined = track.add(CounterSample(millis: 65 * minute, importWh: 127, exportWh: 0))
        #expect(determined.count == 12)
        #expect(track.value(at: 35 * minute) == BoundaryValue(importWh: 67, exportWh: 0, measured: false))
        #expect(track.value(at: 65 * minute) == BoundaryValue(importWh: 127, exportWh: 0, measured: true))
    }

    @Test func intervalEnergiesTelescopeToTheRegisterDifferenceWhateverTheReadingTimes() {
        var generator = SplitMix(seed: 42)
        var track = CounterTrack(gridMillis: 5 * minute)
        var millis: Int64 = 123_456
        var register: Int64 = 5_000
        let first = register
        track.add(CounterSample(millis: millis, importWh: register, exportWh: 0))
        for _ in 0..<2000 {
            millis += Int64(generator.next() % 400_000) + 1
            register += Int64(generator.next() % 50)
            track.add(CounterSample(millis: millis, importWh: register, exportWh: 0))
        }
        let firstBoundary = CounterTrack.ceiling(123_456, to: 5 * minute)
        let lastBoundary = millis - millis % (5 * minute)
        var sum: Int64 = 0
        var previous = track.value(at: firstBoundary)!.importWh
        for boundary in stride(from: firstBoundary + 5 * minute, through: lastBoundary, by: Int(5 * minute)) {
            let value = track.value(at: boundary)!.importWh
            #expect(value >= previous)
            sum += value - previous
            previous = value
        }
        #expect(sum == track.value(at: lastBoundary)!.importWh - track.value(at: firstBoundary)!.importWh)
        #expect(track.value(at: firstBoundary)!.importWh >= first)
    }
}

/// A small deterministic generator for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
