import GridLedgerCore
import MeterSimulator
import Testing

/// The simulated household's counters behave like a real meter's: no counter ever decreases
/// (the aggregator refuses a record where one does), and the phases add up to the totals.
@Suite("Synthetic household counters")
struct SyntheticHouseholdTests {
    @Test func everyCounterNeverDecreasesAndPhasesAddUpToTheTotals() {
        let household = SyntheticHousehold(startMillis: 0, initialImportWh: 1_000_000, initialExportWh: 250_000, seed: 7)
        var last: [Quantity: ScaledValue] = [:]
        // Two days at 100 ms steps around the clock would be 1.7 M samples; 30 s steps over two days
        // plus a dense minute cover slow and fast growth.
        let times = Array(stride(from: Int64(0), to: 172_800_000, by: 30_000)) + Array(stride(from: Int64(43_200_000), to: 43_260_000, by: 100))
        for millis in times.sorted() {
            let values = household.values(atMillis: millis)
            for (quantity, value) in values where quantity.isCounter {
                if let previous = last[quantity] {
                    #expect(value >= previous, "\(quantity) went from \(previous) to \(value) at \(millis) ms")
                }
                last[quantity] = value
            }
            for (total, phases) in [
                (Quantity.energyActiveImportTotal, [Quantity.energyActiveImportL1, .energyActiveImportL2, .energyActiveImportL3]),
                (.energyActiveExportTotal, [.energyActiveExportL1, .energyActiveExportL2, .energyActiveExportL3]),
            ] {
                let sum = phases.compactMap { values[$0]?.mantissa }.reduce(0, +)
                #expect(sum == values[total]?.mantissa, "\(total) at \(millis) ms")
            }
        }
    }
}
