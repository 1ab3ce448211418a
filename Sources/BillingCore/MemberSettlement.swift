/// One member's exact result for an interval (`IntervalSettlement`) or a billing period
/// (`PeriodSettlement`). Amounts are in currency units; energies in Wh.
///
/// Energies are whole Wh, made integral by the largest-remainder method (`MoneyRounding`), so
/// `fromCommunityWh + fromGridWh == importWh`, `toCommunityWh + toGridWh == exportWh`, and
/// the community columns of all members add up to the community energy exactly. Amounts stay
/// exact until `RoundedSettlement` rounds them.
public struct MemberSettlement: Sendable, Hashable, Codable {
    /// The member's ID.
    public let memberID: String
    /// Energy imported (the meter's import register), Wh.
    public let importWh: Int64
    /// Energy exported (the meter's export register), Wh.
    public let exportWh: Int64
    /// The part of the import that was community energy, Wh.
    public let fromCommunityWh: Int64
    /// The part of the export that went to other members, Wh.
    public let toCommunityWh: Int64
    /// The part of the import bought from the grid, Wh.
    public let fromGridWh: Int64
    /// The part of the export sold to the grid, Wh.
    public let toGridWh: Int64
    /// The average price per kWh the member paid for its import (`energyCharge` / import).
    /// With no import, the price the mechanism quoted for a first kWh (see `IntervalSettlement`).
    public let buyPricePerKWh: Rational
    /// The average price per kWh the member received for its export (`energyCredit` / export);
    /// with no export, the price the mechanism quoted.
    public let sellPricePerKWh: Rational
    /// Paid for the imported energy, community and grid parts together.
    public let energyCharge: Rational
    /// Received for the exported energy.
    public let energyCredit: Rational
    /// The network fee on community energy received.
    public let gridFeeCharge: Rational
    /// What the import would have cost without the community: retail × import.
    public let baselineCharge: Rational
    /// What the export would have earned without the community: feed-in × export.
    public let baselineCredit: Rational

    /// What the member owes in the end: energy charge + grid fee − energy credit.
    public func netCharge() throws(BillingError) -> Rational {
        try energyCharge + gridFeeCharge - energyCredit
    }

    /// What the member would owe without the community: baseline charge − baseline credit.
    public func baselineNetCharge() throws(BillingError) -> Rational {
        try baselineCharge - baselineCredit
    }

    /// What the community saved the member: baseline net charge − net charge (negative when
    /// the member is worse off, e.g. through the grid fee).
    public func savings() throws(BillingError) -> Rational {
        try baselineNetCharge() - netCharge()
    }
}

/// The sums over all members of an interval or period, exact.
///
/// Each money field equals the sum of the members' fields exactly; it is computed from the
/// community's totals (e.g. p_b·D) rather than by adding up every member.
public struct SettlementTotals: Sendable, Hashable, Codable {
    /// D: the community's demand, Σ import, Wh.
    public let importWh: Int64
    /// S: the community's supply, Σ export, Wh.
    public let exportWh: Int64
    /// Energy exchanged inside the community, Σ fromCommunityWh = Σ toCommunityWh, Wh.
    public let communityWh: Int64
    /// Σ energyCharge.
    public let energyCharge: Rational
    /// Σ energyCredit.
    public let energyCredit: Rational
    /// Σ gridFeeCharge.
    public let gridFeeCharge: Rational
    /// Σ baselineCharge, r·D.
    public let baselineCharge: Rational
    /// Σ baselineCredit, e·S.
    public let baselineCredit: Rational
    /// The community's net bill towards the grid supplier for the energy it did not share:
    /// r·(D − C) − e·(S − C) with C the exact community energy. Energy charges minus energy
    /// credits equal it in every mechanism: the community neither makes nor loses money.
    public let gridBill: Rational

    /// Σ net charges: energy charge + grid fee − energy credit.
    public func netCharge() throws(BillingError) -> Rational {
        try energyCharge + gridFeeCharge - energyCredit
    }

    /// What the community saved its members together: baseline net − net charge.
    public func savings() throws(BillingError) -> Rational {
        try baselineCharge - baselineCredit - netCharge()
    }
}

extension [MemberSettlement] {
    /// Binary search by the UTF-8 bytes of the ID, in a list sorted that way.
    func settlement(of memberID: String) -> MemberSettlement? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].memberID.utf8.lexicographicallyPrecedes(memberID.utf8) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        guard low < count, self[low].memberID.utf8.elementsEqual(memberID.utf8) else { return nil }
        return self[low]
    }
}
