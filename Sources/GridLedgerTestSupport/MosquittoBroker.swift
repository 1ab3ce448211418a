import Foundation
import Synchronization

/// A real mosquitto 2 broker on a loopback port, for MQTT tests. Stopped by ``stop()`` or, as a
/// last resort, when released (its ``ChildProcess`` terminates the broker in deinit).
///
/// ```swift
/// let broker = try await MosquittoBroker.start()
/// defer { Task { await broker.stop() } }   // or: await broker.stop() at the end of the test
/// var configuration = MQTTConfiguration(clientID: "test", port: broker.port)
/// ```
public final class MosquittoBroker: Sendable {
    public let port: Int
    /// The generated mosquitto.conf.
    public let configurationFile: String
    private let directory: TemporaryDirectory
    /// Kept alive as long as the broker uses its files.
    private let certificates: TestCertificates?
    private let current: Mutex<ChildProcess?>
    /// Output of the runs before the current one (see ``restart()``).
    private let earlierLog = Mutex("")

    private init(port: Int, directory: TemporaryDirectory, configurationFile: String, certificates: TestCertificates?) {
        self.port = port
        self.directory = directory
        self.configurationFile = configurationFile
        self.certificates = certificates
        current = Mutex(nil)
    }

    /// Writes a mosquitto.conf and starts `mosquitto -c` on `127.0.0.1:port` (a free port unless
    /// given); returns once the port accepts TCP connections (at most 10 s).
    /// - Parameters:
    ///   - tls: serve TLS with the server certificate of these test certificates.
    ///   - requireClientCertificate: with `tls`, refuse clients without a certificate signed by the CA.
    ///   - users: user name → password; anonymous clients are then refused.
    public static func start(
        tls: TestCertificates? = nil,
        requireClientCertificate: Bool = false,
        passwordFile users: [String: String]? = nil,
        port: Int? = nil
    ) async throws -> MosquittoBroker {
        let directory = try TemporaryDirectory(prefix: "mosquitto")
        let port = try port ?? freeLoopbackPort()
        var lines = [
            "listener \(port) 127.0.0.1",
            "persistence false",
            "log_dest stderr",
            "log_type all",
        ]
        if let tls {
            lines += ["cafile \(tls.caFile)", "certfile \(tls.serverCertificate)", "keyfile \(tls.serverKey)"]
            lines.append("require_certificate \(requireClientCertificate)")
        }
        if let users {
            let passwordFile = directory.path("passwords")
            let tool = try TestEnvironment.tool("mosquitto_passwd")
            for (index, (user, password)) in users.sorted(by: { $0.key < $1.key }).enumerated() {
                let arguments = ["-b"] + (index == 0 ? ["-c"] : []) + [passwordFile, user, password]
                let result = try await ChildProcess.run(tool, arguments, timeout: .seconds(10))
                guard result.status == 0 else {
                    throw TestSupportError("mosquitto_passwd failed (\(result.status)): \(result.stderr)")
                }
            }
            lines += ["allow_anonymous false", "password_file \(passwordFile)"]
        } else {
            lines.append("allow_anonymous true")
        }
        let configurationFile = try directory.write("mosquitto.conf", lines.joined(separator: "\n") + "\n")
        // Started as root, mosquitto drops to the `mosquitto` user: it must read these files.
        try makeReadable(directory.url)
        let broker = MosquittoBroker(port: port, directory: directory, configurationFile: configurationFile, certificates: tls)
        try await broker.launch()
        return broker
    }

    /// mosquitto's output (all runs), for diagnostics.
    public var log: String {
        let process = current.withLock { $0 }
        return earlierLog.withLock { $0 } + (process.map { $0.standardOutput + $0.standardError } ?? "")
    }

    public var isRunning: Bool { current.withLock { $0?.isRunning ?? false } }

    /// SIGTERM, and waits for the broker to exit. Idempotent.
    public func stop() async {
        guard let process = current.withLock({ $0.take() }) else { return }
        await process.stop()
        let output = process.standardOutput + process.standardError
        earlierLog.withLock { $0 += output }
    }

    /// SIGSTOP: the broker hangs (connections stay open, nothing is answered), as behind a
    /// stalled link. ``crash()`` and ``stop()`` work on a suspended broker.
    public func suspend() {
        current.withLock { process in
            if let process { kill(process.processIdentifier, SIGSTOP) }
        }
    }

    /// SIGCONT after ``suspend()``.
    public func resume() {
        current.withLock { process in
            if let process { kill(process.processIdentifier, SIGCONT) }
        }
    }

    /// SIGKILL, as in a crash or power loss: clients see their connections reset, with no
    /// TLS close_notify. Idempotent; ``restart()`` starts it again.
    public func crash() async {
        guard let process = current.withLock({ $0.take() }) else { return }
        kill(process.processIdentifier, SIGKILL)
        await process.stop()
        let output = process.standardOutput + process.standardError
        earlierLog.withLock { $0 += output }
    }

    /// Stops the broker (if running) and starts it again on the same port with the same
    /// configuration: an outage for reconnect tests. Retained messages do not survive it
    /// (`persistence false`).
    public func restart() async throws {
        await stop()
        try await launch()
    }

    private func launch() async throws {
        // A child inherits its parent's signal mask, and the Swift test runner blocks almost every
        // signal: mosquitto would ignore SIGTERM (until ChildProcess's SIGKILL). perl (Essential in
        // Debian) clears the mask and execs mosquitto in its place (same pid).
        let unblockAndExec = "use POSIX; sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die $!; exec @ARGV or die $!"
        let process = try ChildProcess(
            try TestEnvironment.tool("perl"), ["-e", unblockAndExec, try TestEnvironment.tool("mosquitto"), "-c", configurationFile])
        current.withLock { $0 = process }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if Self.acceptsConnections(port: port) { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        // A starved test process may wake up only after the deadline: look once more.
        if process.isRunning, Self.acceptsConnections(port: port) { return }
        let output = process.standardError
        await stop()
        throw TestSupportError("mosquitto did not listen on 127.0.0.1:\(port) within 10 s\n\(output)")
    }

    /// A port the kernel just handed out for 127.0.0.1 (bound, read, closed).
    public static func freeLoopbackPort() throws -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        defer { close(socketDescriptor) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("bind: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
        }
        guard named == 0 else { throw TestSupportError("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connect to 127.0.0.1:port succeeds now.
    static func acceptsConnections(port: Int) -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return false }
        defer { close(socketDescriptor) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
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
