import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A mosquitto broker of the replay's own: a generated configuration on a free loopback port
/// (anonymous access, reachable from this host only), no persistence, its log in the work
/// directory. Started with an empty signal mask whatever this process blocks, so SIGTERM stops it.
public final class LocalBroker: Sendable {
    public let port: Int
    public let logFile: String
    private let pid: pid_t

    private init(port: Int, logFile: String, pid: pid_t) {
        self.port = port
        self.logFile = logFile
        self.pid = pid
    }

    /// Starts `mosquitto` (found on `PATH`, or `executable`) and returns once it accepts TCP
    /// connections, at most 10 s; tries three free ports if one is taken in between.
    public static func start(directory: String, executable: String? = nil) async throws(ReplayError) -> LocalBroker {
        guard let program = executable ?? findOnPath("mosquitto") else {
            throw ReplayError("mosquitto is not installed (apt-get install mosquitto), or give its path with --mosquitto")
        }
        var lastFailure = ""
        for attempt in 1...3 {
            let port = try freeLoopbackPort()
            let configuration = "\(directory)/mosquitto.conf"
            let logFile = "\(directory)/mosquitto.log"
            let text = "listener \(port) 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nmax_queued_messages 100000\nlog_dest stderr\n"
            guard FileManager.default.createFile(atPath: configuration, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
                throw ReplayError("cannot write \(configuration)")
            }
            let pid = try spawn(program, ["-c", configuration], output: logFile)
            let broker = LocalBroker(port: port, logFile: logFile, pid: pid)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, broker.isRunning {
                if acceptsConnections(port: port) { return broker }
                try? await Task.sleep(for: .milliseconds(10))
            }
            lastFailure = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            broker.stop()
            if attempt == 3 { break }
        }
        throw ReplayError("mosquitto did not start listening on 127.0.0.1: \(lastFailure.split(separator: "\n").suffix(3).joined(separator: " / "))")
    }

    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// SIGTERM, then SIGKILL after 5 s; waits for the broker to exit. Idempotent.
    public func stop() {
        guard kill(pid, 0) == 0 else { return }
        kill(pid, SIGTERM)
        for _ in 0..<500 {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || result < 0 { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    deinit { stop() }

    private static func spawn(_ program: String, _ arguments: [String], output: String) throws(ReplayError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = posix_spawn(&pid, program, &actions, &attributes, argv, environ)
        guard result == 0 else { throw ReplayError("cannot start \(program): \(String(cString: strerror(result)))") }
        return pid
    }

    static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// A port the kernel just handed out for 127.0.0.1 (bound, read, closed).
    static func freeLoopbackPort() throws(ReplayError) -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ReplayError("socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0, named == 0 else { throw ReplayError("cannot find a free loopback port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func acceptsConnections(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
