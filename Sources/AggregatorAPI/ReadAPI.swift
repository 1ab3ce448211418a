import Foundation
public import GridLedgerAggregator
public import GridLedgerCore
public import Hummingbird
public import LedgerStore
public import MeterPolling
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
public import Logging

/// The aggregator's HTTP read API (Hummingbird): block headers and the chain key for anyone;
/// meters, records and inclusion proofs for members by their own meters and for auditors and
/// operators by all; registry changes for operators. Routes and schemas: docs/openapi.yaml;
/// auth and tokens: docs/API.md.
///
/// `main` composes it into the aggregator's service group through ``extension(settings:logger:clock:boundPort:)``;
/// tests drive the same router in-process:
/// ```swift
/// let app = try ReadAPI.buildApplication(settings: .init(port: 0), store: store, engine: engine,
///                                    metrics: metrics, publicKey: key, tokens: tokens, logger: logger)
/// try await app.test(.router) { client in
///     try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
/// }
/// ```
public enum ReadAPI {
    /// Largest request body (a registry change is well under 1 KiB).
    public static let maximumBodyBytes = 16 * 1024
    /// Page sizes of `/v1/blocks` (`limit`).
    public static let defaultBlockPage = 50
    public static let maximumBlockPage = 500
    /// Page sizes of `/v1/meters/{meterId}/records` (`limit`).
    public static let defaultRecordPage = 100
    public static let maximumRecordPage = 1000
    /// Page sizes of `/v1/refusals` (`limit`).
    public static let defaultRefusalPage = 100
    public static let maximumRefusalPage = 1000

    /// The read API as an aggregator extension: loads the tokens file now (so a bad file stops
    /// the start with a clear error), and builds the HTTP application from the aggregator's parts.
    /// - Parameter boundPort: receives the port actually bound (useful with port 0).
    public static func `extension`(
        settings: AggregatorConfiguration.HTTPSettings, logger: Logger, clock: any WallClock = SystemWallClock(), boundPort: BoundPort? = nil
    ) throws -> AggregatorExtension {
        let tokens = try settings.tokensFile.map(APITokens.load(path:)) ?? APITokens()
        logger.info("read API tokens loaded", metadata: ["api.tokens": "\(tokens.count)", "api.tokens_file": "\(settings.tokensFile ?? "none")"])
        return { store, engine, metrics, publicKey in
            [try buildApplication(settings: settings, store: store, engine: engine, metrics: metrics, publicKey: publicKey, tokens: tokens,
                              clock: clock, logger: logger, boundPort: boundPort)]
        }
    }

    /// The HTTP application bound to `settings.host:settings.port`, a `Service`.
    public static func buildApplication(
        settings: AggregatorConfiguration.HTTPSettings, store: any LedgerStorage, engine: LedgerEngine, metrics: AggregatorMetrics,
        publicKey: [UInt8], tokens: APITokens, clock: any WallClock = SystemWallClock(), logger: Logger, boundPort: BoundPort? = nil
    ) throws -> Application<RouterResponder<APIRequestContext>> {
        let server: HTTPServerBuilder
        if let tls = settings.tls {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
                server = try .tls(.http1(), tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw ReadAPIStartupError("cannot load the read API's TLS certificate \(tls.certificateFile) or key \(tls.keyFile): \(error)")
            }
        } else {
            server = .http1()
        }
        let router = buildRouter(store: store, engine: engine, metrics: metrics, publicKey: publicKey, tokens: tokens, clock: clock)
        return Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.info("read API listening", metadata: ["http.host": "\(settings.host)", "http.port": "\(port)"])
                boundPort?.set(port)
            },
            logger: logger)
    }

    /// The router with every route of docs/openapi.yaml, behind the JSON error and the
    /// authentication middleware.
    public static func buildRouter(
        store: any LedgerStorage, engine: LedgerEngine, metrics: AggregatorMetrics, publicKey: [UInt8], tokens: APITokens,
        clock: any WallClock = SystemWallClock()
    ) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: AuthenticationMiddleware(tokens: tokens, registry: { engine.registry }))
        let routes = Routes(store: store, engine: engine, metrics: metrics, publicKey: publicKey, clock: clock)
        routes.register(on: router)
        return router
    }
}

/// The read API cannot start (its TLS files).
public struct ReadAPIStartupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
