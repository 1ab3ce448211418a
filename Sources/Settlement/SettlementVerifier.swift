public import GridLedgerRecords
public import LedgerCore

/// Re-runs every deployed contract over a chain, block by block, and checks that each block's
/// settlement events are exactly (byte for byte, in order) what the runner derives: a settlement
/// that was changed, left out, added or computed differently is a verification failure.
///
/// Run it after ``LedgerCore/ChainVerifier`` has accepted the block, with that verifier's
/// registry and decoded records:
///
/// ```swift
/// try chain.verify(block)
/// try settlements.verify(block, records: chain.lastBlockRecords, registry: chain.registry)
/// ```
public struct SettlementVerifier: Sendable {
    public typealias ContractParser = @Sendable ([UInt8]) throws -> any SettlementTerms

    /// The runner's state after the blocks verified so far (the aggregator resumes from it).
    public private(set) var runner = SettlementRunner()
    private let parse: ContractParser
    public private(set) var settlementCount = 0
    public private(set) var contractCount = 0

    /// `parse` turns a deployed document into terms (``Contracts/Contract/parse(_:file:)``).
    public init(parse: @escaping ContractParser) {
        self.parse = parse
    }

    public var failures: [SettlementFailure] { runner.failures }

    public mutating func verify(_ block: Block, records: [ReadingRecord], registry: Registry) throws(ChainFailure) {
        let height = block.header.height
        var recorded: [(index: Int, payload: [UInt8])] = []
        for (index, bytes) in block.events.enumerated() {
            guard let event = try? LedgerEvent(decoding: bytes) else { continue }  // the chain verifier reports these
            switch event {
            case .contractDeployed(let document):
                let terms: any SettlementTerms
                do { terms = try parse(document) } catch {
                    throw ChainFailure(height: height, event: index, reason: "deployed contract does not parse: \(error)")
                }
                if let refusal = runner.refusal(of: terms, blockTimeMillis: block.header.timeMillis) {
                    throw ChainFailure(height: height, event: index, reason: "contract \(terms.contractID) v\(terms.version) should have been refused: \(refusal)")
                }
                runner.deploy(terms)
                contractCount += 1
            case .settlement(let payload):
                recorded.append((index, payload))
            default:
                break
            }
        }
        let expected = runner.apply(samples: records.compactMap(MeterSample.init), registry: registry, blockTimeMillis: block.header.timeMillis)
        for (position, record) in expected.enumerated() {
            let bytes: [UInt8]
            do { bytes = try record.encoded() } catch {
                throw ChainFailure(height: height, reason: "re-derived settlement cannot be encoded: \(error)")
            }
            guard position < recorded.count else {
                throw ChainFailure(height: height, reason: "settlement of the interval starting \(record.intervalStartMillis) ms (revision \(record.revision), chunk \(record.chunk)) is missing")
            }
            guard recorded[position].payload == bytes else {
                throw ChainFailure(height: height, event: recorded[position].index, reason: Self.difference(recorded: recorded[position].payload, expected: record))
            }
        }
        if recorded.count > expected.count {
            throw ChainFailure(height: height, event: recorded[expected.count].index, reason: "settlement that the contracts do not produce here")
        }
        settlementCount += expected.count
    }

    /// What differs, for the failure message.
    static func difference(recorded payload: [UInt8], expected: SettlementRecord) -> String {
        guard let recorded = try? SettlementRecord(decoding: payload) else { return "settlement does not decode" }
        let place = "settlement of the interval starting \(expected.intervalStartMillis) ms"
        if recorded.intervalStartMillis != expected.intervalStartMillis || recorded.revision != expected.revision || recorded.chunk != expected.chunk {
            return "\(place) (revision \(expected.revision)) expected here, found interval \(recorded.intervalStartMillis) ms revision \(recorded.revision)"
        }
        for (line, wanted) in zip(recorded.lines, expected.lines) where line != wanted {
            return "\(place): member \(wanted.memberID) re-derives as \(wanted), recorded \(line)"
        }
        return "\(place) differs from the re-derived one"
    }
}
