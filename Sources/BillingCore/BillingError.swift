/// Why a billing computation was refused.
///
/// Every entry point of `BillingCore` validates its input before computing and checks every
/// arithmetic step, so a bad tariff, a malformed member list or a sum too large for `Int128`
/// surfaces as one of these errors, never as a trap in a running aggregator.
public enum BillingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An exact intermediate value does not fit `Int128`.
    case arithmeticOverflow
    /// A division by zero was asked for.
    case divisionByZero
    /// A price that cannot be used: the text or value given, and why.
    case invalidPrice(String, reason: String)
    /// A quantity outside the bounds the arithmetic is sized for: what it was, and the bound.
    case outOfBounds(String, limit: String)
    /// The same member ID appears twice in one interval.
    case duplicateMember(String)
    /// A member ID that cannot be used, and why.
    case invalidMemberID(String, reason: String)
    /// An allocation key names a member that has no energy record in the interval.
    case unknownMember(String)
    /// The tariff's feed-in price exceeds its retail price.
    case retailBelowFeedIn(retail: Price, feedIn: Price)
    /// Allocation-key shares that cannot be applied, and why.
    case invalidShares(String)
    /// An allocation-key mechanism was asked for with a tariff that has no community price.
    case missingCommunityPrice(mechanism: String)
    /// A text that is not a rational number in one of the accepted forms.
    case malformedNumber(String)

    /// A message for logs and operators, prefixed `BillingError:`, naming the offending value.
    public var description: String {
        switch self {
        case .arithmeticOverflow:
            return "BillingError: an exact intermediate value does not fit Int128 (arithmetic overflow)"
        case .divisionByZero:
            return "BillingError: division by zero"
        case .invalidPrice(let text, let reason):
            return "BillingError: invalid price \"\(text)\": \(reason)"
        case .outOfBounds(let what, let limit):
            return "BillingError: \(what) is out of bounds (allowed: \(limit))"
        case .duplicateMember(let id):
            return "BillingError: member \"\(id)\" appears more than once in the interval"
        case .invalidMemberID(let id, let reason):
            return "BillingError: invalid member ID \"\(id)\": \(reason)"
        case .unknownMember(let id):
            return "BillingError: allocation key for member \"\(id)\", who has no energy record in the interval"
        case .retailBelowFeedIn(let retail, let feedIn):
            return "BillingError: retail price \(retail) per kWh is below the feed-in price \(feedIn) per kWh;"
                + " every community mechanism assumes retail ≥ feed-in"
        case .invalidShares(let reason):
            return "BillingError: invalid allocation key shares: \(reason)"
        case .missingCommunityPrice(let mechanism):
            return "BillingError: mechanism \(mechanism) prices covered energy at the community price,"
                + " but the tariff has none"
        case .malformedNumber(let text):
            return "BillingError: \"\(text)\" is not a rational number (expected \"n\", \"n/d\" or a decimal like \"-0.25\")"
        }
    }
}
