import GridLedgerCore
import Testing

@Suite("ScaledValue: exact decimals")
struct ScaledValueTests {
    @Test("parses and prints decimals exactly", arguments: [
        ("230.5", "230.5"), ("-0.75", "-0.75"), ("12345000", "12345000"), ("0.001", "0.001"),
        ("+7", "7"), ("100.000", "100"), ("-0", "0"), ("0.0", "0"), ("-12.050", "-12.05"),
    ])
    func roundTrip(input: String, printed: String) throws {
        let value = try #require(ScaledValue(decimalString: input))
        #expect(value.description == printed)
    }

    @Test("rejects what is not a plain decimal", arguments: ["", "-", ".", "1e3", "1.2.3", "abc", "12a", "0x10", "1.0000000000000000001"])
    func rejects(input: String) {
        #expect(ScaledValue(decimalString: input) == nil)
    }

    @Test func equalityIsNumeric() {
        #expect(ScaledValue(25, exponent: -1) == ScaledValue(250, exponent: -2))
        #expect(ScaledValue(3, exponent: 3) == ScaledValue(3000))
        #expect(ScaledValue(1, exponent: -1) != ScaledValue(1, exponent: -2))
        #expect(Set([ScaledValue(5, exponent: 0), ScaledValue(50, exponent: -1)]).count == 1)
    }

    @Test func exactRescalingNeverLosesDigits() {
        #expect(ScaledValue(12345, exponent: 1).exactly(atExponent: 0) == ScaledValue(123450))
        #expect(ScaledValue(12345, exponent: 0).exactly(atExponent: 1) == nil)
        #expect(ScaledValue(12340, exponent: 0).exactly(atExponent: 1)?.mantissa == 1234)
        #expect(ScaledValue(Int64.max, exponent: 0).exactly(atExponent: -1) == nil)
    }

    @Test("rounds half to even", arguments: [
        (Int64(125), Int8(-2), Int8(-1), Int64(12)), (135, -2, -1, 14), (-125, -2, -1, -12), (-135, -2, -1, -14),
        (126, -2, -1, 13), (124, -2, -1, 12), (5, 0, 1, 0), (15, 0, 1, 2),
    ])
    func halfToEven(mantissa: Int64, from: Int8, to: Int8, expected: Int64) throws {
        let rounded = try #require(ScaledValue(mantissa, exponent: from).rounded(toExponent: to))
        #expect(rounded.mantissa == expected)
        #expect(rounded.exponent == to)
    }

    @Test func ordering() {
        #expect(ScaledValue(-1) < ScaledValue(0))
        #expect(ScaledValue(2305, exponent: -1) < ScaledValue(231))
        #expect(!(ScaledValue(231) < ScaledValue(2310, exponent: -1)))
    }
}

@Suite("Quantity vocabulary")
struct QuantityTests {
    @Test func obisCodesAreUniqueAndWellFormed() {
        let codes = Quantity.allCases.compactMap(\.obis)
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.hasPrefix("1-0:"))
            #expect(code.split(separator: ":")[1].split(separator: ".").count == 3)
        }
        #expect(Quantity.energyActiveImportTotal.obis == "1-0:1.8.0")
        #expect(Quantity.energyActiveExportTotal.obis == "1-0:2.8.0")
        #expect(Quantity.powerActiveTotal.obis == "1-0:16.7.0")
    }

    @Test func recordCodesAreUniqueAndPinned() {
        let codes = Quantity.allCases.map(\.code)
        #expect(Set(codes).count == codes.count)
        for quantity in Quantity.allCases { #expect(Quantity(code: quantity.code) == quantity) }
        // Pinned: signed records already carry these numbers.
        #expect(Quantity.energyActiveImportTotal.code == 1)
        #expect(Quantity.energyActiveExportTotal.code == 2)
        #expect(Quantity.powerActiveTotal.code == 20)
        #expect(Quantity.voltageL1.code == 40)
        #expect(Quantity.temperature.code == 80)
        #expect(Quantity(code: 0) == nil)
    }

    @Test func countersAreExactlyTheEnergyQuantities() {
        for quantity in Quantity.allCases {
            #expect(quantity.isCounter == quantity.rawValue.hasPrefix("energy."))
            if quantity.isCounter { #expect(quantity.unit.maximumExponent == 0) }
        }
    }

    @Test func readingOrdersMeasurementsByVocabulary() {
        let reading = MeterReading(
            captureTimeMillis: 1, profileID: "p", status: .complete,
            measurements: [Measurement(.frequency, ScaledValue(50)), Measurement(.energyActiveImportTotal, ScaledValue(7))])
        #expect(reading.measurements.map(\.quantity) == [.energyActiveImportTotal, .frequency])
        #expect(reading[.energyActiveImportTotal] == ScaledValue(7))
        #expect(reading[.voltageL1] == nil)
    }
}
