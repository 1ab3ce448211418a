import GridLedgerCore
public import GridLedgerRecords

extension MeterSample {
    /// The registers of a reading record (its total active energy import and export, floored to
    /// whole Wh); `nil` when the record lacks either.
    public init?(_ record: ReadingRecord) {
        var importWh: Int64?
        var exportWh: Int64?
        for measurement in record.values {
            switch measurement.quantity {
            case .energyActiveImportTotal: importWh = Self.wattHours(measurement.value)
            case .energyActiveExportTotal: exportWh = Self.wattHours(measurement.value)
            default: break
            }
        }
        guard let importWh, let exportWh else { return nil }
        self.init(meterID: record.meterID, counters: CounterSample(millis: record.captureTimeMillis, importWh: importWh, exportWh: exportWh))
    }

    /// `value` (in Wh) floored to whole Wh; `nil` if it does not fit 64 bits.
    static func wattHours(_ value: ScaledValue) -> Int64? {
        var result = value.mantissa
        if value.exponent >= 0 {
            for _ in 0..<Int(value.exponent) {
                let (product, overflow) = result.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                result = product
            }
            return result
        }
        var divisor: Int64 = 1
        for _ in 0..<Int(-value.exponent) {
            let (product, overflow) = divisor.multipliedReportingOverflow(by: 10)
            if overflow { return 0 }
            divisor = product
        }
        var quotient = result / divisor
        if result % divisor != 0 && result < 0 { quotient -= 1 }
        return quotient
    }
}
