import AggregatorAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerCore
import Testing
import Yams

/// docs/openapi.yaml against the real router: the same routes both ways, and real responses
/// (successes and errors) conform to the schema documented for their status.
@Suite("Read API: OpenAPI document")
struct OpenAPITests {
    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    static func document() throws -> [String: Any] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "docs/openapi.yaml is not a mapping")
    }

    static func operations(_ document: [String: Any]) throws -> [String: [String: Any]] {
        let paths = try #require(document["paths"] as? [String: Any])
        var operations: [String: [String: Any]] = [:]
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "\(path)")
            for (method, operation) in item where methods.contains(method) {
                operations["\(method.uppercased()) \(path)"] = try #require(operation as? [String: Any])
            }
        }
        return operations
    }

    @Test func documentIsOpenAPI3() throws {
        let document = try Self.document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
        let schemes = (document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]
        let bearer = schemes?["bearerAuth"] as? [String: Any]
        #expect(bearer?["type"] as? String == "http")
        #expect(bearer?["scheme"] as? String == "bearer")
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let fixture = try APIFixture()
        let router = ReadAPI.buildRouter(
            store: fixture.store, engine: fixture.engine, metrics: fixture.metrics, publicKey: APIFixture.raw(APIFixture.aggregatorKey),
            tokens: APIFixture.tokens)
        let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let operations = try Self.operations(try Self.document())
        let documented = Set(operations.keys)
        #expect(registered.subtracting(documented).isEmpty, "routes missing from docs/openapi.yaml: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented routes the router lacks: \(documented.subtracting(registered).sorted())")
        #expect(registered.count == 14)

        // Every path template's parameters are declared as path parameters, and every operation answers errors as Error.
        let checker = SchemaChecker(document: try Self.document())
        for (key, operation) in operations {
            let template = String(key.split(separator: " ")[1])
            let names = template.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            let declared = (operation["parameters"] as? [Any] ?? []).compactMap { checker.resolve($0 as? [String: Any] ?? [:]) }
                .filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String }
            #expect(Set(names) == Set(declared), "\(key): path parameters \(names) declared as \(declared)")
            let responses = try #require(operation["responses"] as? [String: Any], "\(key)")
            #expect(responses["401"] != nil, "\(key) does not document 401")
            #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(key) documents no success")
        }
    }

    struct Sample: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method = .get
        var route: String
        var uri: String
        var token: String?
        var body: String?

        var description: String { "\(method.rawValue) \(uri) [\(token?.prefix(5) ?? "anonymous")]" }
    }

    static func samples(blockHash: String) -> [Sample] {
        let m1 = APIFixture.m1
        let hash = "by-hash/\(blockHash)"
        let invoice = "/v1/members/{memberId}/invoices/{period}"
        return [
            Sample(route: "/health", uri: "/health"),
            Sample(route: "/health", uri: "/health", token: "wrong"),
            Sample(route: "/metrics", uri: "/metrics"),
            Sample(route: "/v1/chain/key", uri: "/v1/chain/key"),
            Sample(route: "/v1/blocks", uri: "/v1/blocks?limit=2"),
            Sample(route: "/v1/blocks", uri: "/v1/blocks?limit=9999"),
            Sample(route: "/v1/blocks/{height}", uri: "/v1/blocks/0"),
            Sample(route: "/v1/blocks/{height}", uri: "/v1/blocks/2", token: Token.audit),
            Sample(route: "/v1/blocks/{height}", uri: "/v1/blocks/9"),
            Sample(route: "/v1/blocks/{height}", uri: "/v1/blocks/x"),
            Sample(route: "/v1/blocks/by-hash/{hash}", uri: "/v1/blocks/\(hash)"),
            Sample(route: "/v1/blocks/by-hash/{hash}", uri: "/v1/blocks/by-hash/00"),
            Sample(route: "/v1/blocks/by-hash/{hash}", uri: "/v1/blocks/by-hash/\(String(repeating: "ab", count: 32))"),
            Sample(route: "/v1/meters", uri: "/v1/meters", token: Token.alice),
            Sample(route: "/v1/meters", uri: "/v1/meters"),
            Sample(route: "/v1/members", uri: "/v1/members", token: Token.audit),
            Sample(route: "/v1/members", uri: "/v1/members"),
            Sample(route: "/v1/meters/{meterId}/records", uri: "/v1/meters/\(m1)/records?limit=2", token: Token.alice),
            Sample(route: "/v1/meters/{meterId}/records", uri: "/v1/meters/\(m1)/records", token: Token.bob),
            Sample(route: "/v1/meters/{meterId}/records", uri: "/v1/meters/\(m1)/records"),
            Sample(route: "/v1/meters/{meterId}/records", uri: "/v1/meters/nope/records", token: Token.audit),
            Sample(route: "/v1/meters/{meterId}/records", uri: "/v1/meters/\(m1)/records?from=x", token: Token.audit),
            Sample(route: "/v1/meters/{meterId}/records/{sequence}/proof", uri: "/v1/meters/\(m1)/records/2/proof", token: Token.audit),
            Sample(route: "/v1/meters/{meterId}/records/{sequence}/proof", uri: "/v1/meters/\(m1)/records/0/proof", token: Token.audit),
            Sample(route: "/v1/meters/{meterId}/records/{sequence}/proof", uri: "/v1/meters/\(m1)/records/9/proof", token: Token.audit),
            Sample(route: "/v1/meters/{meterId}/records/{sequence}/proof", uri: "/v1/meters/\(m1)/records/1/proof", token: Token.bob),
            Sample(method: .post, route: "/v1/registry", uri: "/v1/registry", token: Token.ops,
                   body: #"{"kind":"member","id":"carol","role":"consumer","name":"Carol"}"#),
            Sample(method: .post, route: "/v1/registry", uri: "/v1/registry", token: Token.ops,
                   body: #"{"kind":"member","id":"carol","role":"consumer","name":"Carol"}"#),
            Sample(method: .post, route: "/v1/registry", uri: "/v1/registry", token: Token.ops, body: "{"),
            Sample(method: .post, route: "/v1/registry", uri: "/v1/registry", token: Token.ops, body: String(repeating: " ", count: 17_000)),
            Sample(method: .post, route: "/v1/registry", uri: "/v1/registry", body: "{}"),
            Sample(method: .post, route: "/v1/registry", uri: "/v1/registry", token: Token.audit, body: "{}"),
            Sample(route: "/v1/registry/pending", uri: "/v1/registry/pending", token: Token.ops),
            Sample(route: "/v1/registry/pending", uri: "/v1/registry/pending", token: Token.bob),
            Sample(route: "/v1/refusals", uri: "/v1/refusals", token: Token.audit),
            Sample(route: "/v1/refusals", uri: "/v1/refusals?limit=-1", token: Token.audit),
            Sample(route: invoice, uri: "/v1/members/alice/invoices/2023-11", token: Token.alice),
            Sample(route: invoice, uri: "/v1/members/alice/invoices/2023-11?format=csv", token: Token.audit),
            Sample(route: invoice, uri: "/v1/members/alice/invoices/2023-11", token: Token.bob),
            Sample(route: invoice, uri: "/v1/members/alice/invoices/2023-11"),
            Sample(route: invoice, uri: "/v1/members/alice/invoices/2024-01", token: Token.alice),
            Sample(route: invoice, uri: "/v1/members/alice/invoices/11-2023", token: Token.alice),
        ]
    }

    /// Each sample's status is documented for its operation, with the content type it is sent
    /// with, and its JSON body has what the documented schema requires.
    @Test func responsesConformToTheirDocumentedSchemas() async throws {
        let document = try Self.document()
        let operations = try Self.operations(document)
        let checker = SchemaChecker(document: document)
        let fixture = try APIFixture()
        try InvoiceRouteTests.settle(fixture)
        let blockHash = Hex.encode(fixture.blocks[1].header.hash)
        let responses = try await fixture.withClient { client in
            var responses: [(Sample, TestResponse)] = []
            for sample in Self.samples(blockHash: blockHash) {
                let response: TestResponse = if let body = sample.body {
                    try await client.post(sample.uri, token: sample.token, body: body)
                } else {
                    try await client.get(sample.uri, token: sample.token)
                }
                responses.append((sample, response))
            }
            return responses
        }
        var succeeded: Set<String> = []
        var codes: Set<Int> = []
        for (sample, response) in responses {
            let key = "\(sample.method.rawValue) \(sample.route)"
            let operation = try #require(operations[key], "\(key) is not documented")
            codes.insert(response.status.code)
            let documentedResponses = try #require(operation["responses"] as? [String: Any])
            let documented = try #require(
                (documentedResponses[String(response.status.code)] as? [String: Any]).map(checker.resolve),
                "\(sample): status \(response.status.code) is not documented for \(key): \(response.text)")
            let content = try #require(documented["content"] as? [String: Any], "\(sample): no content documented")
            let mediaType = String((response.headers[.contentType] ?? "").split(separator: ";").first ?? "")
            let media = try #require(content[mediaType] as? [String: Any], "\(sample): \(mediaType) is not documented for \(response.status.code)")
            let schema = try #require(media["schema"] as? [String: Any])
            if mediaType == "application/json" {
                let value = try JSONSerialization.jsonObject(with: Data(response.text.utf8))
                let problems = checker.check(value, against: schema)
                #expect(problems.isEmpty, "\(sample): \(problems.joined(separator: "; "))\n\(response.text.prefix(500))")
            } else {
                #expect(checker.check(response.text, against: schema).isEmpty)
            }
            if (200..<300).contains(response.status.code) { succeeded.insert(key) }
        }
        #expect(succeeded == Set(operations.keys), "operations without a successful sample: \(Set(operations.keys).subtracting(succeeded).sorted())")
        // The samples cover the error statuses too.
        #expect(codes.isSuperset(of: [200, 202, 400, 401, 403, 404, 409, 413]), "\(codes.sorted())")
    }

    @Test func theCheckerCatchesViolations() throws {
        let checker = SchemaChecker(document: try Self.document())
        let header: [String: Any] = ["$ref": "#/components/schemas/BlockHeader"]
        #expect(!checker.check(["height": 1], against: header).isEmpty)
        #expect(!checker.check(["error": ["status": "404", "reason": "x"]], against: ["$ref": "#/components/schemas/Error"]).isEmpty)
        #expect(checker.check(["error": ["status": 404, "reason": "x"]], against: ["$ref": "#/components/schemas/Error"]).isEmpty)
        #expect(!checker.check(["status": "ok", "height": NSNull(), "blocks": 1, "records": true], against: ["$ref": "#/components/schemas/Health"]).isEmpty)
        #expect(checker.check(["status": "ok", "height": NSNull(), "blocks": 1, "records": 2], against: ["$ref": "#/components/schemas/Health"]).isEmpty)
        #expect(!checker.check(["kind": "member", "id": "a", "role": "prosumer"], against: ["$ref": "#/components/schemas/RegistryChange"]).isEmpty)
        #expect(!checker.check(["kind": "member", "id": "a", "role": "king", "name": "A"], against: ["$ref": "#/components/schemas/RegistryChange"]).isEmpty)
        #expect(checker.check(["kind": "member", "id": "a", "role": "prosumer", "name": "A"], against: ["$ref": "#/components/schemas/RegistryChange"]).isEmpty)
        #expect(!checker.check(["meters": [["meterId": 1]]], against: ["$ref": "#/components/schemas/MeterList"]).isEmpty)
    }
}

/// A small JSON Schema checker for the subset docs/openapi.yaml uses: `$ref`, `oneOf`, `type`,
/// `nullable`, `enum`, `pattern`, `required`, `properties`, `additionalProperties: false`, `items`.
struct SchemaChecker {
    let document: [String: Any]

    /// Follows local `$ref`s (`#/components/...`).
    func resolve(_ node: [String: Any]) -> [String: Any] {
        var node = node
        var hops = 0
        while let reference = node["$ref"] as? String, reference.hasPrefix("#/"), hops < 16 {
            var target: Any = document
            for component in reference.dropFirst(2).split(separator: "/") {
                target = (target as? [String: Any])?[String(component)] ?? [:]
            }
            node = target as? [String: Any] ?? [:]
            hops += 1
        }
        return node
    }

    private static let booleanType = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// JSON booleans arrive as NSNumber, which on Linux also casts to Bool for 0 and 1: tell them apart by class.
    private static func isBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        if type(of: value) is NSNumber.Type { return ObjectIdentifier(type(of: value as AnyObject)) == booleanType }
        return false
    }

    private static func number(_ value: Any) -> Double? {
        if isBoolean(value) { return nil }
        switch value {
        case let number as NSNumber: return number.doubleValue
        case let integer as Int: return Double(integer)
        case let double as Double: return double
        default: return nil
        }
    }

    func check(_ value: Any, against node: [String: Any], at path: String = "$") -> [String] {
        let schema = resolve(node)
        if let alternatives = schema["oneOf"] as? [Any] {
            let matches = alternatives.filter { check(value, against: $0 as? [String: Any] ?? [:], at: path).isEmpty }
            return matches.count == 1 ? [] : ["\(path): matches \(matches.count) of the oneOf alternatives, not exactly 1"]
        }
        if value is NSNull {
            return schema["nullable"] as? Bool == true ? [] : ["\(path): null where the schema is not nullable"]
        }
        var problems: [String] = []
        if let type = schema["type"] as? String {
            let ok: Bool = switch type {
            case "object": value is [String: Any]
            case "array": value is [Any]
            case "string": value is String
            case "boolean": Self.isBoolean(value)
            case "integer": Self.number(value).map { $0 == $0.rounded() } == true
            case "number": Self.number(value) != nil
            default: false
            }
            if !ok { return ["\(path): expected \(type), found \(value)"] }
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) {
            problems.append("\(path): \(value) is not one of \(allowed)")
        }
        if let pattern = schema["pattern"] as? String, let text = value as? String {
            let expression = try? NSRegularExpression(pattern: pattern)
            if expression?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                problems.append("\(path): '\(text.prefix(80))' does not match \(pattern)")
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                problems.append("\(path): required property '\(name)' is missing")
            }
            for (name, member) in object {
                if let property = properties[name] as? [String: Any] {
                    problems += check(member, against: property, at: "\(path).\(name)")
                } else if schema["additionalProperties"] as? Bool == false {
                    problems.append("\(path): property '\(name)' is not allowed")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() { problems += check(element, against: items, at: "\(path)[\(index)]") }
        }
        return problems
    }
}
