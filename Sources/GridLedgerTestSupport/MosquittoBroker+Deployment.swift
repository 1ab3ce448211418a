import Foundation
import Synchronization

extension MosquittoBroker {
    /// A mosquitto 2 running a configuration the test wrote itself, e.g. one derived from the
    /// shipped `deploy/mosquitto/mosquitto.conf`, instead of the one ``MosquittoBroker/start(tls:requireClientCertificate:passwordFile:port:)``
    /// generates. Stopped by ``stop()`` or, as a last resort, when released.
    ///
    /// Started as root, mosquitto drops to the `mosquitto` user before it reads the password and
    /// ACL files: everything the configuration names must be readable by that user (directories
    /// traversable).
    public final class Deployment: Sendable {
        public let port: Int
        public let configurationFile: String
        private let process: Mutex<ChildProcess?>
        private let earlierLog = Mutex("")

        fileprivate init(port: Int, configurationFile: String, process: ChildProcess) {
            self.port = port
            self.configurationFile = configurationFile
            self.process = Mutex(process)
        }

        /// mosquitto's output so far (configure `log_dest stderr` to see its log here).
        public var log: String {
            let current = process.withLock { $0 }
            return earlierLog.withLock { $0 } + (current.map { $0.standardOutput + $0.standardError } ?? "")
        }

        public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

        /// SIGTERM, and waits for the broker to exit (SIGKILL after 5 s). Idempotent.
        public func stop() async {
            guard let current = process.withLock({ $0.take() }) else { return }
            await current.stop()
            let output = current.standardOutput + current.standardError
            earlierLog.withLock { $0 += output }
        }
    }

    /// Starts `mosquitto -c configurationFile`, whose listener must be `127.0.0.1:port`, and
    /// returns once that port accepts TCP connections (at most 10 s). Throws with mosquitto's
    /// output when it exits or does not listen in time.
    public static func startDeployment(configurationFile: String, port: Int) async throws -> Deployment {
        // As in `launch()`: the Swift test runner blocks almost every signal and a child inherits
        // that mask, so perl clears it and execs mosquitto in its place (same pid), which then
        // obeys SIGTERM.
        let unblockAndExec = "use POSIX; sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die $!; exec @ARGV or die $!"
        let process = try ChildProcess(
            try TestEnvironment.tool("perl"), ["-e", unblockAndExec, try TestEnvironment.tool("mosquitto"), "-c", configurationFile])
        let deployment = Deployment(port: port, configurationFile: configurationFile, process: process)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if acceptsConnections(port: port) { return deployment }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let output = process.standardOutput + process.standardError
        await deployment.stop()
        throw TestSupportError("mosquitto -c \(configurationFile) did not listen on 127.0.0.1:\(port) within 10 s\n\(output)")
    }
}
