/// How a community's internal exchanges are priced in one interval.
///
/// D is the community's demand (the sum of imports), S its supply (the sum of exports), r the
/// retail price and e the feed-in price, both per Wh.
public enum Mechanism: Sendable, Hashable, Codable {
    /// The baseline without a community: every member buys at r and sells at e.
    case gridOnly
    /// Mid-market rate (Long et al. 2017): shared energy at (r + e)/2, the shortfall at r or
    /// the surplus at e, folded into one buy and one sell price for everyone.
    case midMarketRate
    /// Supply-demand ratio (Liu et al. 2017): prices move between r and e with SDR = S/D.
    /// Its exact fractions are the largest of all mechanisms: see `BillingBounds`.
    case supplyDemandRatio
    /// Bill sharing (Long et al. 2017): the community's net grid bill, split pro rata to import
    /// (when it is a cost) or to export (when it is a revenue). Over a period, see `BillSharing`.
    case billSharing
    /// Static allocation keys (Austrian energy communities): member → fixed share of the
    /// community's generation. Shares are non-negative and add up to at most 1; members
    /// without a share get 0.
    case staticKeys([String: Rational])
    /// Dynamic allocation keys: generation is shared pro rata to import.
    case dynamicKeys

    /// A short name for messages and reports, e.g. `"midMarketRate"`.
    public var name: String {
        switch self {
        case .gridOnly: "gridOnly"
        case .midMarketRate: "midMarketRate"
        case .supplyDemandRatio: "supplyDemandRatio"
        case .billSharing: "billSharing"
        case .staticKeys: "staticKeys"
        case .dynamicKeys: "dynamicKeys"
        }
    }
}

/// One buy and one sell price per Wh that a mechanism quotes every member alike.
struct UniformPrices {
    var buy: Rational
    var sell: Rational
}

enum PricingRules {
    /// Mid-market rate. With S < D every Wh of supply is sold at p_mid and the buyers pay a
    /// blend of p_mid for the shared part and r for the shortfall; S > D mirrors it. When
    /// either side is empty there is nothing to share and the grid prices apply.
    static func midMarketRate(
        retail r: Rational, feedIn e: Rational, demandWh d: Int64, supplyWh s: Int64
    ) throws(BillingError) -> UniformPrices {
        guard d > 0, s > 0 else { return UniformPrices(buy: r, sell: e) }
        let middle = try (r + e).divided(by: 2)
        if s < d {
            let blended = try middle.multiplied(by: s) + r.multiplied(by: d - s)
            return UniformPrices(buy: try blended.divided(by: d), sell: middle)
        }
        if s > d {
            let blended = try middle.multiplied(by: d) + e.multiplied(by: s - d)
            return UniformPrices(buy: middle, sell: try blended.divided(by: s))
        }
        return UniformPrices(buy: middle, sell: middle)
    }

    /// Supply-demand ratio. For SDR ≤ 1, p_s = e·r / ((r − e)·SDR + e) and
    /// p_b = p_s·SDR + r·(1 − SDR); for SDR > 1 both are e.
    ///
    /// Edge cases: no supply (S = 0, also when D = 0) is SDR = 0, so p_b = r; no demand with
    /// supply (D = 0 < S) counts as SDR > 1. When the denominator (r − e)·SDR + e is zero (e = 0
    /// and SDR = 0, or r = e = 0) p_s is e, the formula's limit, instead of a division by zero.
    static func supplyDemandRatio(
        retail r: Rational, feedIn e: Rational, demandWh d: Int64, supplyWh s: Int64
    ) throws(BillingError) -> UniformPrices {
        if s > d { return UniformPrices(buy: e, sell: e) }
        let ratio = s == 0 ? Rational.zero : try Rational(numerator: Int128(s), denominator: Int128(d))
        let denominator = try (r - e) * ratio + e
        let sell = denominator.isZero ? e : try e * r / denominator
        let buy = try sell * ratio + r * (Rational.one - ratio)
        return UniformPrices(buy: buy, sell: sell)
    }

    /// Bill sharing in one interval or over a period: a positive bill B is paid pro rata to
    /// import (B/D per Wh, nothing for export), a negative one paid out pro rata to export
    /// (−B/S per Wh, nothing charged for import).
    static func billSharing(bill: Rational, demandWh d: Int64, supplyWh s: Int64) throws(BillingError) -> UniformPrices {
        if bill.signum >= 0 {
            // B > 0 implies D > S ≥ 0; B = 0 with D = 0 charges nothing.
            return UniformPrices(buy: d == 0 ? .zero : try bill.divided(by: d), sell: .zero)
        }
        // B < 0 implies S > D ≥ 0.
        return UniformPrices(buy: .zero, sell: try (-bill).divided(by: s))
    }

    /// The community's net bill towards the grid when `sharedWh` of its energy stays inside:
    /// r·(D − shared) − e·(S − shared).
    static func gridBill(
        retail r: Rational, feedIn e: Rational, demandWh d: Int64, supplyWh s: Int64, shared: Rational
    ) throws(BillingError) -> Rational {
        let bought = try r * (Rational(d) - shared)
        let sold = try e * (Rational(s) - shared)
        return try bought - sold
    }
}
