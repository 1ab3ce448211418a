import Contracts
import Settlement

extension PeriodStatement {
    /// The statement for `periodID` from the chain's own bytes: the documents of the contract
    /// deployments (event kind 4) and the settlement payloads (event kind 5), each in chain order.
    ///
    /// A document that does not parse or a payload that does not decode is an error, not skipped:
    /// an invoice is made from the whole record or not at all.
    ///
    /// ```swift
    /// let statement = try PeriodStatement(
    ///     periodID: "2026-11", contractDocuments: store.deployedContractDocuments(),
    ///     settlementPayloads: store.settlementPayloads(fromMillis: window.lowerBound, toMillis: window.upperBound))
    /// ```
    public init(periodID: String, contractDocuments: [[UInt8]], settlementPayloads: [[UInt8]]) throws(InvoiceError) {
        var contracts: [Contract] = []
        contracts.reserveCapacity(contractDocuments.count)
        for (index, document) in contractDocuments.enumerated() {
            let name = "#\(index + 1)"
            do {
                contracts.append(try Contract.parse(document, file: "deployed contract \(name)"))
            } catch {
                throw .invalidContract(name, error)
            }
        }
        var records: [SettlementRecord] = []
        records.reserveCapacity(settlementPayloads.count)
        for (index, payload) in settlementPayloads.enumerated() {
            do {
                records.append(try SettlementRecord(decoding: payload))
            } catch {
                throw .undecodableSettlement(position: index, reason: "\(error)")
            }
        }
        try self.init(periodID: periodID, contracts: contracts, settlements: records)
    }
}
