public import BillingCore
public import Contracts

/// A parsed contract with its calendar, as the runner uses it.
public struct DeployedContract: SettlementTerms {
    public let contract: Contract
    public let calendar: ContractCalendar

    public init(_ contract: Contract) throws(ContractError) {
        self.contract = contract
        calendar = try ContractCalendar(contract: contract)
    }

    /// Parses a deployed document (the ``SettlementVerifier``'s parser).
    public static func parse(_ document: [UInt8]) throws -> any SettlementTerms {
        try DeployedContract(Contract.parse(document, file: "deployed contract"))
    }

    public var hash: [UInt8] { contract.hash }
    public var contractID: String { contract.id }
    public var version: Int { contract.version }
    public var validFromMillis: Int64 { contract.validFromMillis }
    public var intervalMillis: Int64 { contract.intervalMillis }
    public var mechanism: Mechanism { contract.mechanism }
    public var memberIDs: [String]? {
        switch contract.members {
        case .all: nil
        case .listed(let ids): ids
        }
    }
    public var estimateAfterMillis: Int64 { Int64(contract.estimateAfterMinutes) * 60_000 }

    public func tariff(forIntervalStartingAt millis: Int64) throws -> IntervalTariff {
        try contract.tariff(forIntervalStartingAt: millis, calendar: calendar)
    }
}
