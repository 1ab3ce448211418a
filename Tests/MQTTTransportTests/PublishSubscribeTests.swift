import GridLedgerTestSupport
import Logging
import MQTTTransport
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite("MQTT publish, subscribe, birth and will against mosquitto", .serialized)
struct PublishSubscribeTests {
    @Test func qos1PublishArrivesByteForByteAtAnotherClient() async throws {
        try await withBroker { broker in
            let subscriber = try makeClient("subscriber", port: broker.port)
            let publisher = try makeClient("publisher", port: broker.port)
            defer { subscriber.stop(); publisher.stop() }
            let inbox = Inbox(subscriber)
            try subscriber.subscribe("gridledger/test/#")
            try subscriber.start()
            try publisher.start()
            try await subscriber.waitUntilSubscribed(timeout: .seconds(5))
            try await publisher.waitUntilConnected(timeout: .seconds(5))

            let binary: [UInt8] = [0, 0, 1, 0, 0xFF, 0] + (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) } + [0]
            try await publisher.publish("gridledger/test/binary", payload: binary)
            try await publisher.publish("gridledger/test/empty", payload: [])
            try await publisher.publish("gridledger/test/qos0", payload: [0, 1, 2], qos: 0)

            let received = try await inbox.first { $0.topic == "gridledger/test/binary" }
            #expect(received.payload == binary)
            #expect(received.qos == 1)
            #expect(!received.retain)
            #expect(try await inbox.first { $0.topic == "gridledger/test/empty" }.payload == [])
            let qos0 = try await inbox.first { $0.topic == "gridledger/test/qos0" }
            #expect(qos0.payload == [0, 1, 2])
            #expect(qos0.qos == 0)
            #expect(publisher.statistics.published == 3)
            #expect(publisher.statistics.publishFailures == 0)
            #expect(subscriber.statistics.received == 3)
            try await eventually("QoS 0 written") { publisher.statistics.inFlight == 0 }
        }
    }

    @Test func manyConcurrentPublishesStayWithinTheInFlightBound() async throws {
        try await withBroker { broker in
            let subscriber = try makeClient("subscriber", port: broker.port)
            let publisher = try makeClient("publisher", port: broker.port) { $0.maximumInFlight = 3 }
            defer { subscriber.stop(); publisher.stop() }
            let inbox = Inbox(subscriber)
            try subscriber.subscribe("gridledger/bulk/+")
            try subscriber.start()
            try publisher.start()
            try await subscriber.waitUntilSubscribed(timeout: .seconds(5))
            try await publisher.waitUntilConnected(timeout: .seconds(5))

            let largestInFlight = Mutex(0)
            let done = Atomic(false)
            let sampler = Task {
                while !done.load(ordering: .relaxed) {
                    let inFlight = publisher.statistics.inFlight
                    largestInFlight.withLock { $0 = max($0, inFlight) }
                    await Task.yield()
                }
            }
            try await withThrowingTaskGroup { group in
                for index in 0..<200 {
                    group.addTask { try await publisher.publish("gridledger/bulk/\(index)", payload: Array("\(index)".utf8)) }
                }
                try await group.waitForAll()
            }
            done.store(true, ordering: .relaxed)
            await sampler.value

            #expect(publisher.statistics.published == 200)
            #expect(publisher.statistics.inFlight == 0)
            #expect(largestInFlight.withLock { $0 } <= 3)
            try await eventually("all 200 delivered") { Set(inbox.all.map(\.topic)).count == 200 }
        }
    }

    @Test func incomingBufferKeepsTheNewestAndCountsDrops() async throws {
        try await withBroker { broker in
            let subscriber = try makeClient("subscriber", port: broker.port) { $0.incomingBufferLimit = 5 }
            let publisher = try makeClient("publisher", port: broker.port)
            defer { subscriber.stop(); publisher.stop() }
            try subscriber.subscribe("gridledger/slow")
            try subscriber.start()
            try publisher.start()
            try await subscriber.waitUntilSubscribed(timeout: .seconds(5))
            try await publisher.waitUntilConnected(timeout: .seconds(5))
            for index in 0..<20 {
                try await publisher.publish("gridledger/slow", payload: Array("m\(index)".utf8))
            }
            try await eventually("20 received") { subscriber.statistics.received == 20 }
            #expect(subscriber.statistics.droppedIncoming == 15)
            var iterator = subscriber.messages.makeAsyncIterator()
            var kept: [String] = []
            for _ in 0..<5 {
                if let message = await iterator.next() { kept.append(String(decoding: message.payload, as: UTF8.self)) }
            }
            #expect(kept == ["m15", "m16", "m17", "m18", "m19"])
        }
    }

    @Test func birthIsRetainedForLateSubscribers() async throws {
        try await withBroker { broker in
            let gateway = try makeClient("gateway", port: broker.port) {
                $0.birth = MQTTMessage(topic: "gridledger/gw1/status", text: "online", retain: true)
            }
            defer { gateway.stop() }
            try gateway.start()
            try await gateway.waitUntilConnected(timeout: .seconds(5))

            let watcher = try makeClient("watcher", port: broker.port)
            defer { watcher.stop() }
            let inbox = Inbox(watcher)
            try watcher.subscribe("gridledger/gw1/status")
            try watcher.start()
            let status = try await inbox.first { $0.topic == "gridledger/gw1/status" }
            #expect(status.payload == Array("online".utf8))
            #expect(status.retain)
        }
    }

    @Test func serviceShutdownPublishesTheWillRetained() async throws {
        try await withBroker { broker in
            let log = RecordedLog()
            let gateway = try makeClient("gateway", port: broker.port, log: log) {
                $0.birth = MQTTMessage(topic: "gridledger/gw2/status", text: "online", retain: true)
                $0.will = MQTTMessage(topic: "gridledger/gw2/status", text: "offline", retain: true)
            }
            let service = MQTTService(client: gateway, logger: log.logger)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup { group in
                    group.addTask { try await service.run() }
                    try await gateway.waitUntilConnected(timeout: .seconds(5))
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()  // run() returns by itself
                }
            }
            #expect(!gateway.isConnected)
            #expect(log.text.contains("MQTT will published on shutdown"))
            // Stopped for good: the service owned the client's lifetime.
            #expect(throws: MQTTError.stopped) { try gateway.start() }

            let watcher = try makeClient("watcher", port: broker.port)
            defer { watcher.stop() }
            let inbox = Inbox(watcher)
            try watcher.subscribe("gridledger/gw2/status")
            try watcher.start()
            let status = try await inbox.first { $0.topic == "gridledger/gw2/status" }
            #expect(status.payload == Array("offline".utf8))
            #expect(status.retain)
        }
    }

    @Test func stopDisconnectsCleanlySoTheBrokerDiscardsTheWill() async throws {
        try await withBroker { broker in
            let gateway = try makeClient("gateway", port: broker.port) {
                $0.birth = MQTTMessage(topic: "gridledger/gw3/status", text: "online", retain: true)
                $0.will = MQTTMessage(topic: "gridledger/gw3/status", text: "offline", retain: true)
            }
            let events = EventRecorder(gateway)
            try gateway.start()
            try await gateway.waitUntilConnected(timeout: .seconds(5))
            gateway.stop()
            gateway.stop()  // idempotent
            #expect(!gateway.isConnected)
            try await eventually("events finished") { events.all.last == .disconnected(reason: "client disconnected") }
            #expect(gateway.statistics.disconnects == 1)

            let watcher = try makeClient("watcher", port: broker.port)
            defer { watcher.stop() }
            let inbox = Inbox(watcher)
            try watcher.subscribe("gridledger/gw3/status")
            try watcher.start()
            // The retained birth is still there: a will would have replaced it.
            let status = try await inbox.first { $0.topic == "gridledger/gw3/status" }
            #expect(status.payload == Array("online".utf8))
        }
    }
}
