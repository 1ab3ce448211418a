import Foundation

/// A throwaway PKI made with the `openssl` CLI for TLS tests: a CA, a server certificate for
/// `localhost` / `127.0.0.1`, a client certificate (CN=test-gateway) signed by the CA, and a second,
/// unrelated CA. EC P-256 keys (fast). Files are world-readable (0644, directory 0755) so a
/// mosquitto started as root, which drops to the `mosquitto` user, can read them: test keys only.
public final class TestCertificates: Sendable {
    public let caFile: String
    public let serverCertificate: String
    public let serverKey: String
    public let clientCertificate: String
    public let clientKey: String
    /// A CA that signed nothing here: trusting only it must fail against our broker.
    public let otherCAFile: String
    public var directory: String { storage.url.path }
    private let storage: TemporaryDirectory

    private init(storage: TemporaryDirectory) {
        self.storage = storage
        caFile = storage.path("ca.crt")
        serverCertificate = storage.path("server.crt")
        serverKey = storage.path("server.key")
        clientCertificate = storage.path("client.crt")
        clientKey = storage.path("client.key")
        otherCAFile = storage.path("other-ca.crt")
    }

    public static func generate() async throws -> TestCertificates {
        let certificates = try TestCertificates(storage: TemporaryDirectory(prefix: "test-pki"))
        try await certificates.make()
        return certificates
    }

    private func make() async throws {
        let openssl = try TestEnvironment.tool("openssl")
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        func run(_ arguments: [String]) async throws {
            let result = try await ChildProcess.run(openssl, arguments, timeout: .seconds(20))
            guard result.status == 0 else {
                throw TestSupportError("openssl \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
            }
        }
        func selfSignedCA(_ name: String, _ subject: String) async throws {
            try await run(["req", "-x509"] + curve + [
                "-keyout", storage.path("\(name).key"), "-out", storage.path("\(name).crt"), "-days", "2",
                "-subj", subject,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        func signed(_ name: String, _ subject: String, extensions: String) async throws {
            try await run(["req"] + curve + [
                "-keyout", storage.path("\(name).key"), "-out", storage.path("\(name).csr"), "-subj", subject,
            ])
            let extensionFile = try storage.write("\(name).ext", extensions)
            try await run([
                "x509", "-req", "-in", storage.path("\(name).csr"), "-CA", caFile, "-CAkey", storage.path("ca.key"),
                "-set_serial", "0x\(String(UInt64.random(in: 1...UInt64.max), radix: 16))",
                "-days", "2", "-sha256", "-extfile", extensionFile, "-out", storage.path("\(name).crt"),
            ])
        }
        try await selfSignedCA("ca", "/CN=GridLedger Test CA")
        try await selfSignedCA("other-ca", "/CN=Unrelated Test CA")
        try await signed("server", "/CN=localhost", extensions: """
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            subjectAltName=DNS:localhost,IP:127.0.0.1

            """)
        try await signed("client", "/CN=test-gateway", extensions: """
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=clientAuth

            """)
        try makeReadable(storage.url)
    }
}

/// Makes a test directory 0755 and its files 0644, for a broker that runs as another user.
func makeReadable(_ directory: URL) throws {
    let manager = FileManager.default
    try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
    for name in try manager.contentsOfDirectory(atPath: directory.path) {
        try manager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.appendingPathComponent(name).path)
    }
}
