import Crypto
import GridLedgerCore
import GridLedgerRecords

/// Cost of turning readings into signed records and of verifying them.
enum RecordBench {
    static func run(runs: Int, median: ([Double]) -> Double) throws {
        let key = Curve25519.Signing.PrivateKey()
        let signer = BatchSigner(gatewayID: "gw-bench", key: key)
        let values = Quantity.allCases.prefix(37).enumerated().map { Measurement($1, ScaledValue(Int64($0) * 12345, exponent: -1)) }
        func record(_ meter: Int, _ sequence: UInt64) -> ReadingRecord {
            ReadingRecord(gatewayID: "gw-bench", meterID: "gw-bench:rs485:\(meter)", sequence: sequence, captureTimeMillis: 1_700_000_000_000,
                          flags: .clockSynchronized, profileID: "eastron-sdm630", status: .complete, previousHash: [UInt8](repeating: 1, count: 32), values: values)
        }
        for batchSize in [1, 8, 64] {
            let iterations = max(200, 4000 / batchSize)
            var perRecord: [Double] = []
            var sample: [RecordEnvelope] = []
            for _ in 0..<runs {
                let started = ContinuousClock.now
                for i in 0..<iterations {
                    let encoded = try (0..<batchSize).map { try record($0, UInt64(i + 2)).encoded() }
                    sample = try signer.sign(records: encoded, batchSequence: UInt64(i + 1), createdMillis: 0)
                }
                perRecord.append((ContinuousClock.now - started).seconds / Double(iterations * batchSize) * 1e6)
            }
            let envelopeBytes = sample.map { $0.encoded() }
            // Verification: cold (every batch signature checked) and warm (signature cached).
            var cold: [Double] = [], warm: [Double] = []
            for _ in 0..<runs {
                var started = ContinuousClock.now
                for _ in 0..<max(1, iterations / 4) {
                    let verifier = RecordVerifier()
                    for bytes in envelopeBytes { _ = try verifier.verify(bytes, publicKey: key.publicKey) }
                }
                cold.append((ContinuousClock.now - started).seconds / Double(max(1, iterations / 4) * batchSize) * 1e6)
                let verifier = RecordVerifier()
                started = ContinuousClock.now
                for _ in 0..<iterations {
                    for bytes in envelopeBytes { _ = try verifier.verify(bytes, publicKey: key.publicKey) }
                }
                warm.append((ContinuousClock.now - started).seconds / Double(iterations * batchSize) * 1e6)
            }
            print(String(format: "batch of %2d records (37 values each, %d-byte envelope): encode+sign %.1f µs/record; verify %.1f µs/record (each batch's signature checked once), %.1f µs/record with the batch signature cached",
                         batchSize, envelopeBytes[0].count, median(perRecord), median(cold), median(warm)))
        }
        // The raw primitive, for the ratio the aggregator issue asks for.
        let message = [UInt8](repeating: 7, count: 100)
        let signature = try key.signature(for: message)
        var rates: [Double] = []
        for _ in 0..<runs {
            let started = ContinuousClock.now
            for _ in 0..<2000 { precondition(key.publicKey.isValidSignature(signature, for: message)) }
            rates.append(2000 / (ContinuousClock.now - started).seconds)
        }
        print(String(format: "raw swift-crypto Ed25519 verify: median %.0f/s (%.1f µs)", median(rates), 1e6 / median(rates)))
    }
}
