public import Crypto
import Foundation

/// An Ed25519 signing key on disk: a gateway's, or the aggregator's.
///
/// The file holds a comment line and the 32-byte private seed in base64. It is created with mode
/// 0600 and never overwritten; loading refuses a file that group or others can read, as ssh does,
/// because a leaked key lets anyone sign readings (or blocks) in its owner's name.
public enum KeyFile {
    static let header = "# GridLedger signing key: Ed25519 private seed, base64. Secret: mode 0600."

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Creates a new key at `path`; fails if a file is already there.
    @discardableResult
    public static func generate(at path: String) throws -> Curve25519.Signing.PrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw Failure("cannot create \(directory): \(error.localizedDescription)")
            }
        }
        // O_EXCL: refuse to overwrite, even when another process creates the file at the same time.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw Failure("\(path) already exists: refusing to overwrite a key (move it away first if you really mean to replace it)") }
            throw Failure("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let text = "\(header)\n\(key.rawRepresentation.base64EncodedString())\n"
        let written = text.utf8CString.withUnsafeBufferPointer { buffer in write(fd, buffer.baseAddress, buffer.count - 1) }
        guard written == text.utf8.count, fsync(fd) == 0 else {
            unlink(path)
            throw Failure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }

    /// Loads the key at `path`, refusing a file readable by group or others.
    /// - Parameter creationHint: how to make a key, named in the error when there is none.
    public static func load(from path: String, creationHint: String = "gridledger-agent keygen") throws -> Curve25519.Signing.PrivateKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Failure("cannot read the key \(path): \(String(cString: strerror(errno))) (create one with `\(creationHint)`)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw Failure("\(path) is accessible by group or others (mode \(String(info.st_mode & 0o777, radix: 8))): run `chmod 600 \(path)`")
        }
        guard info.st_size < 4096, let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Failure("cannot read the key \(path)")
        }
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        guard lines.count == 1, let seed = Data(base64Encoded: String(lines[0])), seed.count == 32 else {
            throw Failure("\(path) is not a GridLedger signing key (expected one base64 line of 32 bytes)")
        }
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw Failure("\(path): \(error)")
        }
    }

    /// A short, stable name of a public key: `sha256:` and the first 16 hex digits of its hash.
    public static func fingerprint(_ key: Curve25519.Signing.PublicKey) -> String {
        "sha256:" + SHA256.hash(data: key.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
