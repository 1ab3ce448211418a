public import Hummingbird
import LedgerCore

/// The request context of the read API: Hummingbird's core storage plus who is calling, set by
/// the authentication middleware before any route runs.
public struct APIRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, parameters).
    public var coreContext: CoreRequestContextStorage
    var caller: Caller = .anonymous

    /// A context for one request, anonymous until the authentication middleware runs.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies the API decodes are small (a registry change): 16 KiB.
    public var maxUploadSize: Int { ReadAPI.maximumBodyBytes }
}

/// Who is calling, resolved for one request: the token's holder and, for a member, their role
/// in the registry as it is now.
enum Caller: Sendable, Hashable {
    case anonymous
    /// `memberID` is set for member tokens; `role` is nil for a member the registry does not know.
    case authenticated(name: String, memberID: String?, role: MemberRole?)

    /// Operators and auditors.
    var readsEverything: Bool { role?.readsEverything ?? false }

    var role: MemberRole? {
        if case .authenticated(_, _, let role) = self { return role }
        return nil
    }

    var memberID: String? {
        if case .authenticated(_, let memberID, _) = self { return memberID }
        return nil
    }

    /// The author of registry entries it makes.
    var name: String? {
        if case .authenticated(let name, _, _) = self { return name }
        return nil
    }

    /// 401 for anonymous callers.
    func requireAuthenticated() throws(APIError) {
        if case .anonymous = self { throw APIError.unauthenticated }
    }

    /// 401 for anonymous callers, 403 unless operator or auditor.
    func requireReadsEverything() throws(APIError) {
        try requireAuthenticated()
        guard readsEverything else { throw APIError.forbidden("only operators and auditors may read this") }
    }

    /// 401 for anonymous callers, 403 unless operator.
    func requireOperator() throws(APIError) {
        try requireAuthenticated()
        guard role == .operator else { throw APIError.forbidden("only operators may change the registry") }
    }

    /// Whether the caller may read `meter`'s records: operators and auditors all, members their own.
    func mayRead(_ meter: RegisteredMeter) -> Bool {
        readsEverything || (memberID != nil && meter.memberID == memberID)
    }
}

/// Resolves `Authorization: Bearer <token>` into the context's caller. No header: anonymous. A
/// header that is not a known bearer token: 401 on every route, so a mistyped token is noticed
/// instead of silently reading less. Tokens are never logged.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let tokens: APITokens
    /// The registry as it is now (member roles are looked up per request).
    let registry: @Sendable () -> Registry

    /// Longer headers are refused before hashing.
    static let maximumTokenLength = 512

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try caller(authorization: request.headers[values: .authorization])
        if let name = context.caller.name { context.logger[metadataKey: "api.caller"] = "\(name)" }
        return try await next(request, context)
    }

    func caller(authorization values: [String]) throws(APIError) -> Caller {
        guard let header = values.first else { return .anonymous }
        guard values.count == 1 else { throw APIError(.unauthorized, "more than one Authorization header") }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError(.unauthorized, "the Authorization header must be 'Bearer <token>'")
        }
        let token = parts[1].trimmingSpaces
        guard !token.isEmpty, token.utf8.count <= Self.maximumTokenLength, let holder = tokens.holder(of: String(token)) else {
            throw APIError(.unauthorized, "unknown or invalid bearer token")
        }
        switch holder {
        case .named(let name, let role):
            return .authenticated(name: name, memberID: nil, role: role)
        case .member(let id):
            return .authenticated(name: id, memberID: id, role: registry().members[id]?.role)
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
