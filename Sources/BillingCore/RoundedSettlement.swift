/// A settlement in whole currency sub-units (cents, micro-units …), ready for an invoice.
///
/// Each money column (energy charge, energy credit, grid fee, baseline charge, baseline
/// credit) is rounded separately by `MoneyRounding`: its rounded total is the half-even rounding
/// of the exact total, and every member is within one unit of its exact amount. Energies are
/// already whole Wh and are copied as they are.
///
/// ```swift
/// let invoice = try RoundedSettlement(settlement, unitsPerCurrencyUnit: 100)   // cents
/// invoice.members[0].energyCharge   // e.g. 68 for 0.68
/// ```
public struct RoundedSettlement: Sendable, Hashable, Codable {
    /// Sub-units per currency unit: 100 for cents, 1 000 000 for micro-units.
    public let unitsPerCurrencyUnit: Int64
    /// One line per member, in ascending byte order of the member IDs.
    public let members: [RoundedMemberSettlement]
    /// Column totals: each is the sum of its column and the half-even rounding of the exact total.
    public let totals: RoundedTotals

    /// Rounds an interval settlement.
    public init(_ settlement: IntervalSettlement, unitsPerCurrencyUnit: Int64) throws(BillingError) {
        try self.init(sorted: settlement.members, totals: settlement.totals, scale: unitsPerCurrencyUnit)
    }

    /// Rounds a period settlement.
    public init(_ settlement: PeriodSettlement, unitsPerCurrencyUnit: Int64) throws(BillingError) {
        try self.init(sorted: settlement.members, totals: settlement.totals, scale: unitsPerCurrencyUnit)
    }

    /// Rounds any list of member results; they are put in ascending byte order of their IDs
    /// first, since that order breaks ties between equal remainders.
    public init(members: [MemberSettlement], unitsPerCurrencyUnit scale: Int64) throws(BillingError) {
        let sorted = members.sorted { $0.memberID.utf8.lexicographicallyPrecedes($1.memberID.utf8) }
        try self.init(sorted: sorted, totals: nil, scale: scale)
    }

    /// The rounding itself. A settlement's exact totals equal its members' sums, so when they
    /// are at hand the column totals are rounded from them instead of adding up every member
    /// again (the sum of thousands of fractions is most of the cost of rounding).
    private init(sorted: [MemberSettlement], totals exact: SettlementTotals?, scale: Int64) throws(BillingError) {
        guard scale >= 1 else {
            throw .outOfBounds("\(scale) units per currency unit", limit: "at least 1")
        }
        let unit = Int128(scale)
        func column(_ amounts: [Rational], _ total: Rational?) throws(BillingError) -> [Int128] {
            guard let total else { return try MoneyRounding.round(amounts, toUnitsOf: unit) }
            return try MoneyRounding.apportion(amounts, toUnitsOf: unit, total: total.rounded(toUnitsOf: unit, rule: .halfEven))
        }
        let charges = try column(sorted.map(\.energyCharge), exact?.energyCharge)
        let credits = try column(sorted.map(\.energyCredit), exact?.energyCredit)
        let fees = try column(sorted.map(\.gridFeeCharge), exact?.gridFeeCharge)
        let baselineCharges = try column(sorted.map(\.baselineCharge), exact?.baselineCharge)
        let baselineCredits = try column(sorted.map(\.baselineCredit), exact?.baselineCredit)
        var lines: [RoundedMemberSettlement] = []
        lines.reserveCapacity(sorted.count)
        for (index, member) in sorted.enumerated() {
            lines.append(RoundedMemberSettlement(
                memberID: member.memberID, importWh: member.importWh, exportWh: member.exportWh,
                fromCommunityWh: member.fromCommunityWh, toCommunityWh: member.toCommunityWh,
                fromGridWh: member.fromGridWh, toGridWh: member.toGridWh,
                energyCharge: try checkedInt64(charges[index]), energyCredit: try checkedInt64(credits[index]),
                gridFeeCharge: try checkedInt64(fees[index]),
                baselineCharge: try checkedInt64(baselineCharges[index]),
                baselineCredit: try checkedInt64(baselineCredits[index])))
        }
        func total(_ column: [Int128]) throws(BillingError) -> Int64 {
            var sum: Int128 = 0
            for value in column { sum = try checkedSum(sum, value) }
            return try checkedInt64(sum)
        }
        unitsPerCurrencyUnit = scale
        members = lines
        totals = RoundedTotals(
            energyCharge: try total(charges), energyCredit: try total(credits), gridFeeCharge: try total(fees),
            baselineCharge: try total(baselineCharges), baselineCredit: try total(baselineCredits))
    }
}

/// One member's line of a `RoundedSettlement`: energies in Wh, amounts in sub-units.
public struct RoundedMemberSettlement: Sendable, Hashable, Codable {
    /// The member's ID.
    public let memberID: String
    /// Energy imported, Wh.
    public let importWh: Int64
    /// Energy exported, Wh.
    public let exportWh: Int64
    /// Community energy received, Wh.
    public let fromCommunityWh: Int64
    /// Energy delivered to other members, Wh.
    public let toCommunityWh: Int64
    /// Energy bought from the grid, Wh.
    public let fromGridWh: Int64
    /// Energy sold to the grid, Wh.
    public let toGridWh: Int64
    /// Energy charge in sub-units.
    public let energyCharge: Int64
    /// Energy credit in sub-units.
    public let energyCredit: Int64
    /// Grid fee on community energy in sub-units.
    public let gridFeeCharge: Int64
    /// Grid-only charge for the same import in sub-units.
    public let baselineCharge: Int64
    /// Grid-only credit for the same export in sub-units.
    public let baselineCredit: Int64

    /// Energy charge + grid fee − energy credit, in sub-units.
    public func netCharge() throws(BillingError) -> Int64 {
        try checkedInt64(Int128(energyCharge) + Int128(gridFeeCharge) - Int128(energyCredit))
    }

    /// What the member saved against grid-only, in sub-units.
    public func savings() throws(BillingError) -> Int64 {
        try checkedInt64(Int128(baselineCharge) - Int128(baselineCredit) - Int128(netCharge()))
    }
}

/// The column totals of a `RoundedSettlement`, in sub-units.
public struct RoundedTotals: Sendable, Hashable, Codable {
    /// Σ energy charges.
    public let energyCharge: Int64
    /// Σ energy credits.
    public let energyCredit: Int64
    /// Σ grid fees.
    public let gridFeeCharge: Int64
    /// Σ baseline charges.
    public let baselineCharge: Int64
    /// Σ baseline credits.
    public let baselineCredit: Int64
}
