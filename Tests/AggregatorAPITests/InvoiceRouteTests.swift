import AggregatorAPI
import Contracts
import Foundation
import GridLedgerRecords
import HummingbirdTesting
import LedgerCore
import LedgerStore
import Settlement
import Testing

/// `GET /v1/members/{memberId}/invoices/{period}` on a chain with a deployed contract and the
/// runner's real settlement: the member and auditors read it, nobody else.
@Suite("Read API: invoices")
struct InvoiceRouteTests {
    /// Appends block 3: a contract (grid only, 0.30 €/kWh, valid from 2023-11-14T22:00Z) and the
    /// settlement of its first quarter hour, in which alice's grid meter (m1) imported 2 kWh.
    static func settle(_ fixture: APIFixture) throws {
        let start: Int64 = 1_699_999_200_000  // 2023-11-14T22:00:00Z
        let document = Array("""
            contract: gridledger-contract/v1
            id: api-test
            version: 1
            validFrom: 2023-11-14T22:00:00Z
            currency: EUR
            minorUnitDigits: 2
            timeZone: Europe/Vienna
            billingPeriod: month
            members: all
            mechanism:
              kind: none
            prices:
              retail:
                default: "0.30"
              feedIn: "0.08"
            """.utf8)
        var runner = SettlementRunner()
        runner.deploy(try DeployedContract(Contract.parse(document)))
        let samples = [0, 5, 10, 15].map { minutes in
            MeterSample(meterID: APIFixture.m1, counters: CounterSample(millis: start + Int64(minutes) * 60_000, importWh: 10_000 + Int64(minutes) * 2000 / 15, exportWh: 0))
        }
        let records = runner.apply(samples: samples, registry: fixture.registry, blockTimeMillis: start + 16 * 60_000)
        #expect(records.count == 1)
        let id = try fixture.store.enqueueContract(document, submittedMillis: start)
        let events = try [LedgerEvent.contractDeployed(document: document)] + records.map { LedgerEvent.settlement(payload: try $0.encoded()) }
        let previous = try #require(fixture.blocks.last)
        let block = try Block.mint(
            height: 3, previousHash: previous.header.hash, timeMillis: previous.header.timeMillis + 1000, records: [],
            events: try events.map { try $0.encoded() }, key: APIFixture.aggregatorKey)
        try fixture.store.append(BlockCommit(
            block: block, recordKeys: [], heads: [:], contractIDs: [id],
            settlementIntervals: records.enumerated().map { (1 + $0.offset, $0.element.intervalStartMillis) }))
    }

    @Test func theMemberAndAuditorsReadTheInvoiceOthersDoNot() async throws {
        let fixture = try APIFixture()
        try Self.settle(fixture)
        try await fixture.withClient { client in
            for token in [Token.alice, Token.audit, Token.ops] {
                let json = try await client.get("/v1/members/alice/invoices/2023-11", token: token).json()
                #expect((json["total"] as? [String: Any])?["decimal"] as? String == "0.60", "\(json)")
                #expect((json["energy"] as? [String: Any]).flatMap { ($0["fromGrid"] as? [String: Any])?["kWh"] as? String } == "2.000")
                #expect(json["provisional"] as? Bool == true)
            }
            try await client.get("/v1/members/alice/invoices/2023-11").expectError(.unauthorized)
            try await client.get("/v1/members/alice/invoices/2023-11", token: Token.bob).expectError(.forbidden)
            try await client.get("/v1/members/alice/invoices/2023-13", token: Token.alice).expectError(.badRequest)
            try await client.get("/v1/members/alice/invoices/2024-01", token: Token.alice).expectError(.notFound)
            try await client.get("/v1/members/bob/invoices/2023-11", token: Token.bob).expectError(.notFound)
            try await client.get("/v1/members/alice/invoices/2023-11?format=pdf", token: Token.alice).expectError(.badRequest)

            let csv = try await client.get("/v1/members/alice/invoices/2023-11?format=csv", token: Token.alice)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.split(separator: "\r\n").contains("total,,,,0.60,EUR"), "\(csv.text)")
        }
    }
}
