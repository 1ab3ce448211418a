import Synchronization

/// The port the server actually bound, for callers that asked for port 0 (tests): the server
/// sets it once it listens, ``value()`` waits for it.
public final class BoundPort: Sendable {
    private let state = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    /// A port not yet bound.
    public init() {}

    func set(_ port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The bound port, nil until the server listens.
    public var current: Int? { state.withLock { $0.port } }

    /// The bound port, waiting until the server listens.
    public func value() async -> Int {
        await withCheckedContinuation { continuation in
            let port: Int? = state.withLock { state in
                if let port = state.port { return port }
                state.waiters.append(continuation)
                return nil
            }
            if let port { continuation.resume(returning: port) }
        }
    }
}
