public import Foundation

/// Where things are when tests run: the repository, the built executables, the test peers.
public enum TestEnvironment {
    /// The repository root (this file is `Sources/GridLedgerTestSupport/TestEnvironment.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var profilesDirectory: URL { repositoryRoot.appendingPathComponent("firmware-profiles") }

    /// Built executables: `$GRIDLEDGER_BIN_DIR` (set by scripts/test.sh), else `.build/debug`.
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["GRIDLEDGER_BIN_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        return repositoryRoot.appendingPathComponent(".build/debug")
    }

    /// Path of a built executable; throws with a hint when it was not built.
    public static func executable(_ name: String) throws -> String {
        let path = binDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("\(path) is missing: run `swift build` first (scripts/test.sh does)")
        }
        return path
    }

    /// The Python with pymodbus: `$GRIDLEDGER_PEER_PYTHON`, else `.venv-peers/bin/python`.
    public static func peerPython() throws -> String {
        let path = ProcessInfo.processInfo.environment["GRIDLEDGER_PEER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? repositoryRoot.appendingPathComponent(".venv-peers/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("\(path) is missing: run scripts/setup.sh to create the pymodbus venv")
        }
        return path
    }

    /// A system tool (socat, mbpoll, mosquitto) on PATH.
    public static func tool(_ name: String) throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestSupportError("\(name) is not installed: run scripts/setup.sh")
    }
}

/// A temporary directory removed when the value is deinitialised.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init(prefix: String = "gridledger-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String {
        let path = self.path(name)
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
