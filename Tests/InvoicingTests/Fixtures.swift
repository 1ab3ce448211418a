import BillingCore
import Contracts
import Invoicing
import Testing

@testable import Settlement

/// A contract for the community of the tests: Europe/Vienna, 15-minute intervals, retail 0.30,
/// feed-in 0.08, EUR in cents unless changed.
func contract(
    id: String = "sunny-hill", version: Int = 1, validFrom: String = "2026-11-01T00:00:00+01:00", currency: String = "EUR",
    mechanism: String = "mid-market-rate", gridFee: String = "0.02", service: String = "2.50", vatPercent: String = "20"
) throws -> Contract {
    let text = """
        contract: gridledger-contract/v1
        id: \(id)
        version: \(version)
        validFrom: \(validFrom)
        currency: \(currency)
        minorUnitDigits: 2
        timeZone: Europe/Vienna
        settlementIntervalMinutes: 15
        billingPeriod: month
        members: all
        mechanism:
          kind: \(mechanism)
        prices:
          retail:
            default: "0.30"
          feedIn: "0.08"
          communityGridFee: "\(gridFee)"
        fees:
          servicePerMemberPerPeriod: "\(service)"
          vatPercent: "\(vatPercent)"

        """
    return try Contract.parse(Array(text.utf8), file: "\(id).yaml")
}

/// One member's energy in an interval.
func member(_ id: String, import importWh: Int64 = 0, export exportWh: Int64 = 0) -> MemberEnergy {
    MemberEnergy(memberID: id, importWh: importWh, exportWh: exportWh)
}

/// The issue's community: A exports 4 kWh, B and C import 3 kWh each.
let issueMembers = [member("A", export: 4000), member("B", import: 3000), member("C", import: 3000)]

/// The records of one interval, computed as the settlement runner computes them (the contract's
/// tariff, `IntervalSettlement`, rounding to micro-units), in chunks of `chunkSize` lines.
func settle(
    _ contract: Contract, at start: Int64, _ members: [MemberEnergy], estimated: Set<String> = [], revision: UInt16 = 0,
    chunkSize: Int = SettlementRecord.membersPerChunk
) throws -> [SettlementRecord] {
    let tariff = try DeployedContract(contract).tariff(forIntervalStartingAt: start)
    let settlement = try IntervalSettlement(members: members, tariff: tariff, mechanism: contract.mechanism)
    let rounded = try RoundedSettlement(settlement, unitsPerCurrencyUnit: SettlementRecord.amountScale)
    let lines = rounded.members.map { line in
        SettlementLine(
            memberID: line.memberID, estimated: estimated.contains(line.memberID), importWh: line.importWh, exportWh: line.exportWh,
            fromCommunityWh: line.fromCommunityWh, toCommunityWh: line.toCommunityWh, energyCharge: line.energyCharge,
            energyCredit: line.energyCredit, gridFeeCharge: line.gridFeeCharge, baselineCharge: line.baselineCharge,
            baselineCredit: line.baselineCredit)
    }
    let chunks = stride(from: 0, to: lines.count, by: chunkSize).map { Array(lines[$0..<min(lines.count, $0 + chunkSize)]) }
    return chunks.enumerated().map { index, chunk in
        SettlementRecord(
            contractHash: contract.hash, intervalStartMillis: start, intervalMillis: contract.intervalMillis, revision: revision,
            chunk: UInt16(index), chunkCount: UInt16(chunks.count), mechanism: SettlementRecord.code(of: contract.mechanism),
            retail: tariff.retail.microUnitsPerKWh, feedIn: tariff.feedIn.microUnitsPerKWh, gridFee: tariff.gridFee.microUnitsPerKWh,
            communityPrice: tariff.communityPrice?.microUnitsPerKWh ?? -1,
            demandWh: members.reduce(0) { $0 + $1.importWh }, supplyWh: members.reduce(0) { $0 + $1.exportWh }, lines: chunk)
    }
}

/// UTC milliseconds of `YYYY-MM-DDTHH:MMZ`, by integer arithmetic.
func utc(_ text: String) -> Int64 {
    let bytes = Array(text.utf8)
    func number(_ range: Range<Int>) -> Int64 { Int64(String(decoding: bytes[range], as: UTF8.self)) ?? 0 }
    let (year, month, day) = (number(0..<4), number(5..<7), number(8..<10))
    let (hour, minute) = (number(11..<13), number(14..<16))
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = shiftedYear / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return ((days * 24 + hour) * 60 + minute) * 60_000
}

/// 15 minutes in ms.
let quarterHour: Int64 = 15 * 60_000

/// The message of the `InvoiceError` that `body` throws; records an issue when it throws none.
func invoiceError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("no error was thrown", sourceLocation: sourceLocation)
        return ""
    } catch let error as InvoiceError {
        return error.description
    } catch {
        Issue.record("not an InvoiceError: \(error)", sourceLocation: sourceLocation)
        return ""
    }
}
