import Testing

@testable import GridLedgerAggregator

@Suite struct AggregatorConfigurationTests {
    static let base = """
        stateDirectory: /var/lib/gla
        broker:
          host: 127.0.0.1
          port: 1883
        """

    @Test func ingestBuffersDefaultToMessagesAndBytes() throws {
        let configuration = try AggregatorConfiguration.parse(yaml: Self.base, file: "aggregator.yaml")
        #expect(configuration.ingest.workers == 2)
        #expect(configuration.ingest.bufferMessages == 65536)
        #expect(configuration.ingest.bufferBytes == 256 << 20)
        let tuned = try AggregatorConfiguration.parse(
            yaml: Self.base + "\ningest:\n  workers: 3\n  bufferMessages: 1000\n  bufferMegabytes: 16", file: "aggregator.yaml")
        #expect(tuned.ingest.workers == 3)
        #expect(tuned.ingest.bufferMessages == 1000)
        #expect(tuned.ingest.bufferBytes == 16 << 20)
    }

    @Test func anIngestBufferOutOfRangeIsRefusedWithItsPlace() {
        for (value, reason) in [("0", "0 is outside 1…65536"), ("70000", "70000 is outside 1…65536")] {
            do {
                _ = try AggregatorConfiguration.parse(yaml: Self.base + "\ningest:\n  bufferMegabytes: \(value)", file: "aggregator.yaml")
                Issue.record("accepted bufferMegabytes \(value)")
            } catch {
                #expect(error.description.contains("aggregator.yaml:6: ingest.bufferMegabytes: \(reason)"), "\(error.description)")
            }
        }
    }
}
