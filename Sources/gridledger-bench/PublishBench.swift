import Crypto
import GridLedgerCore
import GridLedgerRecords
import GridLedgerTestSupport
import Logging
import MQTTTransport

/// Publish throughput to a local mosquitto at QoS 1: signed SDM630-sized envelopes, each
/// publish waiting for its PUBACK. One lane is what the agent does per meter (order must hold
/// per meter); several lanes publish different meters concurrently over the same connection.
enum PublishBench {
    static func run(runs: Int, records: Int, median: ([Double]) -> Double) async throws {
        let broker = try await MosquittoBroker.start()
        defer { Task { await broker.stop() } }
        let key = Curve25519.Signing.PrivateKey()
        let signer = BatchSigner(gatewayID: "gw-bench", key: key)
        let values = Quantity.allCases.prefix(37).enumerated().map { Measurement($1, ScaledValue(Int64($0) * 12345, exponent: -1)) }
        let encoded = try (0..<64).map { meter in
            try ReadingRecord(
                gatewayID: "gw-bench", meterID: "gw-bench:rs485:\(meter)", sequence: 2, captureTimeMillis: 1_700_000_000_000,
                flags: .clockSynchronized, profileID: "eastron-sdm630", status: .complete, previousHash: [UInt8](repeating: 1, count: 32), values: values
            ).encoded()
        }
        let envelopes = try signer.sign(records: encoded, batchSequence: 1, createdMillis: 0).map { $0.encoded() }
        var configuration = MQTTConfiguration(clientID: "bench-publisher", host: "127.0.0.1", port: broker.port)
        configuration.maximumInFlight = 1000
        let client = try MQTTClient(configuration: configuration, logger: Logger(label: "bench"))
        try client.start()
        try await client.waitUntilConnected(timeout: .seconds(10))
        print("publish QoS 1 to a local mosquitto, \(envelopes[0].count)-byte envelopes, \(records) per run:")
        for lanes in [1, 4, 16] {
            var rates: [Double] = []
            for _ in 0..<runs {
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for lane in 0..<lanes {
                        group.addTask {
                            for index in stride(from: lane, to: records, by: lanes) {
                                try await client.publish("gridledger/v1/gw-bench/m\(lane)/reading", payload: envelopes[index % envelopes.count], qos: 1)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                rates.append(Double(records) / (ContinuousClock.now - started).seconds)
            }
            print("  \(lanes) lane(s): median \(Int(median(rates))) records/s (runs: \(rates.map { Int($0) }))")
        }
        client.stop()
    }
}
