import Testing

@testable import Contracts

/// One change to the base document and what its refusal must say.
struct RefusalCase: Sendable, CustomTestStringConvertible {
    var old: String
    var new: String
    /// The field path, as printed after `file:line: `.
    var field: String
    /// Substrings of the reason.
    var reason: [String]

    init(_ old: String, _ new: String, field: String, _ reason: String...) {
        self.old = old
        self.new = new
        self.field = field
        self.reason = reason
    }

    var testDescription: String { "\(old) → \(new)".replacing("\n", with: "⏎") }
}

@Suite struct RefusalTests {
    static let cases: [RefusalCase] = [
        // Unknown keys, at every level.
        RefusalCase("mechanism:", "mechansim:", field: "mechansim", "unknown key 'mechansim'"),
        RefusalCase("feedIn:", "feedin:", field: "prices.feedin", "unknown key 'feedin'"),
        RefusalCase("  kind: mid-market-rate", "  kind: mid-market-rate\n  price: \"0.1\"", field: "mechanism.price", "unknown key"),
        RefusalCase("price: \"0.35\" }", "price: \"0.35\", day: mon }", field: "prices.retail.windows[0].day", "unknown key"),
        RefusalCase("estimateAfterMinutes: 60", "estimateAfter: 60", field: "data.estimateAfter", "unknown key"),
        // Prices as YAML numbers.
        RefusalCase("default: \"0.30\"", "default: 0.30", field: "prices.retail.default",
            "write prices as quoted decimal strings"),
        RefusalCase("feedIn: \"0.08\"", "feedIn: 0", field: "prices.feedIn", "write prices as quoted decimal strings"),
        RefusalCase("price: \"0.35\"", "price: 0.35", field: "prices.retail.windows[0].price", "quoted decimal strings"),
        RefusalCase("vatPercent: \"20\"", "vatPercent: 20", field: "fees.vatPercent", "write percentages as quoted decimal strings"),
        RefusalCase("default: \"0.30\"", "default: thirty", field: "prices.retail.default", "expected a quoted decimal string"),
        RefusalCase("default: \"0.30\"", "default: \"0,30\"", field: "prices.retail.default", "not a plain decimal"),
        RefusalCase("default: \"0.30\"", "default: \"1e-1\"", field: "prices.retail.default", "not a plain decimal"),
        RefusalCase("default: \"0.30\"", "default: \"101\"", field: "prices.retail.default", "above 100"),
        RefusalCase("servicePerMemberPerPeriod: \"2.50\"", "servicePerMemberPerPeriod: \"2.5000001\"",
            field: "fees.servicePerMemberPerPeriod", "more than 6 fractional digits"),
        RefusalCase("vatPercent: \"20\"", "vatPercent: \"20.00001\"", field: "fees.vatPercent", "more than 4 fractional digits"),
        RefusalCase("vatPercent: \"20\"", "vatPercent: \"100.5\"", field: "fees.vatPercent", "above 100"),
        // Retail below feed-in, by default or in a window.
        RefusalCase("default: \"0.30\"", "default: \"0.05\"", field: "prices.retail.default", "below the feed-in price 0.08"),
        RefusalCase("price: \"0.35\"", "price: \"0.079999\"", field: "prices.retail.windows[0].price", "below the feed-in price"),
        // Windows.
        RefusalCase("from: \"17:00\"", "from: \"21:00\"", field: "prices.retail.windows[0]", "from 21:00 is not before to 21:00"),
        RefusalCase("to: \"21:00\"", "to: \"06:00\"", field: "prices.retail.windows[0]", "not before to 06:00", "cross midnight"),
        RefusalCase("from: \"17:00\"", "from: \"17:10\"", field: "prices.retail.windows[0].from",
            "17:10 is not on the 15-minute settlement interval grid"),
        RefusalCase("to: \"21:00\"", "to: \"20:59\"", field: "prices.retail.windows[0].to", "not on the 15-minute"),
        RefusalCase("from: \"17:00\"", "from: \"5pm\"", field: "prices.retail.windows[0].from", "not a local time HH:MM"),
        RefusalCase("from: \"17:00\"", "from: \"24:00\"", field: "prices.retail.windows[0].from", "not a local time"),
        RefusalCase("days: [mon, tue", "days: [monday, tue", field: "prices.retail.windows[0].days[0]",
            "unknown day 'monday'", "mon, tue, wed, thu, fri, sat, sun"),
        RefusalCase("days: [mon, tue", "days: [Mon, tue", field: "prices.retail.windows[0].days[0]", "unknown day 'Mon'"),
        RefusalCase("days: [mon, tue", "days: [mon, mon", field: "prices.retail.windows[0].days[1]", "listed twice"),
        RefusalCase("days: [mon, tue, wed, thu, fri]", "days: []", field: "prices.retail.windows[0].days", "at least one day"),
        // Time zone and interval.
        RefusalCase("timeZone: Europe/Vienna", "timeZone: Europe/Viena", field: "timeZone", "unknown time zone 'Europe/Viena'"),
        RefusalCase("timeZone: Europe/Vienna", "timeZone: CET+1", field: "timeZone", "unknown time zone"),
        RefusalCase("settlementIntervalMinutes: 15", "settlementIntervalMinutes: 25", field: "settlementIntervalMinutes",
            "25 is not an allowed settlement interval", "5, 10, 15, 20, 30, 60"),
        RefusalCase("settlementIntervalMinutes: 15", "settlementIntervalMinutes: -15", field: "settlementIntervalMinutes",
            "outside"),
        // Mechanism fields of another kind.
        RefusalCase("  kind: mid-market-rate", "  kind: mid-market-rate\n  communityPrice: \"0.12\"",
            field: "mechanism.communityPrice", "does not belong to kind mid-market-rate"),
        RefusalCase("  kind: mid-market-rate", "  kind: dynamic-keys\n  communityPrice: \"0.12\"\n  shares: { a: \"0.5\" }",
            field: "mechanism.shares", "do not belong to kind dynamic-keys"),
        RefusalCase("  kind: mid-market-rate", "  kind: static-keys\n  shares: { a: \"0.5\" }", field: "mechanism",
            "needs communityPrice"),
        RefusalCase("  kind: mid-market-rate", "  kind: static-keys\n  communityPrice: \"0.12\"", field: "mechanism", "needs shares"),
        RefusalCase("  kind: mid-market-rate", "  kind: mid-market", field: "mechanism.kind", "unknown mechanism kind 'mid-market'"),
        // Shares.
        RefusalCase("  kind: mid-market-rate",
            "  kind: static-keys\n  communityPrice: \"0.12\"\n  shares: { alice: \"0.6\", bob: \"0.5\" }",
            field: "mechanism.shares", "add up to 1.1, more than 1"),
        RefusalCase("  kind: mid-market-rate",
            "  kind: static-keys\n  communityPrice: \"0.12\"\n  shares: { alice: \"-0.1\" }",
            field: "mechanism.shares.alice", "negative"),
        RefusalCase("  kind: mid-market-rate",
            "  kind: static-keys\n  communityPrice: \"0.12\"\n  shares: { alice: 0.5 }",
            field: "mechanism.shares.alice", "write shares as quoted decimal strings"),
        RefusalCase("members: all\nmechanism:\n  kind: mid-market-rate",
            "members: [alice]\nmechanism:\n  kind: static-keys\n  communityPrice: \"0.12\"\n  shares: { bob: \"0.5\" }",
            field: "mechanism.shares.bob", "'bob' is not in members"),
        // Negative numbers.
        RefusalCase("feedIn: \"0.08\"", "feedIn: \"-0.08\"", field: "prices.feedIn", "\"-0.08\" is negative", "must not be negative"),
        RefusalCase("communityGridFee: \"0.02\"", "communityGridFee: \"-0.02\"", field: "prices.communityGridFee", "negative"),
        RefusalCase("vatPercent: \"20\"", "vatPercent: \"-20\"", field: "fees.vatPercent", "negative"),
        RefusalCase("servicePerMemberPerPeriod: \"2.50\"", "servicePerMemberPerPeriod: \"-2.50\"",
            field: "fees.servicePerMemberPerPeriod", "negative"),
        RefusalCase("version: 1", "version: -1", field: "version", "-1 is outside 1…"),
        RefusalCase("version: 1", "version: 0", field: "version", "outside"),
        RefusalCase("minorUnitDigits: 2", "minorUnitDigits: -2", field: "minorUnitDigits", "outside 0…4"),
        RefusalCase("minorUnitDigits: 2", "minorUnitDigits: 5", field: "minorUnitDigits", "outside 0…4"),
        RefusalCase("estimateAfterMinutes: 60", "estimateAfterMinutes: 0", field: "data.estimateAfterMinutes", "outside 1…10080"),
        RefusalCase("estimateAfterMinutes: 60", "estimateAfterMinutes: 10081", field: "data.estimateAfterMinutes", "outside"),
        // The marker.
        RefusalCase("contract: gridledger-contract/v1", "contract: gridledger-contract/v2", field: "contract",
            "'gridledger-contract/v2' is not a contract format", "gridledger-contract/v1"),
        RefusalCase("contract: gridledger-contract/v1\n", "", field: "", "missing key 'contract'"),
        // Members.
        RefusalCase("members: all", "members: []", field: "members", "empty"),
        RefusalCase("members: all", "members: [alice, bob, alice]", field: "members[2]", "member 'alice' is listed twice"),
        RefusalCase("members: all", "members: everyone", field: "members", "expected 'all' or a list of member ids"),
        RefusalCase("members: all", "members: [alice, \"bob smith\"]", field: "members[1]", "must be 1…64 characters"),
        // Identity and header fields.
        RefusalCase("id: sunny-hill", "id: sunny/hill", field: "id", "must be 1…64 characters"),
        RefusalCase("id: sunny-hill", "id: " + String(repeating: "x", count: 65), field: "id", "1…64"),
        RefusalCase("currency: EUR", "currency: eur", field: "currency", "not an ISO 4217 currency code"),
        RefusalCase("currency: EUR", "currency: EURO", field: "currency", "ISO 4217"),
        RefusalCase("billingPeriod: month", "billingPeriod: quarter", field: "billingPeriod", "only \"month\""),
        RefusalCase("id: sunny-hill\n", "", field: "", "missing key 'id'"),
        RefusalCase("  feedIn: \"0.08\"\n", "", field: "prices", "missing key 'feedIn'"),
        // validFrom.
        RefusalCase("validFrom: 2026-11-01T00:00:00+01:00", "validFrom: 2026-11-01T00:00:00", field: "validFrom",
            "not an RFC 3339 timestamp with an offset"),
        RefusalCase("validFrom: 2026-11-01T00:00:00+01:00", "validFrom: 2026-11-01", field: "validFrom", "RFC 3339"),
        RefusalCase("validFrom: 2026-11-01T00:00:00+01:00", "validFrom: 2026-11-01T00:00:00.0001+01:00", field: "validFrom",
            "more precise than a millisecond"),
        RefusalCase("validFrom: 2026-11-01T00:00:00+01:00", "validFrom: 2026-02-29T00:00:00+01:00", field: "validFrom",
            "2026-02-29 is not a calendar date"),
        RefusalCase("validFrom: 2026-11-01T00:00:00+01:00", "validFrom: 2026-11-01T00:05:00+01:00", field: "validFrom",
            "not the start of a 15-minute settlement interval"),
        RefusalCase("validFrom: 2026-11-01T00:00:00+01:00", "validFrom: 2026-11-01T24:00:00+01:00", field: "validFrom",
            "time of day is out of range"),
        // YAML itself.
        RefusalCase("id: sunny-hill", "id: sunny-hill\nid: other", field: "", "invalid YAML"),
    ]

    @Test(arguments: cases)
    func isRefusedNamingTheFieldAndWhy(_ testCase: RefusalCase) throws {
        let error = try #require(refusal(document(replacing: testCase.old, with: testCase.new)))
        #expect(error.field == testCase.field, "\(error)")
        for part in testCase.reason {
            #expect(error.reason.contains(part), "\(error)")
        }
        #expect(error.file == "contract.yaml")
        if testCase.field.isEmpty {
            #expect(error.description.hasPrefix("contract.yaml"))
        } else {
            #expect(error.description.contains(": \(testCase.field): "), "\(error)")
        }
    }

    @Test func theIssueExampleMessageIsExact() throws {
        let text = document(replacing: "default: \"0.30\"", with: "default: \"0.3000001\"")
        let error = try #require(refusal(text))
        #expect(error.line == 15)
        #expect(error.description == "contract.yaml:15: prices.retail.default: \"0.3000001\" has more than 6 fractional digits")
    }

    @Test func errorsCarryTheLineOfTheOffendingNode() throws {
        let error = try #require(refusal(document(replacing: "mechanism:", with: "mechansim:")))
        #expect(error.line == 11)
        let window = try #require(refusal(document(replacing: "from: \"17:00\"", with: "from: \"17:10\"")))
        #expect(window.line == 17)
    }

    @Test func aDocumentLargerThanOneLedgerEventIsRefusedBeforeParsing() throws {
        let padding = "\n" + String(repeating: "# padding\n", count: 6600)
        let text = baseDocument + padding
        #expect(text.utf8.count > Contract.maximumSize)
        let error = try #require(refusal(text))
        #expect(error.field == "")
        #expect(error.reason.contains("more than 65000") && error.reason.contains("one event"))
        // The same document just under the bound parses.
        let trimmed = String(text.utf8.prefix(Contract.maximumSize))!
        #expect(throws: Never.self) { try parse(trimmed) }
    }

    @Test func windowsFollowTheIntervalGrid() throws {
        let hourly = document(replacing: "settlementIntervalMinutes: 15", with: "settlementIntervalMinutes: 60")
        #expect(throws: Never.self) { try parse(hourly) }
        let error = try #require(refusal(hourly.replacing("from: \"17:00\"", with: "from: \"17:30\"")))
        #expect(error.field == "prices.retail.windows[0].from")
        #expect(error.reason.contains("17:30 is not on the 60-minute settlement interval grid"), "\(error)")
    }

    @Test func bytesThatAreNotUTF8AreRefused() {
        var bytes = Array(baseDocument.utf8)
        bytes.append(0xFF)
        #expect(throws: ContractError.self) { try Contract.parse(bytes) }
    }

    @Test func aZoneWhoseOffsetIsNotAMultipleOfTheIntervalIsRefused() throws {
        let kolkata = document(replacing: "timeZone: Europe/Vienna", with: "timeZone: Asia/Kolkata")
            .replacing("settlementIntervalMinutes: 15", with: "settlementIntervalMinutes: 60")
            .replacing("validFrom: 2026-11-01T00:00:00+01:00", with: "validFrom: 2026-11-01T00:00:00Z")
        let error = try #require(refusal(kolkata))
        #expect(error.field == "timeZone")
        #expect(error.reason.contains("Asia/Kolkata is UTC+05:30"), "\(error)")
        #expect(error.reason.contains("not a multiple of the 60-minute settlement interval"), "\(error)")
        // 30-minute intervals fit UTC+05:30.
        #expect(throws: Never.self) { try parse(kolkata.replacing("settlementIntervalMinutes: 60", with: "settlementIntervalMinutes: 30")) }
        // Nepal, UTC+05:45, fits 15 minutes but not 30.
        let kathmandu = document(replacing: "timeZone: Europe/Vienna", with: "timeZone: Asia/Kathmandu")
        #expect(throws: Never.self) { try parse(kathmandu) }
        let error30 = try #require(
            refusal(kathmandu.replacing("settlementIntervalMinutes: 15", with: "settlementIntervalMinutes: 30")))
        #expect(error30.reason.contains("UTC+05:45"), "\(error30)")
    }
}
