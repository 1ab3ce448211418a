import Foundation
import Testing

@testable import Contracts

/// The package root, found from this file's path (Tests/ContractsTests/Fixtures.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The bytes of `docs/contracts/<name>`.
func exampleBytes(_ name: String) throws -> [UInt8] {
    let url = packageRoot.appendingPathComponent("docs/contracts").appendingPathComponent(name)
    return Array(try Data(contentsOf: url))
}

/// A complete valid document that the refusal tests change one line of.
let baseDocument = """
    contract: gridledger-contract/v1
    id: sunny-hill
    version: 1
    validFrom: 2026-11-01T00:00:00+01:00
    currency: EUR
    minorUnitDigits: 2
    timeZone: Europe/Vienna
    settlementIntervalMinutes: 15
    billingPeriod: month
    members: all
    mechanism:
      kind: mid-market-rate
    prices:
      retail:
        default: "0.30"
        windows:
          - { days: [mon, tue, wed, thu, fri], from: "17:00", to: "21:00", price: "0.35" }
      feedIn: "0.08"
      communityGridFee: "0.02"
    fees:
      servicePerMemberPerPeriod: "2.50"
      vatPercent: "20"
    data:
      estimateAfterMinutes: 60

    """

/// `baseDocument` with `old` (which must occur) replaced by `new`.
func document(replacing old: String, with new: String) -> String {
    #expect(baseDocument.contains(old), "the base document has no \(old)")
    return baseDocument.replacing(old, with: new)
}

/// Parses `text` as `contract.yaml`.
func parse(_ text: String) throws(ContractError) -> Contract {
    try Contract.parse(Array(text.utf8), file: "contract.yaml")
}

/// The refusal of `text`, or `nil` with a recorded issue when it parses.
func refusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ContractError? {
    do {
        _ = try parse(text)
        Issue.record("the document was accepted", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// UTC milliseconds of an instant written as RFC 3339, for readable expectations.
func utc(_ text: String) -> Int64 {
    (try? rfc3339Millis(text)) ?? Int64.min
}
