import AggregatorAPI
import Crypto
import Foundation
import GridLedgerRecords
import GridLedgerTestSupport
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerStore
import Testing

typealias Token = APIFixture.Token

@Suite("Read API: public routes")
struct PublicRouteTests {
    @Test func health() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            let json = try response.json()
            #expect(json["status"] as? String == "ok")
            #expect(json["height"] as? Int == 2)
            #expect(json["blocks"] as? Int == 3)
            #expect(json["records"] as? Int == 10)
        }
    }

    @Test func healthOfAnEmptyChainHasANullHeight() async throws {
        let directory = try GridLedgerTestSupport.TemporaryDirectory()
        let store = try SQLiteLedgerStore(path: directory.path("empty.db"), access: .aggregator(publicKey: APIFixture.raw(APIFixture.aggregatorKey)))
        let fixture = try APIFixture()
        let app = try ReadAPI.buildApplication(
            settings: .init(port: 0), store: store, engine: fixture.engine, metrics: fixture.metrics,
            publicKey: APIFixture.raw(APIFixture.aggregatorKey), tokens: APITokens(), logger: .init(label: "test"))
        try await app.test(.router) { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(response.text.contains(#""height":null"#))
            #expect(try response.json()["records"] as? Int == 0)
        }
    }

    @Test func metricsArePrometheusText() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(response.text.contains("# TYPE gridledger_aggregator_block_height gauge"))
            #expect(response.text.contains(#"gridledger_aggregator_records_refused_total{reason="bad_signature"} 0"#))
        }
    }

    @Test func chainKey() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let json = try await client.get("/v1/chain/key").json()
            let key = APIFixture.raw(APIFixture.aggregatorKey)
            #expect(json["publicKey"] as? String == Hex.encode(key))
            #expect(json["keyId"] as? String == Hex.encode(KeyID.of(key)))
            #expect(json["fingerprint"] as? String == KeyID.fingerprint(key))
        }
    }

    @Test func blockListPages() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let first = try await client.get("/v1/blocks?limit=2").json()
            let blocks = try #require(first["blocks"] as? [[String: Any]])
            #expect(blocks.map { $0["height"] as? Int } == [0, 1])
            #expect(first["next"] as? Int == 2)
            let header = fixture.blocks[1].header
            #expect(blocks[1]["hash"] as? String == Hex.encode(header.hash))
            #expect(blocks[1]["previousHash"] as? String == Hex.encode(fixture.blocks[0].header.hash))
            #expect(blocks[1]["recordsRoot"] as? String == Hex.encode(header.recordsRoot))
            #expect(blocks[1]["eventsRoot"] as? String == Hex.encode(header.eventsRoot))
            #expect(blocks[1]["recordCount"] as? Int == 4)
            #expect(blocks[1]["eventCount"] as? Int == 0)
            #expect(blocks[1]["timeMillis"] as? Int == Int(header.timeMillis))
            #expect(blocks[1]["keyId"] as? String == Hex.encode(header.keyID))
            #expect(blocks[1]["signature"] as? String == Hex.encode(fixture.blocks[1].signature))

            let rest = try await client.get("/v1/blocks?from=2").json()
            #expect((rest["blocks"] as? [[String: Any]])?.map { $0["height"] as? Int } == [2])
            #expect(rest["next"] == nil)
            let beyond = try await client.get("/v1/blocks?from=10").json()
            #expect((beyond["blocks"] as? [Any])?.isEmpty == true)
            #expect((try await client.get("/v1/blocks").json()["blocks"] as? [Any])?.count == 3)
        }
    }

    @Test(arguments: ["limit=0", "limit=501", "limit=abc", "limit=", "from=-1", "from=1e3", "limit=1&limit=2", "from=99999999999999999999999"])
    func blockListRefusesBadQueries(_ query: String) async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/v1/blocks?\(query)").expectError(.badRequest)
        }
    }

    @Test func blockByHeightShowsTheBodyOnlyToOperatorsAndAuditors() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            for token in [nil, Token.alice, Token.bob] {
                let json = try await client.get("/v1/blocks/0", token: token).json()
                #expect((json["header"] as? [String: Any])?["height"] as? Int == 0)
                #expect(json["records"] == nil)
                #expect(json["events"] == nil)
            }
            for token in [Token.audit, Token.ops, Token.olga] {
                let json = try await client.get("/v1/blocks/0", token: token).json()
                let records = try #require(json["records"] as? [[String: Any]])
                #expect(records.count == 3)
                #expect(records[0]["envelope"] as? String == Hex.encode(fixture.blocks[0].records[0]))
                #expect(records[0]["meterId"] as? String == APIFixture.m1)
                #expect(records[2]["meterId"] as? String == APIFixture.m3)
                let events = try #require(json["events"] as? [[String: Any]])
                #expect(events.count == APIFixture.changes.count)
                #expect(events.allSatisfy { $0["kind"] as? String == "registry" })
                #expect((events[0]["summary"] as? String)?.contains("member alice") == true)
            }
            let last = try await client.get("/v1/blocks/2", token: Token.audit).json()
            #expect((last["events"] as? [[String: Any]])?.first?["kind"] as? String == "missingData")
        }
    }

    @Test func blockByHash() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let hash = Hex.encode(fixture.blocks[1].header.hash)
            let json = try await client.get("/v1/blocks/by-hash/\(hash)").json()
            #expect((json["header"] as? [String: Any])?["height"] as? Int == 1)
            #expect((json["header"] as? [String: Any])?["hash"] as? String == hash)
            let upper = try await client.get("/v1/blocks/by-hash/\(hash.uppercased())")
            #expect(upper.status == .ok)
            try await client.get("/v1/blocks/by-hash/" + String(repeating: "ab", count: 32)).expectError(.notFound)
            try await client.get("/v1/blocks/by-hash/abc").expectError(.badRequest)
            try await client.get("/v1/blocks/by-hash/" + String(repeating: "zz", count: 32)).expectError(.badRequest)
        }
    }

    @Test func unknownBlocksAndBadHeights() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/v1/blocks/3").expectError(.notFound)
            try await client.get("/v1/blocks/18446744073709551615").expectError(.notFound)
            for bad in ["-1", "abc", "1.5", "%2B1", "18446744073709551616", "123456789012345678901", "0x10"] {
                try await client.get("/v1/blocks/\(bad)").expectError(.badRequest)
            }
        }
    }

    @Test func unknownRoutesAndMethodsAreJSON404() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/nothing/here").expectError(.notFound)
            try await client.get("/v1/blocks/1/extra").expectError(.notFound)
            try await client.execute(uri: "/v1/blocks", method: .delete).expectError(.notFound)
        }
    }
}

@Suite("Read API: authentication and visibility")
struct VisibilityTests {
    @Test func badCredentialsAre401EvenOnPublicRoutes() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let response = try await client.get("/health", token: "not-a-token")
            try response.expectError(.unauthorized)
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let basic = try await client.execute(uri: "/health", method: .get, headers: [.authorization: "Basic b3BzOnNlY3JldA=="])
            try basic.expectError(.unauthorized)
            let empty = try await client.execute(uri: "/health", method: .get, headers: [.authorization: "Bearer "])
            try empty.expectError(.unauthorized)
            let long = try await client.get("/health", token: String(repeating: "x", count: 10_000))
            try long.expectError(.unauthorized)
            // The scheme is case-insensitive.
            let lower = try await client.execute(uri: "/v1/meters", method: .get, headers: [.authorization: "bearer \(Token.audit)"])
            #expect(lower.status == .ok)
        }
    }

    @Test func metersPerRole() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/v1/meters").expectError(.unauthorized)
            func meterIDs(_ token: String) async throws -> [String] {
                let json = try await client.get("/v1/meters", token: token).json()
                return try #require(json["meters"] as? [[String: Any]]).compactMap { $0["meterId"] as? String }
            }
            let all = [APIFixture.m1, APIFixture.m2, APIFixture.m3]
            #expect(try await meterIDs(Token.audit) == all)
            #expect(try await meterIDs(Token.ops) == all)
            #expect(try await meterIDs(Token.olga) == all)
            #expect(try await meterIDs(Token.alice) == [APIFixture.m1, APIFixture.m2])
            #expect(try await meterIDs(Token.bob) == [APIFixture.m3])
            #expect(try await meterIDs(Token.stranger) == [])
            let bob = try #require(try await client.get("/v1/meters", token: Token.bob).json()["meters"] as? [[String: Any]]).first
            #expect(bob?["gatewayId"] as? String == "gw2")
            #expect(bob?["memberId"] as? String == "bob")
            #expect(bob?["role"] as? String == "load")
            #expect(bob?["tariffGroup"] as? String == "flat")
        }
    }

    @Test func membersPerRole() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/v1/members").expectError(.unauthorized)
            func memberIDs(_ token: String) async throws -> [String] {
                let json = try await client.get("/v1/members", token: token).json()
                return try #require(json["members"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            }
            #expect(try await memberIDs(Token.audit) == ["alice", "bob", "olga"])
            #expect(try await memberIDs(Token.alice) == ["alice"])
            #expect(try await memberIDs(Token.bob) == ["bob"])
            #expect(try await memberIDs(Token.stranger) == [])
            let alice = try #require(try await client.get("/v1/members", token: Token.alice).json()["members"] as? [[String: Any]]).first
            #expect(alice?["name"] as? String == "Alice Ä.")
            #expect(alice?["role"] as? String == "prosumer")
        }
    }

    @Test func recordsVisibility() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let m1 = "/v1/meters/\(APIFixture.m1)/records"
            try await client.get(m1).expectError(.unauthorized)
            try await client.get(m1, token: Token.bob).expectError(.forbidden)
            try await client.get(m1, token: Token.stranger).expectError(.forbidden)
            #expect(try await client.get(m1, token: Token.alice).status == .ok)
            #expect(try await client.get(m1, token: Token.audit).status == .ok)
            #expect(try await client.get("/v1/meters/\(APIFixture.m3)/records", token: Token.bob).status == .ok)
            try await client.get("/v1/meters/gw9:bus:1/records", token: Token.alice).expectError(.notFound)
            try await client.get("/v1/meters/gw9:bus:1/records", token: Token.audit).expectError(.notFound)
        }
    }
}

@Suite("Read API: records and proofs")
struct RecordTests {
    @Test func recordsOfAMeterDecoded() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let json = try await client.get("/v1/meters/\(APIFixture.m1)/records", token: Token.alice).json()
            #expect(json["meterId"] as? String == APIFixture.m1)
            #expect(json["more"] as? Bool == false)
            let records = try #require(json["records"] as? [[String: Any]])
            #expect(records.compactMap { $0["sequence"] as? Int } == [1, 2, 3, 4, 5])
            #expect(records.compactMap { $0["height"] as? Int } == [0, 1, 1, 2, 2])
            #expect(records.compactMap { $0["position"] as? Int } == [0, 0, 1, 0, 1])
            let third = records[2]
            #expect(third["captureTimeMillis"] as? Int == Int(APIFixture.captureTime(3)))
            #expect(third["status"] as? String == "complete")
            #expect(third["gatewayId"] as? String == "gw1")
            #expect(third["profileId"] as? String == "eastron-sdm630")
            #expect(third["clockSynchronized"] as? Bool == true)
            #expect(third["envelope"] as? String == Hex.encode(fixture.blocks[1].records[1]))
            #expect(third["previousHash"] as? String == records[1]["hash"] as? String)
            let values = try #require(third["values"] as? [[String: Any]])
            #expect(values.count == 2)
            #expect(values[0]["quantity"] as? String == "energy.active.import.total")
            #expect(values[0]["code"] as? Int == 1)
            #expect(values[0]["obis"] as? String == "1-0:1.8.0")
            #expect(values[0]["mantissa"] as? Int == 300)
            #expect(values[0]["exponent"] as? Int == 0)
            #expect(values[0]["value"] as? String == "300")
            #expect(values[0]["unit"] as? String == "Wh")
            #expect(values[1]["quantity"] as? String == "power.active.total")
            #expect(values[1]["mantissa"] as? Int == -12345)
            #expect(values[1]["exponent"] as? Int == -1)
            #expect(values[1]["value"] as? String == "-1234.5")
        }
    }

    @Test func recordsOverATimeRangeWithLimits() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let base = "/v1/meters/\(APIFixture.m1)/records"
            func sequences(_ query: String) async throws -> (sequences: [Int], more: Bool?) {
                let json = try await client.get("\(base)?\(query)", token: Token.audit).json()
                return (try #require(json["records"] as? [[String: Any]]).compactMap { $0["sequence"] as? Int }, json["more"] as? Bool)
            }
            let t = APIFixture.captureTime
            // `to` is exclusive.
            #expect(try await sequences("from=\(t(2))&to=\(t(4))") == ([2, 3], false))
            #expect(try await sequences("from=\(t(2))") == ([2, 3, 4, 5], false))
            #expect(try await sequences("to=\(t(2) + 1)") == ([1, 2], false))
            #expect(try await sequences("limit=2") == ([1, 2], true))
            #expect(try await sequences("from=\(t(3))&limit=2") == ([3, 4], true))
            #expect(try await sequences("from=\(t(4))&limit=2") == ([4, 5], false))
            #expect(try await sequences("from=\(t(9))") == ([], false))
            #expect(try await sequences("from=\(t(3))&to=\(t(3))") == ([], false))
            // Meter ids may come percent-encoded.
            let encoded = try await client.get("/v1/meters/gw1%3Abus%3A2/records", token: Token.alice).json()
            #expect((encoded["records"] as? [Any])?.count == 2)
        }
    }

    @Test(arguments: [
        "/v1/meters/gw1:bus:1/records?from=abc", "/v1/meters/gw1:bus:1/records?to=1.5", "/v1/meters/gw1:bus:1/records?limit=0",
        "/v1/meters/gw1:bus:1/records?limit=1001", "/v1/meters/gw1:bus:1/records?from=10&to=5",
        "/v1/meters/gw1%20bus/records", "/v1/meters/gw1%2Fbus/records", "/v1/meters/gw1%ZZ/records", "/v1/meters/\(String(repeating: "m", count: 129))/records",
        "/v1/meters/gw1:bus:1/records/0/proof", "/v1/meters/gw1:bus:1/records/abc/proof", "/v1/meters/gw1:bus:1/records/-3/proof",
        "/v1/meters/gw1:bus:1/records/99999999999999999999/proof",
    ])
    func badRecordParameters(_ uri: String) async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get(uri, token: Token.audit).expectError(.badRequest)
        }
    }

    @Test func longestMeterIDIsAccepted() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/v1/meters/\(String(repeating: "m", count: 128))/records", token: Token.audit).expectError(.notFound)
        }
    }

    @Test func proofVerifies() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let response = try await client.get("/v1/meters/\(APIFixture.m1)/records/3/proof", token: Token.alice)
            #expect(response.status == .ok)
            let proof = try JSONDecoder().decode(InclusionProof.self, from: Data(response.text.utf8))
            #expect(proof.format == InclusionProof.format)
            let verified = try proof.verify(aggregatorKey: APIFixture.aggregatorKey.publicKey, gatewayKey: APIFixture.gw1Key.publicKey)
            #expect(verified.header.height == 1)
            #expect(verified.record.record.meterID == APIFixture.m1)
            #expect(verified.record.record.sequence == 3)
            #expect(throws: InclusionProof.Failure.self) {
                try proof.verify(aggregatorKey: APIFixture.gw1Key.publicKey, gatewayKey: nil)
            }
            #expect(throws: (any Error).self) {
                try proof.verify(aggregatorKey: APIFixture.aggregatorKey.publicKey, gatewayKey: APIFixture.gw2Key.publicKey)
            }

            let bobs = try await client.get("/v1/meters/\(APIFixture.m3)/records/2/proof", token: Token.bob)
            let bobProof = try JSONDecoder().decode(InclusionProof.self, from: Data(bobs.text.utf8))
            #expect(try bobProof.verify(aggregatorKey: APIFixture.aggregatorKey.publicKey, gatewayKey: APIFixture.gw2Key.publicKey).record.record.sequence == 2)

            try await client.get("/v1/meters/\(APIFixture.m1)/records/3/proof").expectError(.unauthorized)
            try await client.get("/v1/meters/\(APIFixture.m1)/records/3/proof", token: Token.bob).expectError(.forbidden)
            try await client.get("/v1/meters/\(APIFixture.m1)/records/6/proof", token: Token.alice).expectError(.notFound)
            try await client.get("/v1/meters/gw1:bus:7/records/1/proof", token: Token.audit).expectError(.notFound)
        }
    }
}

@Suite("Read API: registry and audit")
struct RegistryTests {
    static let newMember = #"{"kind":"member","id":"carol","role":"consumer","name":"Carol"}"#

    @Test func onlyOperatorsPost() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.post("/v1/registry", body: Self.newMember).expectError(.unauthorized)
            try await client.post("/v1/registry", token: Token.audit, body: Self.newMember).expectError(.forbidden)
            try await client.post("/v1/registry", token: Token.alice, body: Self.newMember).expectError(.forbidden)
            try await client.post("/v1/registry", token: Token.stranger, body: Self.newMember).expectError(.forbidden)
        }
        #expect(try fixture.store.pendingRegistryEntries().isEmpty)
    }

    @Test func operatorEnqueuesAChange() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let response = try await client.post("/v1/registry", token: Token.ops, body: Self.newMember)
            #expect(response.status == .accepted, "\(response.text)")
            let id = try #require(try response.json()["pending"] as? Int)
            let pending = try fixture.store.pendingRegistryEntries()
            #expect(pending.map(\.id) == [Int64(id)])
            #expect(pending.first?.entry.change == .addMember(Member(id: "carol", role: .consumer, name: "Carol")))
            #expect(pending.first?.entry.author == "ops")
            #expect(pending.first?.entry.recordedMillis == APIFixture.t0 + 1_000_000)

            // The same change again conflicts with the pending one.
            try await client.post("/v1/registry", token: Token.ops, body: Self.newMember).expectError(.conflict)
            // A meter for the pending member is fine; a member who is an operator in the registry may post too.
            let meter = #"{"kind":"meter","meterId":"gw2:bus:2","gatewayId":"gw2","memberId":"carol","role":"grid","tariffGroup":"flat"}"#
            let second = try await client.post("/v1/registry", token: Token.olga, body: meter)
            #expect(second.status == .accepted, "\(second.text)")
            #expect(try fixture.store.pendingRegistryEntries().last?.entry.author == "olga")

            let listing = try await client.get("/v1/registry/pending", token: Token.audit).json()
            let entries = try #require(listing["pending"] as? [[String: Any]])
            #expect(entries.count == 2)
            #expect((entries[0]["change"] as? [String: Any])?["id"] as? String == "carol")
            #expect((entries[1]["change"] as? [String: Any])?["kind"] as? String == "meter")
            #expect(entries[1]["author"] as? String == "olga")
            try await client.get("/v1/registry/pending").expectError(.unauthorized)
            try await client.get("/v1/registry/pending", token: Token.alice).expectError(.forbidden)
        }
    }

    @Test func keyChanges() async throws {
        let fixture = try APIFixture()
        let spare = Hex.encode(APIFixture.raw(APIFixture.spareKey))
        let gw1 = Hex.encode(APIFixture.raw(APIFixture.gw1Key))
        try await fixture.withClient { client in
            let rotate = #"{"kind":"gatewayKey","gatewayId":"gw1","publicKey":"\#(spare)","validFromMillis":\#(APIFixture.t0 + 500_000)}"#
            #expect(try await client.post("/v1/registry", token: Token.ops, body: rotate).status == .accepted)
            let revoke = #"{"kind":"revokeKey","gatewayId":"gw1","publicKey":"\#(gw1)","effectiveMillis":\#(APIFixture.t0 + 600_000)}"#
            #expect(try await client.post("/v1/registry", token: Token.ops, body: revoke).status == .accepted)
            // A key already registered elsewhere, a rotation that does not start later, an unknown key.
            let reuse = #"{"kind":"gatewayKey","gatewayId":"gw3","publicKey":"\#(gw1)","validFromMillis":\#(APIFixture.t0)}"#
            try await client.post("/v1/registry", token: Token.ops, body: reuse).expectError(.conflict)
            let early = #"{"kind":"gatewayKey","gatewayId":"gw2","publicKey":"\#(Hex.encode(APIFixture.raw(APIFixture.key(8))))","validFromMillis":\#(APIFixture.t0)}"#
            try await client.post("/v1/registry", token: Token.ops, body: early).expectError(.conflict)
            let unknown = #"{"kind":"revokeKey","gatewayId":"gw2","publicKey":"\#(spare)","effectiveMillis":\#(APIFixture.t0)}"#
            try await client.post("/v1/registry", token: Token.ops, body: unknown).expectError(.conflict)
        }
        let changes = try fixture.store.pendingRegistryEntries().map(\.entry.change)
        #expect(changes == [
            .addGatewayKey(gatewayID: "gw1", publicKey: APIFixture.raw(APIFixture.spareKey), validFromMillis: APIFixture.t0 + 500_000),
            .revokeGatewayKey(gatewayID: "gw1", publicKey: APIFixture.raw(APIFixture.gw1Key), effectiveMillis: APIFixture.t0 + 600_000),
        ])
    }

    @Test(arguments: [
        #"{"kind":"member","id":"alice","role":"prosumer","name":"Again"}"#,
        #"{"kind":"meter","meterId":"gw1:bus:1","gatewayId":"gw1","memberId":"alice","role":"grid","tariffGroup":"x"}"#,
        #"{"kind":"meter","meterId":"gw1:bus:3","gatewayId":"gw1","memberId":"nobody","role":"grid","tariffGroup":"x"}"#,
        #"{"kind":"meter","meterId":"gw9:bus:1","gatewayId":"gw9","memberId":"alice","role":"grid","tariffGroup":"x"}"#,
    ])
    func refusedChangesAre409(_ body: String) async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.post("/v1/registry", token: Token.ops, body: body).expectError(.conflict)
        }
        #expect(try fixture.store.pendingRegistryEntries().isEmpty)
    }

    @Test(arguments: [
        "", "not json", "{", "[]", "42", #"{"kind":"member","id":"carol","role":"consumer"}"#,
        #"{"kind":"member","id":"carol","role":"consumer","name":"Carol","extra":1}"#,
        #"{"kind":"spaceship"}"#, #"{"id":"carol"}"#, #"{"kind":"member","id":"carol","role":"king","name":"Carol"}"#,
        #"{"kind":"member","id":"carol","role":"consumer","name":7}"#,
        #"{"kind":"member","id":"car ol","role":"consumer","name":"Carol"}"#,
        #"{"kind":"member","id":"carol","role":"consumer","name":"Carol\u0007"}"#,
        #"{"kind":"member","id":"","role":"consumer","name":"Carol"}"#,
        #"{"kind":"gatewayKey","gatewayId":"gw3","publicKey":"abcd","validFromMillis":1}"#,
        #"{"kind":"gatewayKey","gatewayId":"gw3","publicKey":"\#(String(repeating: "a", count: 64))","validFromMillis":"soon"}"#,
        #"{"kind":"gatewayKey","gatewayId":"gw3","publicKey":"\#(String(repeating: "a", count: 64))","validFromMillis":1e99}"#,
        #"{"kind":"meter","meterId":"gw1:bus:3","gatewayId":"gw1","memberId":"alice","role":"solar","tariffGroup":"x"}"#,
    ])
    func malformedBodiesAre400(_ body: String) async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.post("/v1/registry", token: Token.ops, body: body).expectError(.badRequest)
        }
        #expect(try fixture.store.pendingRegistryEntries().isEmpty)
    }

    @Test func oversizedBodyIs413() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            let name = String(repeating: "x", count: 20_000)
            let body = #"{"kind":"member","id":"carol","role":"consumer","name":"\#(name)"}"#
            try await client.post("/v1/registry", token: Token.ops, body: body).expectError(.contentTooLarge)
        }
        #expect(try fixture.store.pendingRegistryEntries().isEmpty)
    }

    @Test func refusals() async throws {
        let fixture = try APIFixture()
        try await fixture.withClient { client in
            try await client.get("/v1/refusals").expectError(.unauthorized)
            try await client.get("/v1/refusals", token: Token.alice).expectError(.forbidden)
            try await client.get("/v1/refusals?limit=0", token: Token.audit).expectError(.badRequest)
            try await client.get("/v1/refusals?limit=1001", token: Token.audit).expectError(.badRequest)
            let json = try await client.get("/v1/refusals?limit=10", token: Token.audit).json()
            let refusals = try #require(json["refusals"] as? [[String: Any]])
            #expect(refusals.count == 1)
            #expect(refusals.first?["reason"] as? String == "unknown_meter")
            #expect(refusals.first?["meterId"] as? String == "gw1:bus:9")
            #expect(refusals.first?["envelope"] as? String == "010203")
        }
    }
}
