import Foundation
import GridLedgerRecords
import MQTTTransport
import Synchronization
import Testing

@testable import GridLedgerAggregator

@Suite struct IngestLanesTests {
    func message(_ topic: String, bytes: Int) -> MQTTMessage { MQTTMessage(topic: topic, payload: [UInt8](repeating: 7, count: bytes)) }

    @Test func aGatewaysMessagesShareOneLaneWhateverTheirTopic() {
        for gateway in ["gw-1", "gw-2", "house-17", "a"] {
            let topics = GatewayTopics(gatewayID: gateway)
            let lane = IngestLanes.lane(of: topics.bundle, workers: 7)
            for meter in ["\(gateway):bus0:1", "\(gateway):bus0:2:1234", "\(gateway):rs485:9"] {
                #expect(IngestLanes.lane(of: topics.reading(meterID: meter), workers: 7) == lane)
            }
        }
        // Different gateways spread over the lanes.
        let lanes = Set((0..<64).map { IngestLanes.lane(of: GatewayTopics(gatewayID: "gw-\($0)").bundle, workers: 4) })
        #expect(lanes == [0, 1, 2, 3])
    }

    /// The byte bound holds back the producer (the MQTT network thread) until the worker takes:
    /// 64 KiB bundles cannot pile up to the message bound's worth of memory.
    @Test func aLaneFullByBytesMakesTheProducerWaitUntilTheWorkerTakes() async throws {
        let lane = IngestLane(capacity: 100, byteCapacity: 100_000)
        #expect(lane.push(message("a", bytes: 60_000)))
        let pushed = Atomic<Int>(0)
        let producer = Thread {
            _ = lane.push(message("b", bytes: 60_000))
            pushed.store(1, ordering: .sequentiallyConsistent)
        }
        producer.start()
        // The producer must still be waiting after the lane had ample time to take it.
        for _ in 0..<20 {
            #expect(pushed.load(ordering: .sequentiallyConsistent) == 0)
            try await Task.sleep(for: .milliseconds(5))
        }
        let first = await lane.take(upTo: 10)
        #expect(first.map(\.topic) == ["a"])
        let second = await lane.take(upTo: 10)
        #expect(second.map(\.topic) == ["b"])
    }

    /// A worker's batch is bounded in bytes too (bundles hold many records), but always holds at
    /// least one message, and the bytes taken leave room for the producer again.
    @Test func aBatchIsBoundedByMessagesAndBytes() async {
        let lane = IngestLane(capacity: 100, byteCapacity: 1_000_000)
        for index in 0..<10 { #expect(lane.push(message("m\(index)", bytes: 30_000))) }
        #expect(await lane.take(upTo: 100, bytes: 100_000).map(\.topic) == ["m0", "m1", "m2"])
        #expect(await lane.take(upTo: 2, bytes: 100_000).map(\.topic) == ["m3", "m4"])
        #expect(await lane.take(upTo: 100, bytes: 10).map(\.topic) == ["m5"])
        #expect(await lane.take(upTo: 100).map(\.topic) == ["m6", "m7", "m8", "m9"])
    }

    @Test func anEmptyLaneTakesAMessageLargerThanItsByteBound() async {
        let lane = IngestLane(capacity: 10, byteCapacity: 1_000)
        #expect(lane.push(message("big", bytes: 5_000)))
        #expect(await lane.take(upTo: 10).map(\.payload.count) == [5_000])
        lane.finish()
        #expect(!lane.push(message("late", bytes: 1)))
        #expect(await lane.take(upTo: 10).isEmpty)
    }
}
