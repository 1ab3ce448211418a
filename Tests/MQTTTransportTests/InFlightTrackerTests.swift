@testable import MQTTTransport
import Testing

/// The QoS 1 bookkeeping without a broker: waiters are plain strings.
@Suite("In-flight tracker")
struct InFlightTrackerTests {
    /// The tracker behind a reference, so `#expect` can call its mutating methods.
    final class Tracker {
        var state: InFlightTracker<String>
        init(limit: Int) { state = InFlightTracker(limit: limit) }

        func reserve() -> Bool { state.tryReserve() }
        func enqueue(_ ticket: UInt64, _ waiter: String) { state.enqueue(ticket: ticket, waiter: waiter) }
        func dequeue(_ ticket: UInt64) -> String? { state.dequeue(ticket: ticket) }
        func release() -> [String] { state.release().map(\.waiter) }
        /// Registers `mid`; true when its PUBACK had already arrived.
        func register(_ mid: Int32, _ waiter: String?, volatile: Bool = false) -> Bool {
            state.register(mid: mid, waiter: waiter, volatile: volatile).acknowledged
        }
        func acknowledge(_ mid: Int32) -> (completed: String?, granted: [String]) {
            let outcome = state.acknowledge(mid: mid)
            return (outcome.completed, outcome.resume.map(\.waiter))
        }
        func abandon(_ mid: Int32) -> String? { state.abandon(mid: mid) }
        func connectionLost() -> [InFlightTracker<String>.Resumption] { state.connectionLost() }
        func reset() -> [String] { state.reset(error: .connectionLost).map(\.waiter) }
        var used: Int { state.used }
        var orphans: Int { state.orphans }
    }

    @Test func ackCompletesTheWaiterAndFreesTheSlot() {
        let tracker = Tracker(limit: 1)
        #expect(tracker.reserve())
        #expect(!tracker.reserve())
        #expect(!tracker.register(7, "a"))
        #expect(tracker.used == 1)
        #expect(tracker.acknowledge(7).completed == "a")
        #expect(tracker.used == 0)
        #expect(tracker.reserve())
    }

    @Test func pubackBeforeTheMessageIdIsKnownIsNotLost() {
        let tracker = Tracker(limit: 4)
        #expect(tracker.reserve())
        // libmosquitto's thread sees the PUBACK before mosquitto_publish has returned mid 9.
        #expect(tracker.acknowledge(9).completed == nil)
        #expect(tracker.register(9, "a"))
        #expect(tracker.used == 0)
        // Nothing is left over for a later message that reuses the id.
        #expect(tracker.reserve())
        #expect(!tracker.register(9, "b"))
    }

    @Test func strayAcksAreIgnoredAndBounded() {
        let tracker = Tracker(limit: 2)
        #expect(tracker.acknowledge(1).completed == nil)  // birth message, QoS 0: no reservation, ignored
        #expect(tracker.reserve())
        for mid in Int32(100)..<200 { _ = tracker.acknowledge(mid) }  // strays while a reservation exists
        #expect(!tracker.register(1, "a"))
        #expect(tracker.used == 1)
    }

    @Test func queuedPublishersGetSlotsInOrder() {
        let tracker = Tracker(limit: 1)
        #expect(tracker.reserve())
        tracker.enqueue(1, "first")
        tracker.enqueue(2, "second")
        #expect(!tracker.reserve())
        #expect(!tracker.register(1, "a"))
        let acked = tracker.acknowledge(1)
        #expect(acked.completed == "a")
        #expect(acked.granted == ["first"])
        #expect(tracker.release() == ["second"])
        #expect(tracker.dequeue(2) == nil)
    }

    @Test func cancelledQueuedPublisherLeavesTheQueue() {
        let tracker = Tracker(limit: 1)
        #expect(tracker.reserve())
        tracker.enqueue(5, "x")
        #expect(tracker.dequeue(5) == "x")
        #expect(tracker.release().isEmpty)
        #expect(tracker.used == 0)
    }

    @Test func connectionLossFailsWaitersButOrphansKeepTheirSlotsUntilAcked() {
        let tracker = Tracker(limit: 2)
        #expect(tracker.reserve())
        #expect(tracker.reserve())
        #expect(!tracker.register(1, "a"))
        #expect(!tracker.register(2, "b"))
        tracker.enqueue(1, "queued")
        let failed = tracker.connectionLost()
        #expect(Set(failed.map(\.waiter)) == ["a", "b", "queued"])
        #expect(failed.allSatisfy { if case .failure(.connectionLost) = $0.result { true } else { false } })
        // libmosquitto resends both after reconnecting: they keep their slots until their PUBACKs.
        #expect(tracker.orphans == 2)
        #expect(!tracker.reserve())
        #expect(tracker.acknowledge(1).completed == nil)
        #expect(tracker.reserve())
    }

    @Test func qos0EntriesAreForgottenOnDisconnect() {
        let tracker = Tracker(limit: 1)
        #expect(tracker.reserve())
        #expect(!tracker.register(3, nil, volatile: true))
        #expect(!tracker.reserve())
        #expect(tracker.connectionLost().isEmpty)
        #expect(tracker.used == 0)
    }

    @Test func abandonedWaiterBecomesAnOrphan() {
        let tracker = Tracker(limit: 1)
        #expect(tracker.reserve())
        #expect(!tracker.register(4, "a"))
        #expect(tracker.abandon(4) == "a")
        #expect(tracker.abandon(4) == nil)
        #expect(tracker.orphans == 1)
        #expect(tracker.acknowledge(4).completed == nil)
        #expect(tracker.used == 0)
    }

    @Test func resetFailsEverythingButLetsReservationsBeGivenBack() {
        let tracker = Tracker(limit: 2)
        #expect(tracker.reserve())
        #expect(tracker.reserve())
        #expect(!tracker.register(1, "a"))
        tracker.enqueue(1, "q")
        #expect(Set(tracker.reset()) == ["a", "q"])
        // One publisher still holds its reservation and gives it back later.
        #expect(tracker.used == 1)
        #expect(tracker.release().isEmpty)
        #expect(tracker.used == 0)
    }
}
