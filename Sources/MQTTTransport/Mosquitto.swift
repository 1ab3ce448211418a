import CMosquitto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libmosquitto's process-wide parts and return codes.
enum Mosquitto {
    /// `mosquitto_lib_init()` exactly once per process: a `static let` is initialised lazily,
    /// once, thread-safely. `mosquitto_lib_cleanup()` is never called (clients may live until exit).
    static let initialisation: Int32 = mosquitto_lib_init()

    static let success = code(MOSQ_ERR_SUCCESS)
    static let noConnection = code(MOSQ_ERR_NO_CONN)
    static let errnoCode = code(MOSQ_ERR_ERRNO)

    static func code(_ error: mosq_err_t) -> Int32 { Int32(error.rawValue) }

    /// `mosquitto_strerror(code)`, which in 2.0.11 knows no words for a keepalive timeout.
    static func describe(_ code: Int32) -> String {
        if code == Self.code(MOSQ_ERR_KEEPALIVE) { return "Keepalive timeout: no answer from the broker." }
        return String(cString: mosquitto_strerror(code))
    }

    /// A return code (as also passed to `on_disconnect`) in words; `MOSQ_ERR_ERRNO` as `strerror`.
    static func describe(_ code: Int32, errno savedErrno: Int32) -> String {
        code == errnoCode ? String(cString: strerror(savedErrno)) : describe(code)
    }
}

/// libmosquitto's network thread, seen from outside.
enum NetworkThread {
    /// The kernel id of the calling thread.
    static func currentID() -> Int32 {
        #if os(Linux)
        gridledger_gettid()
        #else
        0
        #endif
    }

    /// Whether thread `id` of this process still exists (Linux: /proc/self/task/ID). Elsewhere
    /// always true: no supervision.
    static func exists(_ id: Int32) -> Bool {
        #if os(Linux)
        access("/proc/self/task/\(id)", F_OK) == 0
        #else
        true
        #endif
    }
}

/// The `struct mosquitto *` of one client.
///
/// `@unchecked Sendable` because a raw pointer is not `Sendable`, and this one is shared safely:
/// it never changes; in threaded mode (after `mosquitto_loop_start`) libmosquitto guards the state
/// used by `mosquitto_publish`, `mosquitto_subscribe` and `mosquitto_disconnect` with its own
/// mutexes, so those are called from any thread, and `ClientCore` only calls them while its
/// active-call count keeps the handle from being destroyed. The calls that are not thread-safe
/// (option setters, `mosquitto_connect_async`, `mosquitto_reconnect_async`, `mosquitto_loop_start`,
/// `mosquitto_loop_stop`, `mosquitto_destroy`) are made in `MQTTClient.init` before the handle is
/// shared, or under `ClientCore`'s lifecycle lock.
struct MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Runs a callback body on libmosquitto's network thread with the body's side effects on the
/// thread contained:
/// - thread cancellation is disabled meanwhile: `mosquitto_loop_stop(force: true)` cancels the
///   thread at its next cancellation point, and one inside Swift code (a write by a log handler)
///   could unwind while a lock of ours is held;
/// - `errno` is restored afterwards: `mosquitto_loop_forever` reads it after `on_disconnect` to
///   decide whether to keep reconnecting.
/// The body gets `errno` as it was when libmosquitto called back.
@inline(__always)
func onNetworkThread(_ body: (_ savedErrno: Int32) -> Void) {
    let savedErrno = errno
    var previousState: Int32 = 0
    pthread_setcancelstate(Int32(PTHREAD_CANCEL_DISABLE), &previousState)
    body(savedErrno)
    var ignored: Int32 = 0
    pthread_setcancelstate(previousState, &ignored)
    errno = savedErrno
}
