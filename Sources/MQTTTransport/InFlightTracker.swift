/// Bookkeeping for QoS 1 publishes awaiting PUBACK, without I/O: every method returns the waiters
/// to resume, and the caller resumes them outside its lock. Generic over the waiter so it is
/// tested with plain values.
///
/// A *slot* is taken from the moment a publish is admitted until its PUBACK arrives, including
/// while the message is an *orphan*: its caller already got `.connectionLost` or `.cancelled`,
/// but libmosquitto still holds it and resends it after a reconnect. Counting orphans keeps
/// libmosquitto's own queue bounded by `limit` across reconnects.
///
/// QoS 0 messages take a slot too, from `mosquitto_publish` until libmosquitto has written them
/// to the socket (its `on_publish` for QoS 0), so its packet queue stays bounded behind a slow
/// link; they are *volatile*: libmosquitto drops unsent QoS 0 packets on disconnect, and so does
/// ``connectionLost()``.
///
/// The PUBACK for a message can arrive (on libmosquitto's thread) before `mosquitto_publish` has
/// returned its message id to the publisher; such *early* acknowledgements are remembered while
/// reservations exist, and ``register(mid:waiter:)`` consumes them.
struct InFlightTracker<Waiter> {
    typealias Resumption = (waiter: Waiter, result: Result<Void, MQTTError>)

    let limit: Int
    /// Slots granted to publishers that have not registered their message id yet.
    private(set) var reserved = 0
    private struct Entry {
        /// Nil for orphans and QoS 0.
        var waiter: Waiter?
        /// QoS 0: forgotten by libmosquitto on disconnect.
        var volatile: Bool
    }

    /// Message ids handed to libmosquitto and not acknowledged (or, QoS 0, not written yet).
    private var awaiting: [Int32: Entry] = [:]
    /// Acknowledgements of ids nobody has registered yet, oldest first, at most `limit`.
    private var earlyAcks: [Int32] = []
    /// Publishers waiting for a free slot, in arrival order.
    private var slotQueue: [(ticket: UInt64, waiter: Waiter)] = []

    init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    var used: Int { reserved + awaiting.count }
    var orphans: Int { awaiting.values.count { $0.waiter == nil && !$0.volatile } }
    var queued: Int { slotQueue.count }

    /// Takes a slot if one is free.
    mutating func tryReserve() -> Bool {
        guard used < limit, slotQueue.isEmpty else { return false }
        reserved += 1
        return true
    }

    /// Queues a publisher for the next free slot; it is resumed with success once the slot is its.
    mutating func enqueue(ticket: UInt64, waiter: Waiter) {
        slotQueue.append((ticket, waiter))
    }

    /// Removes a queued publisher (cancelled); nil if it already got its slot.
    mutating func dequeue(ticket: UInt64) -> Waiter? {
        guard let index = slotQueue.firstIndex(where: { $0.ticket == ticket }) else { return nil }
        return slotQueue.remove(at: index).waiter
    }

    /// Gives back a reservation whose publish never reached libmosquitto.
    mutating func release() -> [Resumption] {
        precondition(reserved > 0)
        reserved -= 1
        return grantFreeSlots()
    }

    /// The publisher learnt its message id. Returns true when the PUBACK already arrived: then
    /// the slot is free again and `waiter` must be resumed with success by the caller. `waiter`
    /// nil registers an orphan, or with `volatile` a QoS 0 message.
    mutating func register(mid: Int32, waiter: Waiter?, volatile: Bool = false) -> (acknowledged: Bool, resume: [Resumption]) {
        precondition(reserved > 0)
        reserved -= 1
        if let index = earlyAcks.firstIndex(of: mid) {
            earlyAcks.remove(at: index)
            if reserved == 0 { earlyAcks.removeAll() }
            return (true, grantFreeSlots())
        }
        if reserved == 0 { earlyAcks.removeAll() }
        awaiting[mid] = Entry(waiter: waiter, volatile: volatile)
        return (false, [])
    }

    /// A PUBACK (or the on_publish of any publish). Returns the waiter it completes, if any.
    mutating func acknowledge(mid: Int32) -> (completed: Waiter?, resume: [Resumption]) {
        if let entry = awaiting.removeValue(forKey: mid) {
            return (entry.waiter, grantFreeSlots())
        }
        if reserved > 0 {
            // Possibly the ack of a publish whose id is not registered yet; or a stray id (QoS 0,
            // birth). Bounded: strays are evicted oldest first, and a real early ack is consumed
            // microseconds after it arrives.
            earlyAcks.append(mid)
            if earlyAcks.count > limit { earlyAcks.removeFirst() }
        }
        return (nil, [])
    }

    /// The waiter of `mid` gave up (cancelled): the message becomes an orphan, keeping its slot.
    mutating func abandon(mid: Int32) -> Waiter? {
        guard let waiter = awaiting[mid]?.waiter else { return nil }
        awaiting[mid]?.waiter = nil
        return waiter
    }

    /// The connection dropped: every waiter fails, sent messages become orphans (libmosquitto
    /// resends them after reconnecting and their PUBACKs free the slots), queued publishers fail.
    mutating func connectionLost() -> [Resumption] {
        var resume: [Resumption] = []
        for (mid, entry) in awaiting {
            if let waiter = entry.waiter {
                resume.append((waiter, .failure(.connectionLost)))
                awaiting[mid]?.waiter = nil
            }
            if entry.volatile { awaiting[mid] = nil }
        }
        resume += slotQueue.map { ($0.waiter, .failure(.connectionLost)) }
        slotQueue.removeAll()
        return resume
    }

    /// The client stopped: libmosquitto's state is gone with it, so every slot is free and every
    /// waiter fails with `error`.
    mutating func reset(error: MQTTError) -> [Resumption] {
        var resume: [Resumption] = awaiting.values.compactMap(\.waiter).map { ($0, .failure(error)) }
        resume += slotQueue.map { ($0.waiter, .failure(error)) }
        awaiting.removeAll()
        slotQueue.removeAll()
        earlyAcks.removeAll()
        return resume
    }

    private mutating func grantFreeSlots() -> [Resumption] {
        var resume: [Resumption] = []
        while used < limit, !slotQueue.isEmpty {
            reserved += 1
            resume.append((slotQueue.removeFirst().waiter, .success(())))
        }
        return resume
    }
}
