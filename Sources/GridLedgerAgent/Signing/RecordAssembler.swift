import AgentOutbox
import GridLedgerCore
import GridLedgerRecords
import MeterPolling

/// Turns one poll cycle into a signed batch: assigns each meter's next sequence number, links it
/// to the meter's previous record, encodes, and signs the batch. Pure: it proposes new state
/// (``Prepared``), and the caller adopts it only after the outbox committed it, so a failed
/// write never advances a sequence.
struct RecordAssembler: Sendable {
    let signer: BatchSigner
    /// Meter name settings by `<bus>:<unit>`.
    let meters: [String: AgentMeter]
    private(set) var heads: [String: ChainHead]
    private(set) var batchSequence: UInt64
    private(set) var directory: MeterDirectory

    init(signer: BatchSigner, meters: [String: AgentMeter], heads: [String: ChainHead], batchSequence: UInt64, bindings: [String: String]) {
        self.signer = signer
        self.meters = meters
        self.heads = heads
        self.batchSequence = batchSequence
        directory = MeterDirectory(gatewayID: signer.gatewayID, bindings: bindings)
    }

    struct Prepared: Sendable {
        var entries: [OutboxEntry]
        var batchSequence: UInt64
        var heads: [String: ChainHead]
        var newBindings: [(key: String, meterID: String, replacing: String?)]
        /// Readings not recorded because their meter has no id yet (see ``MeterDirectory``).
        var unresolved: [PolledReading]
    }

    /// Signs `readings` as one batch. Returns `nil` entries when nothing was recordable.
    func prepare(_ readings: [PolledReading], createdMillis: Int64, clockSynchronized: Bool) throws -> Prepared {
        var heads = self.heads
        var directory = self.directory
        var records: [(meterID: String, record: ReadingRecord)] = []
        var newBindings: [(key: String, meterID: String, replacing: String?)] = []
        var unresolved: [PolledReading] = []
        for polled in readings {
            let key = MeterDirectory.bindingKey(bus: polled.bus, unit: polled.unit)
            let meterID: String
            switch directory.resolve(polled) {
            case .known(let id):
                meterID = id
            case .bound(let id, let replacing):
                meterID = id
                directory.bind(key, to: id)
                newBindings.append((key, id, replacing))
            case .unresolved:
                unresolved.append(polled)
                continue
            }
            let head = heads[meterID] ?? ChainHead(sequence: 0, hash: ReadingRecord.zeroHash)
            var measurements = polled.reading.measurements
            if meters[key]?.invert == true { measurements = Self.inverted(measurements) }
            let record = ReadingRecord(
                gatewayID: signer.gatewayID, meterID: meterID, sequence: head.sequence + 1,
                captureTimeMillis: polled.reading.captureTimeMillis, flags: clockSynchronized ? [.clockSynchronized] : [],
                profileID: polled.reading.profileID, status: polled.reading.status, previousHash: head.hash,
                values: polled.reading.status == .failed ? [] : measurements)
            records.append((meterID, record))
            heads[meterID] = ChainHead(sequence: record.sequence, hash: [])  // hash set below, from the bytes
        }
        guard !records.isEmpty else {
            return Prepared(entries: [], batchSequence: batchSequence, heads: self.heads, newBindings: newBindings, unresolved: unresolved)
        }
        let encoded = try records.map { try $0.record.encoded() }
        let envelopes = try signer.sign(records: encoded, batchSequence: batchSequence + 1, createdMillis: createdMillis)
        var entries: [OutboxEntry] = []
        entries.reserveCapacity(records.count)
        for (index, item) in records.enumerated() {
            let hash = ReadingRecord.hash(of: encoded[index])
            heads[item.meterID] = ChainHead(sequence: item.record.sequence, hash: hash)
            entries.append(OutboxEntry(
                meterID: item.meterID, sequence: item.record.sequence, captureMillis: item.record.captureTimeMillis,
                recordHash: hash, payload: envelopes[index].encoded()))
        }
        return Prepared(entries: entries, batchSequence: batchSequence + 1, heads: heads, newBindings: newBindings, unresolved: unresolved)
    }

    /// Adopts a prepared batch once it is durably stored.
    mutating func adopt(_ prepared: Prepared) {
        heads = prepared.heads
        batchSequence = prepared.batchSequence
        for binding in prepared.newBindings { directory.bind(binding.key, to: binding.meterID) }
    }

    /// Values of a meter mounted the other way round: import and export swap, and signed
    /// power and power-factor values change sign. Voltages, currents and frequency stay.
    static func inverted(_ measurements: [Measurement]) -> [Measurement] {
        let swaps: [Quantity: Quantity] = [
            .energyActiveImportTotal: .energyActiveExportTotal, .energyActiveExportTotal: .energyActiveImportTotal,
            .energyActiveImportL1: .energyActiveExportL1, .energyActiveExportL1: .energyActiveImportL1,
            .energyActiveImportL2: .energyActiveExportL2, .energyActiveExportL2: .energyActiveImportL2,
            .energyActiveImportL3: .energyActiveExportL3, .energyActiveExportL3: .energyActiveImportL3,
            .energyReactiveImportTotal: .energyReactiveExportTotal, .energyReactiveExportTotal: .energyReactiveImportTotal,
        ]
        let negated: Set<Quantity> = [
            .powerActiveTotal, .powerActiveL1, .powerActiveL2, .powerActiveL3,
            .powerReactiveTotal, .powerReactiveL1, .powerReactiveL2, .powerReactiveL3,
            .powerFactorTotal, .powerFactorL1, .powerFactorL2, .powerFactorL3,
        ]
        return measurements.map { measurement in
            if let swapped = swaps[measurement.quantity] { return Measurement(swapped, measurement.value) }
            if negated.contains(measurement.quantity) { return Measurement(measurement.quantity, measurement.value.negated) }
            return measurement
        }
    }
}
