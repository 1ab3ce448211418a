public import Contracts
import BillingCore

/// Why an invoice or a period statement could not be made.
///
/// Every case names what was asked for and what is missing or contradictory, so that the message
/// alone tells an operator what to fix (docs/INVOICES.md).
public enum InvoiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The billing period id is not `YYYY-MM`; the calendar's reason is passed through.
    case malformedPeriodID(String, ContractError)
    /// No deployed contract is in force at any instant of the period.
    case noContract(periodID: String)
    /// A deployed contract document does not parse, or its calendar cannot be built.
    case invalidContract(String, ContractError)
    /// A settlement payload (its position among those given) does not decode, and why.
    case undecodableSettlement(position: Int, reason: String)
    /// No settlement record has an interval starting in the period.
    case noSettlement(periodID: String)
    /// The member has no settlement line in the period's latest revisions.
    case unknownMember(String, periodID: String)
    /// A settlement record names a contract hash that no deployed contract has.
    case unknownContract(hash: String, intervalStartMillis: Int64)
    /// A record of the period was settled under a contract in another currency than the
    /// contract the invoice is issued under.
    case mixedCurrencies(invoiceCurrency: String, contract: String, currency: String)
    /// Settlement records that contradict each other or the deployed contracts: what and where.
    case inconsistentSettlement(String)
    /// An exact intermediate value or an amount does not fit the integers it is kept in.
    case arithmeticOverflow

    /// A message for operators, prefixed `InvoiceError:`.
    public var description: String {
        switch self {
        case .malformedPeriodID(let id, let error):
            return "InvoiceError: malformed billing period id '\(id)': \(error.description)"
        case .noContract(let periodID):
            return "InvoiceError: no deployed contract is in force during billing period \(periodID)"
        case .invalidContract(let contract, let error):
            return "InvoiceError: deployed contract \(contract) cannot be used: \(error.description)"
        case .undecodableSettlement(let position, let reason):
            return "InvoiceError: settlement payload #\(position + 1) does not decode: \(reason)"
        case .noSettlement(let periodID):
            return "InvoiceError: no settlement record has an interval in billing period \(periodID) (nothing settled yet?)"
        case .unknownMember(let memberID, let periodID):
            return "InvoiceError: unknown member '\(memberID)': no settlement line for it in billing period \(periodID)"
        case .unknownContract(let hash, let start):
            return "InvoiceError: the settlement of the interval starting \(utcText(start)) names unknown contract hash \(hash)"
                + " (not among the deployed contracts given)"
        case .mixedCurrencies(let invoiceCurrency, let contract, let currency):
            return "InvoiceError: mixed currencies: the invoice is in \(invoiceCurrency), but intervals of the period were"
                + " settled under contract \(contract) in \(currency)"
        case .inconsistentSettlement(let reason):
            return "InvoiceError: inconsistent settlement records: \(reason)"
        case .arithmeticOverflow:
            return "InvoiceError: an amount does not fit the integers it is kept in (arithmetic overflow)"
        }
    }

    /// A billing computation's refusal: an overflow stays one, anything else means the records
    /// hold values the arithmetic refuses (BillingCore validates its input).
    init(_ error: BillingError) {
        switch error {
        case .arithmeticOverflow: self = .arithmeticOverflow
        default: self = .inconsistentSettlement(error.description)
        }
    }
}

/// Runs `body`, turning a `BillingError` into an `InvoiceError`.
func billing<T>(_ body: () throws(BillingError) -> T) throws(InvoiceError) -> T {
    do {
        return try body()
    } catch {
        throw InvoiceError(error)
    }
}

/// `value` as `Int64`, or `.arithmeticOverflow`.
func narrow(_ value: Int128) throws(InvoiceError) -> Int64 {
    guard let result = Int64(exactly: value) else { throw .arithmeticOverflow }
    return result
}

/// `a + b` in `Int128`, or `.arithmeticOverflow`.
func add(_ a: Int128, _ b: Int128) throws(InvoiceError) -> Int128 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    guard !overflow else { throw .arithmeticOverflow }
    return sum
}

/// Lower-case hex of `bytes`.
func hexText(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".unicodeScalars)
    var text = String.UnicodeScalarView()
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return String(text)
}
