import AggregatorAPI
import Foundation
import GridLedgerAggregator
import GridLedgerTestSupport
import HummingbirdTesting
import LedgerCore
import Logging
import ServiceLifecycle
import Testing

@Suite("Read API: tokens file")
struct TokensFileTests {
    static let opsHash = Hex.encode(APITokens.hash("ops-token"))
    static let aliceHash = Hex.encode(APITokens.hash("alice-token"))

    static let valid = """
        # API tokens: only hashes.
        - name: ops
          sha256: \(opsHash)
          role: operator
        - member: alice
          sha256: \(aliceHash)
        """

    func write(_ contents: String, mode: mode_t, in directory: TemporaryDirectory) throws -> String {
        let path = try directory.write("tokens.yaml", contents)
        #expect(chmod(path, mode) == 0)
        return path
    }

    @Test func loadsAPrivateFile() throws {
        let directory = try TemporaryDirectory()
        let tokens = try APITokens.load(path: try write(Self.valid, mode: 0o600, in: directory))
        #expect(tokens.count == 2)
        #expect(tokens.holder(of: "ops-token") == .named("ops", role: .operator))
        #expect(tokens.holder(of: "alice-token") == .member("alice"))
        #expect(tokens.holder(of: "alice-token ") == nil)
        #expect(tokens.holder(of: "") == nil)
        #expect(tokens.holder(of: Self.opsHash) == nil, "the hash itself is not a token")
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o666] as [mode_t])
    func refusesFilesOthersMayRead(_ mode: mode_t) throws {
        let directory = try TemporaryDirectory()
        let path = try write(Self.valid, mode: mode, in: directory)
        let error = try #require(throws: TokenFileError.self) { try APITokens.load(path: path) }
        #expect(error.file == path)
        #expect(error.description.contains("chmod 600"))
    }

    @Test func theExtensionRefusesToStartWithAnOpenTokensFile() throws {
        let directory = try TemporaryDirectory()
        let path = try write(Self.valid, mode: 0o644, in: directory)
        #expect(throws: TokenFileError.self) {
            _ = try ReadAPI.extension(settings: .init(port: 0, tokensFile: path), logger: Logger(label: "test"))
        }
        #expect(throws: TokenFileError.self) {
            _ = try ReadAPI.extension(settings: .init(port: 0, tokensFile: directory.path("missing.yaml")), logger: Logger(label: "test"))
        }
    }

    @Test(arguments: [
        ("ops: x", 1, "list of token entries"),
        ("- just a string", 1, "entry 1"),
        ("- name: ops\n  sha256: \(opsHash)\n", 1, "needs a role"),
        ("- name: ops\n  sha256: \(opsHash)\n  role: prosumer\n", 1, "operator or auditor"),
        ("- name: ops\n  sha256: \(opsHash)\n  role: operator\n  token: secret\n", 1, "unknown key"),
        ("- member: alice\n  sha256: \(aliceHash)\n  role: operator\n", 1, "unknown key"),
        ("- member: alice\n  sha256: abc\n", 1, "64 hex digits"),
        ("- member: alice\n", 1, "sha256 is missing"),
        ("- sha256: \(aliceHash)\n", 1, "either 'name'"),
        ("- member: al ice\n  sha256: \(aliceHash)\n", 1, "member 'al ice'"),
        ("- member: alice\n  sha256: \(aliceHash)\n- member: bob\n  sha256: \(aliceHash)\n", 3, "entry 2: the same sha256"),
        ("- member: [a, b]\n  sha256: \(aliceHash)\n", 1, "single value"),
        ("- member: alice\n  sha256: \"\(aliceHash)\n", nil, "not valid YAML"),
    ] as [(String, Int?, String)])
    func refusesMalformedEntries(_ yaml: String, _ line: Int?, _ reason: String) throws {
        let error = try #require(throws: TokenFileError.self) { try APITokens.parse(yaml: yaml, file: "/etc/gridledger/tokens.yaml") }
        #expect(error.file == "/etc/gridledger/tokens.yaml")
        if let line { #expect(error.line == line, "\(error)") }
        #expect(error.description.contains(reason), "\(error)")
        #expect(error.description.hasPrefix("/etc/gridledger/tokens.yaml"))
    }

    @Test func anEmptyFileHasNoTokens() throws {
        #expect(try APITokens.parse(yaml: "", file: "t.yaml").count == 0)
        #expect(try APITokens.parse(yaml: "# nothing yet\n", file: "t.yaml").count == 0)
    }

    /// The extension as `main` composes it: a real socket on port 0, with tokens from a file.
    @Test func extensionServesOverASocket() async throws {
        let fixture = try APIFixture()
        let directory = try TemporaryDirectory()
        let path = try write(Self.valid, mode: 0o600, in: directory)
        let boundPort = BoundPort()
        let makeServices = try ReadAPI.extension(
            settings: .init(host: "127.0.0.1", port: 0, tokensFile: path), logger: Logger(label: "test"), boundPort: boundPort)
        let services = try makeServices(fixture.store, fixture.engine, fixture.metrics, APIFixture.raw(APIFixture.aggregatorKey))
        #expect(services.count == 1)
        let group = ServiceGroup(services: services, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let port = try await waitForPort(boundPort)
                #expect(port > 0)
                try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                    let health = try await client.get("/health")
                    #expect(health.status == .ok)
                    #expect(String(buffer: health.body ?? .init()).contains(#""status":"ok""#))
                    let anonymous = try await client.get("/v1/meters")
                    #expect(anonymous.status == .unauthorized)
                    let alice = try await client.get("/v1/meters", headers: [.authorization: "Bearer alice-token"])
                    #expect(alice.status == .ok)
                    #expect(String(buffer: alice.body ?? .init()).contains(APIFixture.m2))
                }
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// HTTPS with the configured certificate: curl trusting the test CA reads health; curl
    /// without it refuses the connection; plain HTTP on the same port gets no answer.
    @Test(.enabled(if: (try? TestEnvironment.tool("curl")) != nil, "curl is not installed"))
    func extensionServesHTTPS() async throws {
        let fixture = try APIFixture()
        let certificates = try await TestCertificates.generate()
        let boundPort = BoundPort()
        let settings = AggregatorConfiguration.HTTPSettings(
            host: "127.0.0.1", port: 0, tls: .init(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey))
        let makeServices = try ReadAPI.extension(settings: settings, logger: Logger(label: "test"), boundPort: boundPort)
        let group = ServiceGroup(services: try makeServices(fixture.store, fixture.engine, fixture.metrics, APIFixture.raw(APIFixture.aggregatorKey)),
                                 logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let port = try await waitForPort(boundPort)
                let curl = try TestEnvironment.tool("curl")
                let trusted = try await ChildProcess.run(curl, ["-sS", "--max-time", "10", "--cacert", certificates.caFile, "https://127.0.0.1:\(port)/health"])
                #expect(trusted.status == 0 && trusted.stdout.contains(#""status":"ok""#), "\(trusted.stdout)\(trusted.stderr)")
                let untrusted = try await ChildProcess.run(curl, ["-sS", "--max-time", "10", "--cacert", certificates.otherCAFile, "https://127.0.0.1:\(port)/health"])
                #expect(untrusted.status != 0)
                let plain = try await ChildProcess.run(curl, ["-sS", "--max-time", "5", "http://127.0.0.1:\(port)/health"])
                #expect(plain.status != 0 && !plain.stdout.contains("status"))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// A missing certificate stops the start with a message naming the file.
    @Test func missingCertificateIsAClearError() throws {
        let fixture = try APIFixture()
        let settings = AggregatorConfiguration.HTTPSettings(host: "127.0.0.1", port: 0, tls: .init(certificateFile: "/nonexistent/cert.pem", keyFile: "/nonexistent/key.pem"))
        let makeServices = try ReadAPI.extension(settings: settings, logger: Logger(label: "test"))
        #expect {
            _ = try makeServices(fixture.store, fixture.engine, fixture.metrics, APIFixture.raw(APIFixture.aggregatorKey))
        } throws: { error in
            "\(error)".contains("/nonexistent/cert.pem")
        }
    }

    struct NotListening: Error {}

    /// The bound port once the server listens (at most 10 s).
    func waitForPort(_ boundPort: BoundPort) async throws -> Int {
        for _ in 0..<1000 {
            if let port = boundPort.current { return port }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw NotListening()
    }
}
