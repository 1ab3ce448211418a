import GridLedgerTestSupport
import MQTTTransport
import Testing

@Suite("MQTT broker outages", .serialized)
struct ReconnectTests {
    @Test func publishWhileTheBrokerIsDownThrowsNotConnectedAtOnce() async throws {
        try await withBroker { broker in
            let client = try makeClient("gateway", port: broker.port)
            defer { client.stop() }
            let events = EventRecorder(client)
            try client.start()
            try await client.waitUntilConnected(timeout: .seconds(5))
            await broker.stop()
            let reason = try await events.firstDisconnect()
            #expect(!client.isConnected)
            #expect(!reason.isEmpty)

            let started = ContinuousClock.now
            await #expect(throws: MQTTError.notConnected) { try await client.publish("gridledger/x", payload: [1]) }
            await #expect(throws: MQTTError.notConnected) { try await client.publish("gridledger/x", payload: [1], qos: 0) }
            #expect(ContinuousClock.now - started < .milliseconds(500))
            #expect(client.statistics.publishFailures == 2)
            #expect(client.statistics.disconnects == 1)
            #expect(client.statistics.inFlight == 0)
        }
    }

    @Test func publishFailsWithConnectionLostWhenTheBrokerDiesBeforeItsPuback() async throws {
        try await withBroker { broker in
            let client = try makeClient("gateway", port: broker.port)
            defer { client.stop() }
            try client.start()
            try await client.waitUntilConnected(timeout: .seconds(5))
            broker.suspend()  // receives, never acknowledges
            let pending = Task { try await client.publish("gridledger/pending", payload: [7]) }
            try await eventually("publish in flight") { client.statistics.inFlight == 1 }
            await broker.crash()
            let outcome = await pending.result
            #expect(throws: MQTTError.connectionLost) { try outcome.get() }
            #expect(client.statistics.publishFailures == 1)

            // libmosquitto kept the message and resends it (DUP) after reconnecting; its PUBACK
            // frees the slot the orphan held.
            try await broker.restart()
            try await eventually(timeout: .seconds(10), "reconnected, orphan acknowledged") {
                client.statistics.connects == 2 && client.statistics.inFlight == 0
            }
            #expect(broker.log.contains("Received PUBLISH from \(client.configuration.clientID) (d1, q1"))
            #expect(client.statistics.published == 0)  // nobody waited for that PUBACK
        }
    }

    @Test func reconnectsAndResubscribesAfterABrokerRestart() async throws {
        try await withBroker { broker in
            let subscriber = try makeClient("subscriber", port: broker.port)
            let publisher = try makeClient("publisher", port: broker.port)
            defer { subscriber.stop(); publisher.stop() }
            let inbox = Inbox(subscriber)
            let events = EventRecorder(publisher)
            try subscriber.subscribe("gridledger/restart/#")
            try subscriber.start()
            try publisher.start()
            try await subscriber.waitUntilSubscribed(timeout: .seconds(5))
            try await publisher.waitUntilConnected(timeout: .seconds(5))

            try await broker.restart()
            try await eventually(timeout: .seconds(10), "both reconnected") {
                subscriber.statistics.connects == 2 && publisher.statistics.connects == 2
            }
            try await subscriber.waitUntilSubscribed(timeout: .seconds(5))
            try await publisher.publish("gridledger/restart/after", payload: [42, 0, 42])
            let message = try await inbox.first { $0.topic == "gridledger/restart/after" }
            #expect(message.payload == [42, 0, 42])
            #expect(events.all.first == .connected)
            #expect(events.all.contains { if case .disconnected = $0 { true } else { false } })
            #expect(events.all.last == .connected)
            #expect(publisher.statistics.disconnects == 1)
        }
    }

    @Test func clientStartedBeforeTheBrokerConnectsWhenItComesUp() async throws {
        let port = try MosquittoBroker.freeLoopbackPort()
        let client = try makeClient("early", port: port)
        defer { client.stop() }
        try client.start()  // the broker is not there: must not throw
        #expect(!client.isConnected)
        let broker = try await MosquittoBroker.start(port: port)
        do {
            try await client.waitUntilConnected(timeout: .seconds(5))
            await broker.stop()
        } catch {
            await broker.stop()
            throw error
        }
        #expect(client.statistics.connects == 1)
    }
}
