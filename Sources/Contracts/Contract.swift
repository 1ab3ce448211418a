public import YAMLConfiguration
public import BillingCore

/// A community's billing contract: a versioned YAML document (`gridledger-contract/v1`),
/// validated field by field, kept with its exact bytes and their SHA-256.
///
/// The schema, defaults and rules are in `docs/contracts/README.md`; the examples there parse.
///
/// ```swift
/// let contract = try Contract.parse(Array(yaml.utf8), file: "sunny-hill.yaml")
/// let calendar = try ContractCalendar(contract: contract)
/// let tariff = try contract.tariff(forIntervalStartingAt: start, calendar: calendar)
/// ```
public struct Contract: Sendable, Hashable {
    /// The document marker this version reads: `contract: gridledger-contract/v1`.
    public static let format = "gridledger-contract/v1"
    /// The largest document accepted, in bytes: it must fit one ledger event (`LedgerEvent.maximumContractDocument`).
    public static let maximumSize = 65_000

    /// The contract's identifier: 1…64 of letters, digits, `-`, `_`, `.`.
    public let id: String
    /// The version, ≥ 1; that a later deployment of the same id has a higher one is checked by
    /// whoever deploys it.
    public let version: Int
    /// `validFrom` as UTC milliseconds since 1970; on the settlement interval grid.
    public let validFromMillis: Int64
    /// ISO 4217 currency code, e.g. `"EUR"` (three upper-case letters; not checked against the
    /// list of codes).
    public let currency: String
    /// Digits after the point in the currency's smallest unit, 0…4 (2 for EUR).
    public let minorUnitDigits: Int
    /// The IANA time zone of time-of-use windows and billing periods, e.g. `"Europe/Vienna"`.
    public let timeZone: String
    /// The settlement interval in minutes: 5, 10, 15, 20, 30 or 60 (default 15).
    public let settlementIntervalMinutes: Int
    /// The settlement interval in milliseconds.
    public let intervalMillis: Int64
    /// How long a billing period is.
    public let billingPeriod: BillingPeriodLength
    /// Which members the contract covers.
    public let members: MemberSelection
    /// How community energy is priced and shared.
    public let mechanism: Mechanism
    /// The price of covered energy, per kWh: present exactly for `staticKeys` and `dynamicKeys`.
    public let communityPrice: Price?
    /// Retail (with time-of-use windows), feed-in and community grid fee, per kWh.
    public let prices: ContractPrices
    /// Service fee and VAT.
    public let fees: ContractFees
    /// How long after an interval's end missing readings are estimated, in minutes (1…10080,
    /// default 60).
    public let estimateAfterMinutes: Int
    /// The document exactly as given.
    public let sourceBytes: [UInt8]
    /// SHA-256 of `sourceBytes` (32 bytes): identifies the exact document a bill was made with.
    public let hash: [UInt8]

    init(
        id: String, version: Int, validFromMillis: Int64, currency: String, minorUnitDigits: Int, timeZone: String,
        settlementIntervalMinutes: Int, billingPeriod: BillingPeriodLength, members: MemberSelection,
        mechanism: Mechanism, communityPrice: Price?, prices: ContractPrices, fees: ContractFees,
        estimateAfterMinutes: Int, sourceBytes: [UInt8], hash: [UInt8]
    ) {
        self.id = id
        self.version = version
        self.validFromMillis = validFromMillis
        self.currency = currency
        self.minorUnitDigits = minorUnitDigits
        self.timeZone = timeZone
        self.settlementIntervalMinutes = settlementIntervalMinutes
        self.intervalMillis = Int64(settlementIntervalMinutes) * 60_000
        self.billingPeriod = billingPeriod
        self.members = members
        self.mechanism = mechanism
        self.communityPrice = communityPrice
        self.prices = prices
        self.fees = fees
        self.estimateAfterMinutes = estimateAfterMinutes
        self.sourceBytes = sourceBytes
        self.hash = hash
    }

    /// The prices of the settlement interval starting at `millis` (UTC ms): retail from the
    /// first time-of-use window matching the local weekday and local time of the interval's
    /// start, else the default; feed-in, grid fee and community price from the contract.
    ///
    /// Throws when `calendar` is not this contract's (zone or interval), when `millis` is not an
    /// interval start or is before `validFromMillis`, or when the zone's offset there is not a
    /// multiple of the interval.
    public func tariff(forIntervalStartingAt millis: Int64, calendar: ContractCalendar) throws(ContractError) -> IntervalTariff {
        let file = "contract \(id) v\(version)"
        guard calendar.timeZone == timeZone, calendar.intervalMillis == intervalMillis else {
            throw ContractError(
                file: file, field: "timeZone",
                reason: "the calendar is for \(calendar.timeZone) with \(calendar.intervalMinutes)-minute intervals, the contract "
                    + "for \(timeZone) with \(settlementIntervalMinutes)-minute intervals")
        }
        guard floorModulo(millis, intervalMillis) == 0 else {
            throw ContractError(
                file: file, field: "settlementIntervalMinutes",
                reason: "\(ContractCalendar.timestampText(millis)) is not the start of a \(settlementIntervalMinutes)-minute interval")
        }
        guard millis >= validFromMillis else {
            throw ContractError(
                file: file, field: "validFrom",
                reason: "the interval at \(ContractCalendar.timestampText(millis)) is before the contract is valid "
                    + "(\(ContractCalendar.timestampText(validFromMillis)))")
        }
        do {
            try calendar.checkAlignment(atUTCMillis: millis)
        } catch {
            throw ContractError(file: file, field: error.field, reason: error.reason)
        }
        let local = calendar.localDate(atUTCMillis: millis)
        do {
            return try IntervalTariff(
                retail: prices.retail.price(at: local), feedIn: prices.feedIn, gridFee: prices.communityGridFee,
                communityPrice: communityPrice)
        } catch {
            // Unreachable: parsing checked every retail price against feed-in.
            throw ContractError(file: file, field: "prices", reason: error.description)
        }
    }
}

/// The length of a billing period; only calendar months for now.
public enum BillingPeriodLength: String, Sendable, Hashable {
    /// A calendar month in the contract's time zone (`BillingPeriod`).
    case month
}

/// The members a contract covers.
public enum MemberSelection: Sendable, Hashable {
    /// Every member of the community.
    case all
    /// Exactly these member ids, as listed (non-empty, no duplicates).
    case listed([String])
}

/// A contract's energy prices, all per kWh.
public struct ContractPrices: Sendable, Hashable {
    /// What members pay for energy from the grid, by time of use.
    public let retail: RetailPrices
    /// What the supplier pays for energy fed into the grid; never above any retail price.
    public let feedIn: Price
    /// The network fee per kWh of community energy received (default 0).
    public let communityGridFee: Price
}

/// The retail price: a default, and time-of-use windows in local time where the first match wins.
public struct RetailPrices: Sendable, Hashable {
    /// The price outside every window.
    public let defaultPrice: Price
    /// Time-of-use windows, in the order written.
    public let windows: [TimeOfUseWindow]

    /// The price of the first window containing `local`, else `defaultPrice`.
    public func price(at local: LocalDateTime) -> Price {
        windows.first { $0.contains(local) }?.price ?? defaultPrice
    }
}

/// A time-of-use window: on `days`, local time `from` (inclusive) to `to` (exclusive), both
/// on the settlement interval grid. Windows do not cross midnight.
public struct TimeOfUseWindow: Sendable, Hashable {
    /// The local weekdays it applies on, Monday first, without repeats.
    public let days: [Weekday]
    /// Local start, in minutes after midnight (0…1439).
    public let fromMinute: Int
    /// Local end, exclusive, in minutes after midnight (1…1440; 1440 is `24:00`).
    public let toMinute: Int
    /// The retail price inside the window.
    public let price: Price

    /// Whether the local weekday and minute of `local` fall inside the window.
    public func contains(_ local: LocalDateTime) -> Bool {
        days.contains(local.weekday) && local.minuteOfDay >= fromMinute && local.minuteOfDay < toMinute
    }
}

/// Charges on top of energy.
public struct ContractFees: Sendable, Hashable {
    /// Currency units each member pays per billing period, exact (default 0).
    public let servicePerMemberPerPeriod: Rational
    /// VAT as a fraction: `vatPercent: "20"` is 1/5 (default 0).
    public let vatRate: Rational
}

extension Contract {
    /// The mechanism's name as the document spells it (`mid-market-rate`, …).
    public var mechanismKind: String {
        switch mechanism {
        case .gridOnly: "none"
        case .midMarketRate: "mid-market-rate"
        case .supplyDemandRatio: "supply-demand-ratio"
        case .billSharing: "bill-sharing"
        case .staticKeys: "static-keys"
        case .dynamicKeys: "dynamic-keys"
        }
    }
}
