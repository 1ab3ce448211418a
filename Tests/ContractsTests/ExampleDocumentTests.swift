import BillingCore
import Testing

@testable import Contracts

@Suite struct ExampleDocumentTests {
    @Test func theMidMarketExampleParsesAsWritten() throws {
        let bytes = try exampleBytes("mid-market-example.yaml")
        let contract = try Contract.parse(bytes, file: "mid-market-example.yaml")
        #expect(contract.id == "sunny-hill")
        #expect(contract.version == 1)
        #expect(contract.validFromMillis == 1_793_487_600_000)  // 2026-10-31T23:00:00Z
        #expect(contract.currency == "EUR")
        #expect(contract.minorUnitDigits == 2)
        #expect(contract.timeZone == "Europe/Vienna")
        #expect(contract.settlementIntervalMinutes == 15)
        #expect(contract.intervalMillis == 900_000)
        #expect(contract.billingPeriod == .month)
        #expect(contract.members == .all)
        #expect(contract.mechanism == .midMarketRate)
        #expect(contract.communityPrice == nil)
        #expect(contract.prices.retail.defaultPrice == (try Price("0.30")))
        #expect(contract.prices.retail.windows.count == 1)
        let window = try #require(contract.prices.retail.windows.first)
        #expect(window.days == [.monday, .tuesday, .wednesday, .thursday, .friday])
        #expect(window.fromMinute == 17 * 60)
        #expect(window.toMinute == 21 * 60)
        #expect(window.price == (try Price("0.35")))
        #expect(contract.prices.feedIn == (try Price("0.08")))
        #expect(contract.prices.communityGridFee == (try Price("0.02")))
        #expect(contract.fees.servicePerMemberPerPeriod == (try Rational("5/2")))
        #expect(contract.fees.vatRate == (try Rational("1/5")))
        #expect(contract.estimateAfterMinutes == 60)
        #expect(contract.sourceBytes == bytes)
        #expect(contract.hash.count == 32)
    }

    @Test func theStaticKeysExampleParsesAsWritten() throws {
        let contract = try Contract.parse(try exampleBytes("static-keys-example.yaml"), file: "static-keys-example.yaml")
        #expect(contract.id == "eeg-lindenweg")
        #expect(contract.version == 3)
        #expect(contract.validFromMillis == utc("2026-12-31T23:00:00Z"))
        #expect(contract.members == .listed(["alice", "bob", "carol"]))
        #expect(contract.mechanism == .staticKeys(["alice": try Rational("1/2"), "bob": try Rational("3/10")]))
        #expect(contract.communityPrice == (try Price("0.12")))
        #expect(contract.prices.retail.defaultPrice == (try Price("0.28")))
        #expect(contract.prices.retail.windows.map(\.days) == [
            [.saturday, .sunday], [.monday, .tuesday, .wednesday, .thursday, .friday],
            [.monday, .tuesday, .wednesday, .thursday, .friday],
        ])
        #expect(contract.prices.retail.windows.map(\.fromMinute) == [600, 360, 1020])
        #expect(contract.prices.retail.windows.map(\.toMinute) == [960, 540, 1260])
        #expect(contract.prices.retail.windows.map(\.price) == [try Price("0.22"), try Price("0.32"), try Price("0.34")])
        #expect(contract.prices.feedIn == (try Price("0.07")))
        #expect(contract.prices.communityGridFee.microUnitsPerKWh == 31_500)
        #expect(contract.fees.servicePerMemberPerPeriod == (try Rational("1.9")))
        #expect(contract.fees.vatRate == (try Rational("1/5")))
        #expect(contract.estimateAfterMinutes == 120)
    }

    @Test func theGridOnlyExampleParsesWithItsDefaults() throws {
        let contract = try Contract.parse(try exampleBytes("grid-only-example.yaml"), file: "grid-only-example.yaml")
        #expect(contract.id == "baseline.grid-only")
        #expect(contract.validFromMillis == utc("2026-06-01T00:00:00Z"))
        #expect(contract.currency == "CHF")
        #expect(contract.timeZone == "Europe/Zurich")
        #expect(contract.settlementIntervalMinutes == 60)
        #expect(contract.intervalMillis == 3_600_000)
        #expect(contract.members == .listed(["m-001", "m-002"]))
        #expect(contract.mechanism == .gridOnly)
        #expect(contract.communityPrice == nil)
        #expect(contract.prices.retail.defaultPrice.microUnitsPerKWh == 291_400)
        #expect(contract.prices.retail.windows.isEmpty)
        #expect(contract.prices.feedIn.microUnitsPerKWh == 105_000)
        #expect(contract.prices.communityGridFee == .zero)
        #expect(contract.fees.servicePerMemberPerPeriod == .zero)
        #expect(contract.fees.vatRate == .zero)
        #expect(contract.estimateAfterMinutes == 60)
    }

    @Test func theBaseDocumentDefaultsTheIntervalTo15Minutes() throws {
        let contract = try parse(document(replacing: "settlementIntervalMinutes: 15\n", with: ""))
        #expect(contract.settlementIntervalMinutes == 15)
        #expect(contract.intervalMillis == 900_000)
    }

    @Test func otherMechanismKindsMapToBillingCore() throws {
        let kinds: [(String, Mechanism)] = [
            ("none", .gridOnly), ("supply-demand-ratio", .supplyDemandRatio), ("bill-sharing", .billSharing),
        ]
        for (kind, mechanism) in kinds {
            let contract = try parse(document(replacing: "kind: mid-market-rate", with: "kind: \(kind)"))
            #expect(contract.mechanism == mechanism)
        }
        let dynamic = try parse(
            document(replacing: "kind: mid-market-rate", with: "kind: dynamic-keys\n  communityPrice: \"0.15\""))
        #expect(dynamic.mechanism == .dynamicKeys)
        #expect(dynamic.communityPrice == (try Price("0.15")))
    }

    @Test func aVATWithFractionalDigitsIsExact() throws {
        let contract = try parse(document(replacing: "vatPercent: \"20\"", with: "vatPercent: \"7.6875\""))
        #expect(contract.fees.vatRate == (try Rational("0.076875")))
    }

    @Test func windowsMayEndAtMidnight() throws {
        let contract = try parse(document(replacing: "to: \"21:00\"", with: "to: \"24:00\""))
        #expect(contract.prices.retail.windows.first?.toMinute == 1440)
    }
}

@Suite struct HashTests {
    /// SHA-256 of these exact bytes, computed independently (Python's hashlib).
    static let hashedDocument = "contract: gridledger-contract/v1\nid: h\nversion: 1\nvalidFrom: 2026-01-01T00:00:00Z\ncurrency: EUR\nminorUnitDigits: 2\ntimeZone: UTC\nbillingPeriod: month\nmembers: all\nmechanism: { kind: none }\nprices: { retail: { default: \"0.30\" }, feedIn: \"0.08\" }\n"
    static let documentSHA256 = "8268a79ce1a102140d84dfba5cb812aa606e58805b0622a1dcdd389ee6d8dea0"

    @Test func theHashIsSHA256OfTheExactBytes() throws {
        let contract = try parse(Self.hashedDocument)
        #expect(contract.sourceBytes == Array(Self.hashedDocument.utf8))
        #expect(hex(contract.hash) == Self.documentSHA256)
    }

    @Test func oneMoreSpaceChangesTheHashButNotTheMeaning() throws {
        let original = try parse(baseDocument)
        let spaced = try parse(document(replacing: "id: sunny-hill", with: "id:  sunny-hill"))
        #expect(spaced.id == original.id)
        #expect(spaced.prices == original.prices)
        #expect(spaced.hash != original.hash)
        #expect(spaced != original)
        #expect(try parse(baseDocument) == original)
        #expect(try parse(baseDocument).hash == original.hash)
    }

    func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}
