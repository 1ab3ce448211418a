import Foundation
public import Hummingbird

/// An error the API answers with: a status and a reason for people, always sent as JSON
/// `{"error":{"status":404,"reason":"…"}}` (docs/openapi.yaml, `Error`).
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status of the response.
    public var status: HTTPResponse.Status
    /// What went wrong, for people (never a token, never a stack trace).
    public var reason: String

    /// An error answered with `status` and `reason`.
    public init(_ status: HTTPResponse.Status, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code) \(reason)" }

    static func badRequest(_ reason: String) -> APIError { APIError(.badRequest, reason) }
    static func notFound(_ reason: String) -> APIError { APIError(.notFound, reason) }
    static func forbidden(_ reason: String) -> APIError { APIError(.forbidden, reason) }
    static let unauthenticated = APIError(.unauthorized, "this resource needs a bearer token (Authorization: Bearer <token>)")

    /// The JSON body of an error response.
    struct Body: Codable, Sendable {
        struct Detail: Codable, Sendable {
            var status: Int
            var reason: String
        }

        var error: Detail
    }

    func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="gridledger""# }
        let data = (try? JSONEncoder.api.encode(Body(error: .init(status: status.code, reason: reason)))) ?? Data()
        headers[.contentLength] = String(data.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into a JSON error response: ``APIError``, Hummingbird's `HTTPError` (for
/// example the router's 404), other `HTTPResponseError`s (a body over the upload limit) and
/// decoding errors. Anything else is logged and answered with a bare 500: never HTML, never a
/// stack trace, never a crash.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as HTTPError {
            return APIError(error.status, error.body ?? Self.reason(error.status)).response()
        } catch let error as any HTTPResponseError {
            return APIError(error.status, Self.reason(error.status)).response()
        } catch let error as DecodingError {
            return APIError(.badRequest, "malformed JSON: \(error.readableDescription)").response()
        } catch {
            context.logger.error("request failed", metadata: [
                "http.method": "\(request.method.rawValue)", "http.path": "\(request.uri.path)", "error": "\(error)",
            ])
            return APIError(.internalServerError, "internal error (logged by the aggregator)").response()
        }
    }

    static func reason(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such resource"
        case .contentTooLarge: "the request body is too large"
        default: status.reasonPhrase.lowercased()
        }
    }
}

extension DecodingError {
    /// One line naming the field and what was wrong, without the Swift type dump.
    var readableDescription: String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "the body" : "'" + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch self {
        case .typeMismatch(_, let context): return "\(path(context.codingPath)): wrong type (\(context.debugDescription))"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)): value missing"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): required field missing"
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as NSError? {
                return "\(path(context.codingPath)): \(underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription)"
            }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}

extension JSONEncoder {
    /// Sorted keys and unescaped slashes: stable, readable output.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A JSON response with `status` (200 unless told).
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try JSONEncoder.api.encode(value)
    return Response(
        status: status,
        headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(data.count)],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
