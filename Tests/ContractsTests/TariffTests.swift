import BillingCore
import Testing

@testable import Contracts

@Suite struct TariffTests {
    static let contract = try! Contract.parse(try! exampleBytes("mid-market-example.yaml"))
    static let calendar = try! ContractCalendar(contract: contract)

    func retail(at instant: String) throws -> Price {
        try Self.contract.tariff(forIntervalStartingAt: utc(instant), calendar: Self.calendar).retail
    }

    @Test func theEveningWindowAppliesAt17LocalInWinterAndSummer() throws {
        let peak = try Price("0.35")
        let base = try Price("0.30")
        // Wednesday 2026-11-04, UTC+1: 17:00 local is 16:00Z.
        #expect(try retail(at: "2026-11-04T15:45:00Z") == base)
        #expect(try retail(at: "2026-11-04T16:00:00Z") == peak)
        #expect(try retail(at: "2026-11-04T19:45:00Z") == peak)
        #expect(try retail(at: "2026-11-04T20:00:00Z") == base)
        // Wednesday 2027-07-07, UTC+2: 17:00 local is 15:00Z.
        #expect(try retail(at: "2027-07-07T14:45:00Z") == base)
        #expect(try retail(at: "2027-07-07T15:00:00Z") == peak)
        #expect(try retail(at: "2027-07-07T18:45:00Z") == peak)
        #expect(try retail(at: "2027-07-07T19:00:00Z") == base)
        // Saturday 2026-11-07: no window.
        #expect(try retail(at: "2026-11-07T16:00:00Z") == base)
    }

    @Test func theOtherPricesComeFromTheContract() throws {
        let tariff = try Self.contract.tariff(forIntervalStartingAt: utc("2026-11-04T16:00:00Z"), calendar: Self.calendar)
        #expect(tariff.feedIn == (try Price("0.08")))
        #expect(tariff.gridFee == (try Price("0.02")))
        #expect(tariff.communityPrice == nil)

        let keys = try Contract.parse(try exampleBytes("static-keys-example.yaml"))
        let keysCalendar = try ContractCalendar(contract: keys)
        // Saturday 2027-01-02 at 10:00 local (09:00Z): the weekend window; the community price.
        let weekend = try keys.tariff(forIntervalStartingAt: utc("2027-01-02T09:00:00Z"), calendar: keysCalendar)
        #expect(weekend.retail == (try Price("0.22")))
        #expect(weekend.communityPrice == (try Price("0.12")))
        #expect(weekend.gridFee.microUnitsPerKWh == 31_500)
        // Monday 2027-01-04 at 06:00 and 17:00 local: the first matching window of each.
        #expect(try keys.tariff(forIntervalStartingAt: utc("2027-01-04T05:00:00Z"), calendar: keysCalendar).retail == (try Price("0.32")))
        #expect(try keys.tariff(forIntervalStartingAt: utc("2027-01-04T16:00:00Z"), calendar: keysCalendar).retail == (try Price("0.34")))
        #expect(try keys.tariff(forIntervalStartingAt: utc("2027-01-04T12:00:00Z"), calendar: keysCalendar).retail == (try Price("0.28")))
    }

    @Test func theFirstMatchingWindowWins() throws {
        let text = document(
            replacing: "      - { days: [mon, tue, wed, thu, fri], from: \"17:00\", to: \"21:00\", price: \"0.35\" }",
            with: "      - { days: [wed], from: \"18:00\", to: \"19:00\", price: \"0.50\" }\n"
                + "      - { days: [mon, tue, wed, thu, fri], from: \"17:00\", to: \"21:00\", price: \"0.35\" }")
        let contract = try parse(text)
        let calendar = try ContractCalendar(contract: contract)
        func retail(_ instant: String) throws -> Price {
            try contract.tariff(forIntervalStartingAt: utc(instant), calendar: calendar).retail
        }
        #expect(try retail("2026-11-04T17:00:00Z") == (try Price("0.50")))  // Wednesday 18:00
        #expect(try retail("2026-11-04T16:00:00Z") == (try Price("0.35")))  // Wednesday 17:00
        #expect(try retail("2026-11-05T17:00:00Z") == (try Price("0.35")))  // Thursday 18:00
    }

    @Test func questionsOutsideTheContractAreRefused() throws {
        // Not an interval start.
        let unaligned = try #require(throws: ContractError.self) {
            try Self.contract.tariff(forIntervalStartingAt: utc("2026-11-04T16:05:00Z"), calendar: Self.calendar)
        }
        #expect(unaligned.reason.contains("not the start of a 15-minute interval"), "\(unaligned)")
        // Before validFrom.
        let early = try #require(throws: ContractError.self) {
            try Self.contract.tariff(forIntervalStartingAt: utc("2026-10-31T22:45:00Z"), calendar: Self.calendar)
        }
        #expect(early.field == "validFrom")
        #expect(throws: Never.self) {
            try Self.contract.tariff(forIntervalStartingAt: utc("2026-10-31T23:00:00Z"), calendar: Self.calendar)
        }
        // Another contract's calendar.
        let other = try ContractCalendar(timeZone: "America/New_York", intervalMinutes: 15, checkingOffsetsFrom: 0)
        let mismatch = try #require(throws: ContractError.self) {
            try Self.contract.tariff(forIntervalStartingAt: utc("2026-11-04T16:00:00Z"), calendar: other)
        }
        #expect(mismatch.reason.contains("America/New_York"), "\(mismatch)")
        // An injected rule whose offset does not fit the interval is refused at use.
        let odd = try ContractCalendar(rules: FixedUTCOffset(seconds: 600), timeZone: "Europe/Vienna", intervalMinutes: 15)
        let misaligned = try #require(throws: ContractError.self) {
            try Self.contract.tariff(forIntervalStartingAt: utc("2026-11-04T16:00:00Z"), calendar: odd)
        }
        #expect(misaligned.field == "timeZone")
        #expect(misaligned.reason.contains("not a multiple of the 15-minute"), "\(misaligned)")
    }
}
