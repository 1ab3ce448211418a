import BillingCore

/// Shorthands for the tests: exact values from text, so expectations read like the issue.
func q(_ text: String) throws -> Rational { try Rational(text) }

func fraction(_ numerator: Int128, _ denominator: Int128) throws -> Rational {
    try Rational(numerator: numerator, denominator: denominator)
}

func tariff(
    retail: String = "0.30", feedIn: String = "0.08", gridFee: String = "0", communityPrice: String? = nil
) throws -> IntervalTariff {
    var community: Price?
    if let communityPrice { community = try Price(communityPrice) }
    return try IntervalTariff(retail: Price(retail), feedIn: Price(feedIn), gridFee: Price(gridFee), communityPrice: community)
}

func member(_ id: String, importWh: Int64 = 0, exportWh: Int64 = 0) -> MemberEnergy {
    MemberEnergy(memberID: id, importWh: importWh, exportWh: exportWh)
}

/// SplitMix64: a seeded generator so a property's shuffles are reproducible from its input.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
