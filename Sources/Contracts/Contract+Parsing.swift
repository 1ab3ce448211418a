import BillingCore
import Crypto
public import YAMLConfiguration
import Yams

extension Contract {
    /// Parses and validates a contract document; `file` names it in errors.
    ///
    /// Every refusal names the field and the reason, with the line when known, e.g.
    /// `contract.yaml:7: prices.retail.default: "0.3000001" has more than 6 fractional digits`.
    /// Unknown keys, prices written as YAML numbers, retail below feed-in, windows off the
    /// interval grid, unknown days or zones, mechanism fields of another kind, and the other
    /// rules of `docs/contracts/README.md` are all refused; nothing is silently defaulted but
    /// the documented defaults.
    public static func parse(_ bytes: [UInt8], file: String = "contract") throws(ContractError) -> Contract {
        guard bytes.count <= maximumSize else {
            throw ContractError(file: file, field: "", reason: "the document is \(bytes.count) bytes, more than \(maximumSize) (it is recorded in the chain as one event)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ContractError(file: file, field: "", reason: "the document is not UTF-8 text")
        }
        let root = try ConfigurationFile.root(yaml: text, file: file)
        var parser = ContractParser(file: file)
        return try parser.contract(root, bytes: bytes)
    }
}

/// The walk over one document; every error is a `ConfigurationError` at the node it is about.
struct ContractParser {
    let file: String

    static let topLevelKeys = [
        "contract", "id", "version", "validFrom", "currency", "minorUnitDigits", "timeZone", "settlementIntervalMinutes",
        "billingPeriod", "members", "mechanism", "prices", "fees", "data",
    ]

    mutating func contract(_ root: ConfigNode, bytes: [UInt8]) throws(ConfigurationError) -> Contract {
        // The marker first: a document of another format should say so, not fail on its keys.
        try checkMarker(root)
        let map = try root.mapping(allowing: Self.topLevelKeys)

        let id = try map.required("id").identifier(maximum: 64)
        let version = try map.required("version").int(in: 1...Int(Int32.max))

        let intervalNode = map.optional("settlementIntervalMinutes")
        let intervalMinutes = try intervalNode?.int(in: 1...1440) ?? 15
        if let intervalNode, !ContractCalendar.allowedIntervalMinutes.contains(intervalMinutes) {
            throw intervalNode.error(
                "\(intervalMinutes) is not an allowed settlement interval (allowed: "
                    + ContractCalendar.allowedIntervalMinutes.map(String.init).joined(separator: ", ") + " minutes)")
        }
        let intervalMillis = Int64(intervalMinutes) * CivilDate.millisPerMinute

        let validFromNode = try map.required("validFrom")
        let validFromText = try validFromNode.string()
        let validFromMillis: Int64
        do {
            validFromMillis = try rfc3339Millis(validFromText)
        } catch {
            throw validFromNode.error(error.reason)
        }
        guard floorModulo(validFromMillis, intervalMillis) == 0 else {
            throw validFromNode.error(
                "\(validFromText) is not the start of a \(intervalMinutes)-minute settlement interval "
                    + "(intervals start at multiples of \(intervalMinutes) minutes since 1970-01-01T00:00Z)")
        }

        let currencyNode = try map.required("currency")
        let currency = try currencyNode.string()
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
            throw currencyNode.error("'\(currency)' is not an ISO 4217 currency code (3 upper-case letters, e.g. EUR)")
        }
        let minorUnitDigits = try map.required("minorUnitDigits").int(in: 0...4)

        let zoneNode = try map.required("timeZone")
        let timeZone = try zoneNode.string()
        do {
            _ = try ContractCalendar(timeZone: timeZone, intervalMinutes: intervalMinutes, checkingOffsetsFrom: validFromMillis)
        } catch {
            throw zoneNode.error(error.reason)
        }

        let periodNode = try map.required("billingPeriod")
        let periodText = try periodNode.string()
        guard let billingPeriod = BillingPeriodLength(rawValue: periodText) else {
            throw periodNode.error("'\(periodText)' is not a supported billing period (only \"month\" for now)")
        }

        let members = try memberSelection(map.required("members"))
        let prices = try self.prices(map.required("prices"), intervalMinutes: intervalMinutes)
        let (mechanism, communityPrice) = try self.mechanism(map.required("mechanism"), members: members)
        let fees = try self.fees(map.optional("fees"))
        var estimateAfterMinutes = 60
        if let data = map.optional("data") {
            let dataMap = try data.mapping(allowing: ["estimateAfterMinutes"])
            estimateAfterMinutes = try dataMap.optional("estimateAfterMinutes")?.int(in: 1...10080) ?? 60
        }

        return Contract(
            id: id, version: version, validFromMillis: validFromMillis, currency: currency, minorUnitDigits: minorUnitDigits,
            timeZone: timeZone, settlementIntervalMinutes: intervalMinutes, billingPeriod: billingPeriod, members: members,
            mechanism: mechanism, communityPrice: communityPrice, prices: prices, fees: fees,
            estimateAfterMinutes: estimateAfterMinutes, sourceBytes: bytes, hash: Array(SHA256.hash(data: bytes)))
    }

    func checkMarker(_ root: ConfigNode) throws(ConfigurationError) {
        guard case .mapping(let mapping) = root.node else {
            throw root.error("expected a mapping (key: value) with `contract: \(Contract.format)` first")
        }
        guard let pair = mapping.first(where: { $0.key.string == "contract" }) else {
            throw root.error("missing key 'contract' (the document marker, `contract: \(Contract.format)`)")
        }
        let node = ConfigNode(node: pair.value, file: file, path: "contract")
        let marker = try node.string()
        guard marker == Contract.format else {
            throw node.error("'\(marker)' is not a contract format this version reads (expected \(Contract.format))")
        }
    }

    // MARK: Members

    func memberSelection(_ node: ConfigNode) throws(ConfigurationError) -> MemberSelection {
        if case .scalar(let scalar) = node.node {
            guard scalar.string == "all" else {
                throw node.error("expected 'all' or a list of member ids, found '\(scalar.string)'")
            }
            return .all
        }
        guard case .sequence = node.node else { throw node.error("expected 'all' or a list of member ids") }
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("the list of members is empty (write 'all' for every member)") }
        var seen = Set<String>()
        var ids: [String] = []
        for item in items {
            let id = try item.identifier(maximum: 64)
            guard seen.insert(id).inserted else { throw item.error("member '\(id)' is listed twice") }
            ids.append(id)
        }
        return .listed(ids)
    }

    // MARK: Mechanism

    static let kinds = ["none", "mid-market-rate", "supply-demand-ratio", "bill-sharing", "static-keys", "dynamic-keys"]

    func mechanism(_ node: ConfigNode, members: MemberSelection) throws(ConfigurationError) -> (Mechanism, Price?) {
        let map = try node.mapping(allowing: ["kind", "communityPrice", "shares"])
        let kindNode = try map.required("kind")
        let kind = try kindNode.string()
        guard Self.kinds.contains(kind) else {
            throw kindNode.error("unknown mechanism kind '\(kind)' (known: \(Self.kinds.joined(separator: ", ")))")
        }
        let usesKeys = kind == "static-keys" || kind == "dynamic-keys"
        var communityPrice: Price?
        if let priceNode = map.optional("communityPrice") {
            guard usesKeys else {
                throw priceNode.error(
                    "communityPrice does not belong to kind \(kind): only static-keys and dynamic-keys price community energy at a community price")
            }
            communityPrice = try price(priceNode)
        } else if usesKeys {
            throw node.error("kind \(kind) needs communityPrice, the price per kWh of community energy")
        }
        if let sharesNode = map.optional("shares"), kind != "static-keys" {
            throw sharesNode.error("shares do not belong to kind \(kind): only static-keys has fixed shares")
        }
        switch kind {
        case "none": return (.gridOnly, nil)
        case "mid-market-rate": return (.midMarketRate, nil)
        case "supply-demand-ratio": return (.supplyDemandRatio, nil)
        case "bill-sharing": return (.billSharing, nil)
        case "dynamic-keys": return (.dynamicKeys, communityPrice)
        default:
            guard let sharesNode = map.optional("shares") else {
                throw node.error("kind static-keys needs shares (member: \"fraction\", adding up to at most 1)")
            }
            return (.staticKeys(try shares(sharesNode, members: members)), communityPrice)
        }
    }

    func shares(_ node: ConfigNode, members: MemberSelection) throws(ConfigurationError) -> [String: Rational] {
        guard case .mapping(let mapping) = node.node else {
            throw node.error("expected a mapping of member ids to shares, e.g. { alice: \"0.5\", bob: \"0.3\" }")
        }
        guard !mapping.isEmpty else { throw node.error("no shares given") }
        var shares: [String: Rational] = [:]
        var total = Rational.zero
        for (key, value) in mapping {
            guard case .scalar(let keyScalar) = key else { throw node.error("expected member ids as keys") }
            let memberID = keyScalar.string
            let shareNode = ConfigNode(node: value, file: file, path: "\(node.path).\(memberID)")
            guard (1...64).contains(memberID.utf8.count), memberID.utf8.allSatisfy(isIdentifierPartByte) else {
                throw shareNode.error("'\(memberID)' is not a member id (1…64 characters of A–Z, a–z, 0–9, '.', '_' or '-')")
            }
            if case .listed(let ids) = members, !ids.contains(memberID) {
                throw shareNode.error("'\(memberID)' is not in members")
            }
            let decimal = try decimal(shareNode, fractionDigits: 6, noun: "shares", example: "0.5")
            let share = Rational.exact(decimal.scaled, over: decimal.unit)
            guard share <= .one else { throw shareNode.error("a share is at most 1, not \(share)") }
            shares[memberID] = share
            total = (try? total + share) ?? total  // cannot overflow: at most 16 384 shares of ≤ 1
        }
        guard total <= .one else { throw node.error("the shares add up to \(total), more than 1") }
        return shares
    }

    // MARK: Prices

    func prices(_ node: ConfigNode, intervalMinutes: Int) throws(ConfigurationError) -> ContractPrices {
        let map = try node.mapping(allowing: ["retail", "feedIn", "communityGridFee"])
        let retailNode = try map.required("retail")
        let retailMap = try retailNode.mapping(allowing: ["default", "windows"])
        let defaultNode = try retailMap.required("default")
        let defaultPrice = try price(defaultNode)
        let feedIn = try price(map.required("feedIn"))
        let gridFee = try map.optional("communityGridFee").map { node throws(ConfigurationError) in try price(node) } ?? .zero
        guard defaultPrice >= feedIn else { throw defaultNode.error(Self.belowFeedIn(defaultPrice, feedIn)) }

        var windows: [TimeOfUseWindow] = []
        if let windowsNode = retailMap.optional("windows") {
            for item in try windowsNode.sequence() {
                windows.append(try window(item, intervalMinutes: intervalMinutes, feedIn: feedIn))
            }
        }
        return ContractPrices(
            retail: RetailPrices(defaultPrice: defaultPrice, windows: windows), feedIn: feedIn, communityGridFee: gridFee)
    }

    static func belowFeedIn(_ retail: Price, _ feedIn: Price) -> String {
        "retail \(retail) is below the feed-in price \(feedIn); every mechanism assumes retail ≥ feed-in"
    }

    func window(_ node: ConfigNode, intervalMinutes: Int, feedIn: Price) throws(ConfigurationError) -> TimeOfUseWindow {
        let map = try node.mapping(allowing: ["days", "from", "to", "price"])
        let daysNode = try map.required("days")
        let dayItems = try daysNode.sequence()
        guard !dayItems.isEmpty else { throw daysNode.error("a window needs at least one day") }
        var days = Set<Weekday>()
        for item in dayItems {
            let name = try item.string()
            guard let day = Weekday(abbreviation: name) else {
                throw item.error(
                    "unknown day '\(name)' (expected \(Weekday.allCases.map(\.abbreviation).joined(separator: ", ")))")
            }
            guard days.insert(day).inserted else { throw item.error("day '\(name)' is listed twice") }
        }
        let fromNode = try map.required("from")
        let toNode = try map.required("to")
        let from = try minutes(fromNode, intervalMinutes: intervalMinutes, allowEndOfDay: false)
        let to = try minutes(toNode, intervalMinutes: intervalMinutes, allowEndOfDay: true)
        guard from < to else {
            let fromText = try fromNode.string()
            let toText = try toNode.string()
            throw node.error(
                "from \(fromText) is not before to \(toText); a window cannot be empty or cross "
                    + "midnight (split it into two)")
        }
        let priceNode = try map.required("price")
        let price = try price(priceNode)
        guard price >= feedIn else { throw priceNode.error(Self.belowFeedIn(price, feedIn)) }
        return TimeOfUseWindow(days: days.sorted(), fromMinute: from, toMinute: to, price: price)
    }

    func minutes(_ node: ConfigNode, intervalMinutes: Int, allowEndOfDay: Bool) throws(ConfigurationError) -> Int {
        let text = try node.string()
        guard let minutes = minutesOfDay(text), allowEndOfDay || minutes < 1440 else {
            throw node.error("'\(text)' is not a local time HH:MM (00:00…23:59\(allowEndOfDay ? ", or 24:00" : ""))")
        }
        guard minutes % intervalMinutes == 0 else {
            throw node.error(
                "\(text) is not on the \(intervalMinutes)-minute settlement interval grid (a multiple of \(intervalMinutes) "
                    + "minutes after midnight)")
        }
        return minutes
    }

    // MARK: Fees

    func fees(_ node: ConfigNode?) throws(ConfigurationError) -> ContractFees {
        guard let node else { return ContractFees(servicePerMemberPerPeriod: .zero, vatRate: .zero) }
        let map = try node.mapping(allowing: ["servicePerMemberPerPeriod", "vatPercent"])
        var service = Rational.zero
        if let serviceNode = map.optional("servicePerMemberPerPeriod") {
            let decimal = try decimal(serviceNode, fractionDigits: 6, noun: "amounts", example: "2.50")
            service = Rational.exact(decimal.scaled, over: decimal.unit)
        }
        var vatRate = Rational.zero
        if let vatNode = map.optional("vatPercent") {
            let decimal = try decimal(vatNode, fractionDigits: 4, noun: "percentages", example: "20")
            guard decimal.scaled <= 100 * decimal.unit else {
                let text = try vatNode.string()
                throw vatNode.error("\"\(text)\" is above 100 (percent)")
            }
            vatRate = Rational.exact(decimal.scaled, over: 100 * decimal.unit)
        }
        return ContractFees(servicePerMemberPerPeriod: service, vatRate: vatRate)
    }

    // MARK: Decimals

    /// A price per kWh: a quoted decimal with at most 6 fractional digits, 0…100.
    func price(_ node: ConfigNode) throws(ConfigurationError) -> Price {
        let decimal = try decimal(node, fractionDigits: 6, noun: "prices", example: "0.30")
        do {
            return try Price(microUnitsPerKWh: decimal.scaled)
        } catch {
            throw node.error("\"\(Rational.exact(decimal.scaled, over: decimal.unit))\" is above 100 currency units per kWh, the largest price accepted")
        }
    }

    /// A quoted, non-negative plain decimal with at most `fractionDigits` digits after the point.
    /// `noun` and `example` word the refusal of a YAML number: "write prices as quoted decimal
    /// strings, e.g. "0.30"".
    func decimal(_ node: ConfigNode, fractionDigits: Int, noun: String, example: String) throws(ConfigurationError) -> DecimalText {
        guard case .scalar(let scalar) = node.node else {
            throw node.error("expected a quoted decimal string such as \"\(example)\", found \(node.node.noun)")
        }
        let text = scalar.string
        if scalar.style == .plain || scalar.style == .any {
            let looksNumeric = text.utf8.first.map { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "+-.".utf8.contains(byte)
            } ?? false
            if looksNumeric {
                throw node.error(
                    "\(text) is a YAML number; write \(noun) as quoted decimal strings, e.g. \"\(example)\", never floats")
            }
            throw node.error("expected a quoted decimal string such as \"\(example)\", found '\(text)'")
        }
        switch DecimalText.parse(text, fractionDigits: fractionDigits) {
        case .success(let decimal):
            return decimal
        case .failure(.negative):
            throw node.error("\"\(text)\" is negative; \(noun) must not be negative")
        case .failure(.malformed):
            throw node.error("\"\(text)\" is not a plain decimal (digits with at most one point, e.g. \"\(example)\")")
        case .failure(.tooManyFractionDigits):
            throw node.error("\"\(text)\" has more than \(fractionDigits) fractional digits")
        case .failure(.tooLarge):
            throw node.error("\"\(text)\" is too large")
        }
    }

}

extension Rational {
    /// `numerator / denominator` for a positive denominator and values far inside `Int128`.
    static func exact(_ numerator: Int64, over denominator: Int64) -> Rational {
        (try? Rational(numerator: Int128(numerator), denominator: Int128(denominator))) ?? .zero
    }
}
