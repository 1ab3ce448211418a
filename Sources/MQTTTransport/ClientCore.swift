import CMosquitto
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state behind an ``MQTTClient`` and the target of libmosquitto's callbacks (its userdata).
///
/// Threads: libmosquitto calls the `handle…` methods on its network thread; the public API runs on
/// any thread. Shared state lives in `state` (a `Mutex`); the lock is never held while calling
/// into libmosquitto or resuming a continuation or yielding to a stream. Lifecycle operations
/// (start, stop, restart of the network thread, destroy) are serialised by `lifecycle`, which the
/// network thread never takes, so joining that thread under it cannot deadlock.
final class ClientCore: Sendable {
    typealias Waiter = CheckedContinuation<Result<Void, MQTTError>, Never>

    enum Lifecycle: Sendable {
        case idle
        /// Started; connect_async failed and is retried: no network thread yet.
        case connecting
        /// The network thread runs (and reconnects by itself).
        case running
        case stopped
    }

    struct State {
        var connected = false
        /// Incremented on every disconnect: a publish admitted in one generation and registered
        /// in another was queued by libmosquitto while offline.
        var generation: UInt64 = 0
        var stopped = false
        /// libmosquitto calls in progress outside `lifecycle` (publish, subscribe).
        var activeCalls = 0
        var handleDestroyed = false
        var inFlight: InFlightTracker<Waiter>
        var subscriptions: [(filter: String, qos: Int)] = []
        var pendingSubscribes: [Int32: String] = [:]
        var earlySubscribeAcks: [(mid: Int32, granted: Bool)] = []
        var acknowledgedFilters: Set<String> = []
        var refusedFilters: Set<String> = []
        var eventListeners: [UInt64: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]
        var nextTicket: UInt64 = 0
        var statistics = MQTTStatistics()
        /// The last error or warning libmosquitto logged (TLS details), for the next disconnect reason.
        var lastLibraryError: String?
        /// The CONNACK refusal of the current attempt, for the disconnect that follows it.
        var refusal: String?
        /// Kernel id of libmosquitto's network thread, as seen in its last disconnect callback.
        var networkThreadID: Int32 = 0
        /// Set while our own thread calls connect_async / reconnect_async.
        var ownAttempt = false
    }

    let handle: MosquittoHandle
    let configuration: MQTTConfiguration
    let logger: Logger
    let state: Mutex<State>
    let lifecycle = Mutex<Lifecycle>(.idle)
    let messageStream: AsyncStream<MQTTMessage>
    private let messageContinuation: AsyncStream<MQTTMessage>.Continuation
    private let messageSink: (any MQTTMessageSink)?

    init(handle: MosquittoHandle, configuration: MQTTConfiguration, messageSink: (any MQTTMessageSink)?, logger: Logger) {
        self.messageSink = messageSink
        self.handle = handle
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "mqtt.broker"] = "\(configuration.broker)"
        logger[metadataKey: "mqtt.client"] = "\(configuration.clientID)"
        self.logger = logger
        state = Mutex(State(inFlight: InFlightTracker(limit: configuration.maximumInFlight)))
        (messageStream, messageContinuation) = AsyncStream.makeStream(
            of: MQTTMessage.self, bufferingPolicy: .bufferingNewest(configuration.incomingBufferLimit))
    }

    // MARK: Lifecycle
    //
    // libmosquitto 2.0.11's threaded mode needs two repairs to reconnect by itself in every case:
    // - After a failed `mosquitto_connect_async` (broker down at start: ECONNREFUSED) the handle
    //   stays in its "new" state, and the thread of `mosquitto_loop_start` waits (10 ms sleeps)
    //   for that state to change, forever. So the thread is started only once `connect_async`
    //   (later `reconnect_async`) succeeded; until then we retry with the configured backoff.
    // - After some errors `mosquitto_loop_forever` returns and the thread ends silently, never
    //   reconnecting: "fatal" codes and errno EPROTO, which is how losing a TLS connection
    //   surfaces. So after every unrequested disconnect we check (Linux: /proc/self/task) whether
    //   the thread still exists, and if not, join it and start a new one; the new thread goes
    //   straight to libmosquitto's own reconnect loop (blocking connects, with backoff).

    func start() throws(MQTTError) {
        try lifecycle.withLock { (life) throws(MQTTError) in
            switch life {
            case .connecting, .running: return
            case .stopped: throw .stopped
            case .idle: break
            }
            let rc = ownAttempt {
                mosquitto_connect_async(handle.pointer, configuration.host, Int32(configuration.port), Int32(configuration.keepAliveSeconds))
            }
            if rc.code == Mosquitto.code(MOSQ_ERR_INVAL) || rc.code == Mosquitto.code(MOSQ_ERR_NOMEM) {
                throw MQTTError.library(rc.code, errno: rc.errno)
            }
            if rc.code == Mosquitto.success {
                try startNetworkThread(&life)
                logger.info("MQTT client started", metadata: startMetadata())
            } else {
                life = .connecting
                let reason = connectFailureReason(rc)
                logger.warning("MQTT broker not reachable yet; retrying in the background",
                               metadata: startMetadata().merging(["mqtt.reason": "\(reason)"]) { $1 })
                emit(.connectionFailed(reason: reason))
                scheduleConnectRetry(attempt: 1)
            }
        }
    }

    private func startMetadata() -> Logger.Metadata {
        var metadata: Logger.Metadata = ["mqtt.tls": "\(configuration.tls != nil)"]
        if let username = configuration.username { metadata["mqtt.username"] = "\(username)" }
        return metadata
    }

    /// Under `lifecycle`: `mosquitto_loop_start`.
    private func startNetworkThread(_ life: inout Lifecycle) throws(MQTTError) {
        let started = mosquitto_loop_start(handle.pointer)
        guard started == Mosquitto.success else { throw MQTTError.library(started) }
        life = .running
    }

    /// The outcome of one of our own connect calls: code, errno, and the error libmosquitto
    /// logged meanwhile (TLS details).
    struct Attempt {
        var code: Int32
        var errno: Int32
        var detail: String?
    }

    /// Calls libmosquitto's connect on this thread, marking it so that errors it logs meanwhile
    /// are reported once, with the outcome, rather than as events of their own.
    private func ownAttempt(_ body: () -> Int32) -> Attempt {
        state.withLock { $0.ownAttempt = true }
        let code = body()
        let savedErrno = errno
        let detail = state.withLock { s in
            s.ownAttempt = false
            defer { s.lastLibraryError = nil }
            return s.lastLibraryError
        }
        return Attempt(code: code, errno: savedErrno, detail: detail)
    }

    private func connectFailureReason(_ attempt: Attempt) -> String {
        let reason = Mosquitto.describe(attempt.code, errno: attempt.errno)
        return attempt.detail.map { "\(reason) (\($0))" } ?? reason
    }

    /// The delay before retry `attempt` (1, 2, …): minimum × attempt², at most the maximum, like
    /// libmosquitto's "exponential" backoff.
    private func backoff(attempt: Int) -> Int {
        let minimum = configuration.reconnectMinimumSeconds
        let grown = attempt < 1000 ? minimum * attempt * attempt : Int.max
        return min(grown, configuration.reconnectMaximumSeconds)
    }

    private func scheduleConnectRetry(attempt: Int) {
        let delay = backoff(attempt: attempt)
        Task.detached { [self] in
            try? await Task.sleep(for: .seconds(delay))
            retryConnect(attempt: attempt)
        }
    }

    private func retryConnect(attempt: Int) {
        lifecycle.withLock { life in
            guard life == .connecting else { return }
            let rc = ownAttempt { mosquitto_reconnect_async(handle.pointer) }
            guard rc.code == Mosquitto.success else {
                let reason = connectFailureReason(rc)
                logger.debug("MQTT connection attempt failed", metadata: ["mqtt.reason": "\(reason)", "mqtt.attempt": "\(attempt)"])
                emit(.connectionFailed(reason: reason))
                scheduleConnectRetry(attempt: attempt + 1)
                return
            }
            do throws(MQTTError) {
                try startNetworkThread(&life)
            } catch {
                logger.error("MQTT network thread could not be started", metadata: ["mqtt.reason": "\(error)"])
                scheduleConnectRetry(attempt: attempt + 1)
            }
        }
    }

    /// After an unrequested disconnect on thread `threadID`: if libmosquitto let that thread end,
    /// start a new one. Checked twice, since the thread ends just after its callback returns.
    private func superviseNetworkThread(_ threadID: Int32) {
        Task.detached { [self] in
            for delay in [Duration.milliseconds(200), .seconds(2)] {
                try? await Task.sleep(for: delay)
                guard replaceEndedNetworkThread(threadID) else { return }
            }
        }
    }

    /// Returns whether to keep watching `threadID`.
    private func replaceEndedNetworkThread(_ threadID: Int32) -> Bool {
        lifecycle.withLock { life in
            guard life == .running, threadID != 0, state.withLock({ $0.networkThreadID == threadID }) else { return false }
            guard !NetworkThread.exists(threadID) else { return true }
            logger.warning("libmosquitto's network thread ended after the connection error; starting a new one")
            // Joins the ended thread and resets libmosquitto's thread state. The handle is not
            // "new" any more, so the new thread goes straight to reconnecting.
            mosquitto_loop_stop(handle.pointer, true)
            // Other supervisors of the ended thread must not act again (a second loop_stop
            // would cancel the new thread mid-connect).
            state.withLock { $0.networkThreadID = 0 }
            do throws(MQTTError) {
                try startNetworkThread(&life)
            } catch {
                life = .connecting
                logger.error("MQTT network thread could not be restarted", metadata: ["mqtt.reason": "\(error)"])
                scheduleConnectRetry(attempt: 1)
            }
            return false
        }
    }

    /// Clean DISCONNECT when connected (the broker then discards the will), then the network
    /// thread is stopped, the handle destroyed, waiters fail with `.connectionLost` and the
    /// streams finish. Idempotent.
    func stop() {
        let transitioned = lifecycle.withLock { life -> Bool in
            switch life {
            case .stopped:
                return false
            case .idle, .connecting:
                life = .stopped
            case .running:
                life = .stopped
                let pointer = handle.pointer
                if state.withLock({ $0.connected }) {
                    let rc = mosquitto_disconnect(pointer)
                    if rc == Mosquitto.success {
                        // The network thread writes DISCONNECT, then calls on_disconnect(0).
                        let deadline = ContinuousClock.now + .seconds(2)
                        while state.withLock({ $0.connected }) && ContinuousClock.now < deadline { usleep(1000) }
                    }
                }
                // force: the thread may sleep in its reconnect backoff (up to the maximum delay)
                // or block in a connect; our callbacks run with cancellation disabled.
                mosquitto_loop_stop(pointer, true)
            }
            // No libmosquitto call may start from now on; wait for the ones in progress (short,
            // non-blocking calls) before destroying the handle.
            state.withLock { $0.handleDestroyed = true }
            while state.withLock({ $0.activeCalls > 0 }) { sched_yield() }
            mosquitto_destroy(handle.pointer)
            return true
        }
        guard transitioned else { return }
        let (resume, listeners, wasConnected) = state.withLock { s in
            let wasConnected = s.connected
            s.stopped = true
            s.connected = false
            s.generation += 1
            let listeners = Array(s.eventListeners.values)
            s.eventListeners.removeAll()
            return (s.inFlight.reset(error: .connectionLost), listeners, wasConnected)
        }
        for (waiter, result) in resume { waiter.resume(returning: result) }
        if wasConnected {
            for listener in listeners { listener.yield(.disconnected(reason: "client stopped")) }
        }
        for listener in listeners { listener.finish() }
        messageContinuation.finish()
        logger.info("MQTT client stopped")
    }

    /// Runs `body` with the handle unless it is (being) destroyed.
    private func withHandle<T>(_ body: (OpaquePointer) -> T) -> T? {
        let usable = state.withLock { s -> Bool in
            guard !s.handleDestroyed else { return false }
            s.activeCalls += 1
            return true
        }
        guard usable else { return nil }
        defer { state.withLock { $0.activeCalls -= 1 } }
        return body(handle.pointer)
    }

    // MARK: Publishing

    func publish(_ message: MQTTMessage) async throws(MQTTError) {
        do throws(MQTTError) {
            try await publishUncounted(message)
        } catch {
            state.withLock { $0.statistics.publishFailures += 1 }
            throw error
        }
    }

    private func publishUncounted(_ message: MQTTMessage) async throws(MQTTError) {
        if let problem = TopicRules.problem(withTopic: message.topic) {
            throw .invalidArgument("topic '\(message.topic)': \(problem)")
        }
        guard (0...1).contains(message.qos) else { throw .invalidArgument("qos \(message.qos) is not 0 or 1") }
        guard message.payload.count <= TopicRules.maximumPayload else {
            throw .invalidArgument("payload of \(message.payload.count) bytes is too large")
        }

        try await acquireSlot()
        // Admit only while connected, and remember in which connection: libmosquitto would queue
        // a QoS 1 message without bound while offline.
        let generation = state.withLock { s -> UInt64? in s.connected && !s.stopped ? s.generation : nil }
        guard let generation else {
            releaseSlot()
            throw .notConnected
        }
        var mid: Int32 = 0
        let rc = withHandle { pointer in
            message.payload.withUnsafeBytes { bytes in
                mosquitto_publish(pointer, &mid, message.topic, Int32(bytes.count), bytes.baseAddress,
                                  Int32(message.qos), message.retain)
            }
        }
        guard let rc else {
            releaseSlot()
            throw .notConnected
        }
        guard rc == Mosquitto.success else {
            let error = MQTTError.library(rc)
            releaseSlot()
            throw error
        }
        let messageID = mid
        if message.qos == 0 {
            // Handed over. The slot stays taken until libmosquitto has written it (on_publish).
            let resume = state.withLock { s -> [InFlightTracker<Waiter>.Resumption] in
                guard !s.stopped else { return s.inFlight.release() }
                s.statistics.published += 1
                return s.inFlight.register(mid: messageID, waiter: nil, volatile: true).resume
            }
            resumeAll(resume)
            return
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                let (now, resume) = state.withLock { s -> (Result<Void, MQTTError>?, [InFlightTracker<Waiter>.Resumption]) in
                    if s.stopped { return (.failure(.connectionLost), s.inFlight.release()) }
                    if s.generation != generation || Task.isCancelled {
                        // Dropped since admission (libmosquitto keeps it and resends it after
                        // reconnecting) or given up: an orphan that keeps its slot until its PUBACK.
                        let registered = s.inFlight.register(mid: messageID, waiter: nil)
                        if registered.acknowledged {
                            s.statistics.published += 1
                            return (.success(()), registered.resume)
                        }
                        return (.failure(s.generation != generation ? .connectionLost : .cancelled), registered.resume)
                    }
                    let registered = s.inFlight.register(mid: messageID, waiter: continuation)
                    if registered.acknowledged {
                        s.statistics.published += 1
                        return (.success(()), registered.resume)
                    }
                    return (nil, registered.resume)
                }
                resumeAll(resume)
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.inFlight.abandon(mid: messageID) }?.resume(returning: .failure(.cancelled))
        }
        try result.get()
    }

    /// Waits for a free in-flight slot; fails at once when offline.
    private func acquireSlot() async throws(MQTTError) {
        let fast = state.withLock { s -> Result<Void, MQTTError>? in
            guard s.connected, !s.stopped else { return .failure(.notConnected) }
            if s.inFlight.tryReserve() { return .success(()) }
            return nil
        }
        if let fast { return try fast.get() }
        let ticket = state.withLock { s in
            s.nextTicket += 1
            return s.nextTicket
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                let now = state.withLock { s -> Result<Void, MQTTError>? in
                    guard s.connected, !s.stopped else { return .failure(.notConnected) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    if s.inFlight.tryReserve() { return .success(()) }
                    s.inFlight.enqueue(ticket: ticket, waiter: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.inFlight.dequeue(ticket: ticket) }?.resume(returning: .failure(.cancelled))
        }
        try result.get()
    }

    private func releaseSlot() {
        resumeAll(state.withLock { $0.inFlight.release() })
    }

    private func resumeAll(_ resume: [InFlightTracker<Waiter>.Resumption]) {
        for (waiter, result) in resume { waiter.resume(returning: result) }
    }

    // MARK: Subscriptions

    func subscribe(_ filter: String, qos: Int) throws(MQTTError) {
        guard !filter.isEmpty, filter.utf8.count <= 65535, mosquitto_sub_topic_check(filter) == Mosquitto.success else {
            throw .invalidArgument("'\(filter)' is not a valid topic filter")
        }
        guard (0...1).contains(qos) else { throw .invalidArgument("qos \(qos) is not 0 or 1") }
        let connected = try state.withLock { (s) throws(MQTTError) -> Bool in
            guard !s.stopped else { throw .stopped }
            if let index = s.subscriptions.firstIndex(where: { $0.filter == filter }) {
                s.subscriptions[index].qos = qos
            } else {
                s.subscriptions.append((filter, qos))
            }
            s.acknowledgedFilters.remove(filter)
            s.refusedFilters.remove(filter)
            return s.connected
        }
        // Otherwise on_connect subscribes it: it reads the list under the same lock that set
        // `connected`, so a filter added concurrently is sent by one side or both (harmless).
        if connected { sendSubscribe(filter, qos: qos, pointer: nil) }
    }

    /// SUBSCRIBE for one filter; `pointer` is the callback's handle on the network thread.
    private func sendSubscribe(_ filter: String, qos: Int, pointer: OpaquePointer?) {
        var mid: Int32 = 0
        let rc: Int32?
        if let pointer {
            rc = mosquitto_subscribe(pointer, &mid, filter, Int32(qos))
        } else {
            rc = withHandle { mosquitto_subscribe($0, &mid, filter, Int32(qos)) }
        }
        guard let rc, rc == Mosquitto.success else {
            if let rc, rc != Mosquitto.noConnection {
                logger.warning("MQTT subscribe failed", metadata: ["mqtt.filter": "\(filter)", "mqtt.reason": "\(Mosquitto.describe(rc))"])
            }
            return  // subscribed again on the next connect
        }
        let messageID = mid
        let refused = state.withLock { s -> Bool? in
            if let index = s.earlySubscribeAcks.firstIndex(where: { $0.mid == messageID }) {
                let granted = s.earlySubscribeAcks.remove(at: index).granted
                Self.record(filter: filter, granted: granted, in: &s)
                return !granted
            }
            s.pendingSubscribes[messageID] = filter
            return nil
        }
        if refused == true { logSubscriptionRefused(filter) }
    }

    private static func record(filter: String, granted: Bool, in s: inout State) {
        if granted { s.acknowledgedFilters.insert(filter) } else { s.refusedFilters.insert(filter) }
    }

    private func logSubscriptionRefused(_ filter: String) {
        logger.error("MQTT broker refused the subscription", metadata: ["mqtt.filter": "\(filter)"])
    }

    /// Whether every remembered filter has its SUBACK on the current connection; throws for a
    /// refused one.
    func subscriptionsAcknowledged() throws(MQTTError) -> Bool {
        try state.withLock { (s) throws(MQTTError) -> Bool in
            if let refused = s.refusedFilters.first { throw .subscriptionRefused(refused) }
            return s.connected && s.subscriptions.allSatisfy { s.acknowledgedFilters.contains($0.filter) }
        }
    }

    // MARK: Events

    func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTConnectionEvent.self, bufferingPolicy: .bufferingNewest(16))
        let id = state.withLock { s in
            s.nextTicket += 1
            return s.nextTicket
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.eventListeners.removeValue(forKey: id) }
        }
        let outcome = state.withLock { s -> Bool? in
            guard !s.stopped else { return nil }
            s.eventListeners[id] = continuation
            return s.connected
        }
        switch outcome {
        case nil: continuation.finish()
        case true?: continuation.yield(.connected)
        case false?: break
        }
        return stream
    }

    private func emit(_ event: MQTTConnectionEvent) {
        let listeners = state.withLock { Array($0.eventListeners.values) }
        for listener in listeners { listener.yield(event) }
    }

    // MARK: Callbacks (libmosquitto's network thread)

    func handleConnect(_ pointer: OpaquePointer?, code: Int32) {
        guard code == 0 else {
            // Reported by the on_disconnect that follows.
            let reason = String(cString: mosquitto_connack_string(code))
            state.withLock { $0.refusal = reason }
            return
        }
        // The birth is queued before the client counts as connected: a stop() right after
        // `isConnected` turns true then queues its DISCONNECT behind the birth, not before it.
        // Allowed from a callback; queued like any publish, its PUBACK has no waiter.
        if let birth = configuration.birth, let pointer {
            let rc = birth.payload.withUnsafeBytes { bytes in
                mosquitto_publish(pointer, nil, birth.topic, Int32(bytes.count), bytes.baseAddress, Int32(birth.qos), birth.retain)
            }
            if rc != Mosquitto.success {
                logger.warning("MQTT birth message not published", metadata: ["mqtt.topic": "\(birth.topic)", "mqtt.reason": "\(Mosquitto.describe(rc))"])
            }
        }
        let subscriptions = state.withLock { s in
            s.connected = true
            s.statistics.connects += 1
            s.refusal = nil
            s.lastLibraryError = nil
            s.acknowledgedFilters.removeAll()
            s.refusedFilters.removeAll()
            s.pendingSubscribes.removeAll()
            s.earlySubscribeAcks.removeAll()
            return s.subscriptions
        }
        logger.info("MQTT connected")
        for subscription in subscriptions {
            sendSubscribe(subscription.filter, qos: subscription.qos, pointer: pointer)
        }
        emit(.connected)
    }

    func handleDisconnect(code: Int32, errno savedErrno: Int32) {
        let requested = code == 0
        let threadID = NetworkThread.currentID()
        let (wasConnected, reason, resume, stopped) = state.withLock { s in
            s.networkThreadID = threadID
            let wasConnected = s.connected
            var reason = requested ? "client disconnected" : Mosquitto.describe(code, errno: savedErrno)
            if !requested {
                if let refusal = s.refusal {
                    reason = refusal
                } else if let detail = s.lastLibraryError {
                    reason += " (\(detail))"
                }
            }
            s.connected = false
            s.refusal = nil
            s.lastLibraryError = nil
            if wasConnected {
                s.generation += 1
                s.statistics.disconnects += 1
            }
            s.acknowledgedFilters.removeAll()
            s.pendingSubscribes.removeAll()
            s.earlySubscribeAcks.removeAll()
            return (wasConnected, reason, s.inFlight.connectionLost(), s.stopped)
        }
        resumeAll(resume)
        let metadata: Logger.Metadata = ["mqtt.reason": "\(reason)", "mqtt.rc": "\(code)"]
        if requested {
            logger.info("MQTT disconnected", metadata: metadata)
        } else if wasConnected {
            logger.warning("MQTT connection lost", metadata: metadata)
        } else {
            logger.warning("MQTT connection attempt failed", metadata: metadata)
        }
        emit(wasConnected ? .disconnected(reason: reason) : .connectionFailed(reason: reason))
        if !requested && !stopped { superviseNetworkThread(threadID) }
    }

    func handlePublish(mid: Int32) {
        let (completed, resume) = state.withLock { s in
            let acknowledged = s.inFlight.acknowledge(mid: mid)
            if acknowledged.completed != nil { s.statistics.published += 1 }
            return acknowledged
        }
        completed?.resume(returning: .success(()))
        resumeAll(resume)
    }

    func handleMessage(_ message: UnsafePointer<mosquitto_message>?) {
        // Copy everything out now: libmosquitto frees the message when the callback returns.
        guard let message = message?.pointee, let topic = message.topic else { return }
        var payload: [UInt8] = []
        if let bytes = message.payload, message.payloadlen > 0 {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
        }
        let copy = MQTTMessage(topic: String(cString: topic), payload: payload, qos: Int(message.qos), retain: message.retain)
        let dropped: Bool
        if let messageSink {
            dropped = !messageSink.receive(copy)
        } else {
            switch messageContinuation.yield(copy) {
            case .enqueued: dropped = false
            case .dropped, .terminated: dropped = true
            @unknown default: dropped = true
            }
        }
        state.withLock { s in
            s.statistics.received += 1
            if dropped { s.statistics.droppedIncoming += 1 }
        }
    }

    func handleSubscribe(mid: Int32, count: Int32, granted: UnsafePointer<Int32>?) {
        // One filter per SUBSCRIBE; 0x80 is a refusal.
        let isGranted = count >= 1 && granted.map { $0[0] != 0x80 } ?? false
        let refusedFilter = state.withLock { s -> String? in
            guard let filter = s.pendingSubscribes.removeValue(forKey: mid) else {
                s.earlySubscribeAcks.append((mid, isGranted))
                if s.earlySubscribeAcks.count > 64 { s.earlySubscribeAcks.removeFirst() }
                return nil
            }
            Self.record(filter: filter, granted: isGranted, in: &s)
            return isGranted ? nil : filter
        }
        if let refusedFilter { logSubscriptionRefused(refusedFilter) }
    }

    func handleLog(level: Int32, text: UnsafePointer<CChar>?) {
        guard let text else { return }
        if level & Int32(MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 {
            let line = String(String(cString: text).prefix(512))
            let failedAttempt = state.withLock { s in
                s.lastLibraryError = line
                return !s.connected && !s.ownAttempt && !s.stopped
            }
            if failedAttempt && level & Int32(MOSQ_LOG_ERR) != 0 {
                // How libmosquitto's own reconnect loop reports a failed TLS handshake: nothing
                // else (no callback) tells of it.
                logger.warning("MQTT connection attempt failed", metadata: ["mqtt.reason": "\(line)"])
                emit(.connectionFailed(reason: line))
            } else {
                logger.debug("libmosquitto: \(line)")
            }
        } else if logger.logLevel <= .trace {
            logger.trace("libmosquitto: \(String(cString: text))")
        }
    }
}
