import Foundation

/// A process started by a test, with its output captured. Always stopped: by `stop()`, or by
/// `deinit` as a last resort, so a failing test leaves no process behind.
public final class ChildProcess: Sendable {
    public let command: [String]
    private let process: Process
    /// Output goes to files, not pipes: Foundation's pipe readability handlers on Linux can
    /// miss output when many processes start at once, and files cannot fill up and block the child.
    private let outputDirectory: TemporaryDirectory
    private let stdinPipe: Pipe

    /// Starts `executable` with `arguments`. Standard input stays open (a pipe) so peers that
    /// exit on EOF outlive nothing but the test process.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        command = [executable] + arguments
        outputDirectory = try TemporaryDirectory(prefix: "child")
        _ = FileManager.default.createFile(atPath: outputDirectory.path("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: outputDirectory.path("stderr"), contents: nil)
        // Foundation's Process lists the parent's open descriptors and closes them in the child;
        // a descriptor another test thread closes in between makes the spawn fail with EBADF.
        // That race is Foundation's, not the child's: start again, a few times.
        var attempt = 0
        while true {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            process.standardOutput = try FileHandle(forWritingTo: outputDirectory.url.appendingPathComponent("stdout"))
            process.standardError = try FileHandle(forWritingTo: outputDirectory.url.appendingPathComponent("stderr"))
            let stdinPipe = Pipe()
            process.standardInput = stdinPipe
            do {
                try process.run()
                self.process = process
                self.stdinPipe = stdinPipe
                return
            } catch let error as NSError where attempt < 4 && Self.isBadDescriptor(error) {
                attempt += 1
            }
        }
    }

    private static func isBadDescriptor(_ error: NSError) -> Bool {
        if error.domain == NSPOSIXErrorDomain && error.code == Int(EBADF) { return true }
        return (error.userInfo[NSUnderlyingErrorKey] as? NSError).map(isBadDescriptor) ?? false
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    public var standardOutput: String { (try? String(contentsOfFile: outputDirectory.path("stdout"), encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: outputDirectory.path("stderr"), encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Waits (bounded) until standard output has a line starting with `prefix`; returns it.
    public func waitForLine(startingWith prefix: String, timeout: Duration = .seconds(15)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = standardOutput.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) { return String(line) }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("\(command.joined(separator: " ")) printed no line starting with '\(prefix)' (running: \(process.isRunning))\nstdout: \(standardOutput)\nstderr: \(standardError)")
    }

    /// Sends SIGTERM and waits for exit (SIGKILL after `grace`). Returns the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Waits (bounded) for the process to exit by itself.
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard !process.isRunning else {
            await stop()
            throw TestSupportError("\(command.joined(separator: " ")) did not exit within \(timeout)")
        }
        return process.terminationStatus
    }

    /// Runs a command to completion (bounded) and returns its exit status and output.
    public static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60), environment: [String: String]? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = try await child.waitForExit(timeout: timeout)
        return (status, child.standardOutput, child.standardError)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

