import Contracts
import GridLedgerRecords
import LedgerCore
import LedgerStore
import Logging
import Settlement
import Synchronization

/// Why the aggregator cannot extend its chain with settlements.
struct SettlementReplayError: Error, CustomStringConvertible {
    var failure: ChainFailure
    var description: String {
        "the stored chain's contracts and settlements do not re-derive (\(failure)); refusing to extend a chain that would not verify"
    }
}

/// The billing contracts' part of minting: deploys submitted contracts and appends the
/// settlements due at the block's time, with the same ``SettlementRunner`` the verifier re-runs.
///
/// The runner is pure and its state is a function of the chain, so it lives with the minter
/// rather than as a service of its own: a block's settlements must be computed from exactly
/// that block (its records, registry and time). A step is computed on a copy and kept only
/// when its block commits; a tick that mints nothing changes nothing.
final class SettlementStage: Sendable {
    /// What one block adds.
    struct Step: Sendable {
        /// Contract deployments, then settlements, in block order.
        var events: [LedgerEvent] = []
        var deployedContractIDs: [Int64] = []
        /// `id vN` of each deployed contract, for the log.
        var deployedNames: [String] = []
        var rejectedContracts: [(id: Int64, reason: String)] = []
        /// Interval start of each settlement, by index into `events`.
        var settlementIntervals: [(event: Int, intervalStartMillis: Int64)] = []
        fileprivate var runner: SettlementRunner
    }

    private let runner: Mutex<SettlementRunner>
    private let logger: Logger

    /// Resumes from the stored chain: re-runs (and so re-checks) every contract over it.
    init(replaying store: any LedgerStorage, logger: Logger) throws {
        var verifier = SettlementVerifier(parse: DeployedContract.parse)
        var registry = Registry()
        var height: UInt64 = 0
        while let block = try store.block(height: height) {
            for bytes in block.events {
                if case .registry(let entry) = try LedgerEvent(decoding: bytes) { try registry.apply(entry.change) }
            }
            // The aggregator's own committed chain: decoded, not re-authenticated.
            let records = try block.records.map { try ReadingRecord(decoding: RecordEnvelope(decoding: $0).record) }
            do {
                try verifier.verify(block, records: records, registry: registry)
            } catch {
                throw SettlementReplayError(failure: error)
            }
            height += 1
        }
        runner = Mutex(verifier.runner)
        self.logger = logger
        if verifier.contractCount > 0 {
            logger.info("contracts resumed", metadata: [
                "contract.count": "\(verifier.contractCount)", "settlement.count": "\(verifier.settlementCount)",
                "settlement.next": "\(verifier.runner.nextIntervalStart.map(String.init) ?? "none")",
            ])
        }
    }

    /// The contracts and settlements of a block at `blockTimeMillis` holding `records`, with the
    /// registry as of that block. Nothing changes until ``adopt(_:)``.
    func step(pending contracts: [PendingContract], records: [ReadingRecord], registry: Registry, blockTimeMillis: Int64, eventOffset: Int) -> Step {
        var step = Step(runner: runner.withLock { $0 })
        for submission in contracts {
            let terms: any SettlementTerms
            do {
                terms = try DeployedContract.parse(submission.document)
            } catch {
                reject(submission, "\(error)", into: &step)
                continue
            }
            if let refusal = step.runner.refusal(of: terms, blockTimeMillis: blockTimeMillis) {
                reject(submission, refusal, into: &step)
                continue
            }
            step.runner.deploy(terms)
            step.events.append(.contractDeployed(document: submission.document))
            step.deployedContractIDs.append(submission.id)
            step.deployedNames.append("\(terms.contractID) v\(terms.version)")
        }
        let failuresBefore = step.runner.failures.count
        let settlements = step.runner.apply(samples: records.compactMap(MeterSample.init), registry: registry, blockTimeMillis: blockTimeMillis)
        for failure in step.runner.failures.dropFirst(failuresBefore) {
            logger.error("interval not settled", metadata: ["settlement.interval": "\(failure.intervalStartMillis)", "reason": "\(failure.reason)"])
        }
        for record in settlements {
            do {
                let payload = try record.encoded()
                step.settlementIntervals.append((eventOffset + step.events.count, record.intervalStartMillis))
                step.events.append(.settlement(payload: payload))
            } catch {
                // Cannot happen for the runner's bounded chunks; if it did, the verifier would
                // report this interval, and so does the log.
                logger.critical("settlement cannot be encoded", metadata: ["settlement.interval": "\(record.intervalStartMillis)", "error": "\(error)"])
            }
        }
        return step
    }

    private func reject(_ submission: PendingContract, _ reason: String, into step: inout Step) {
        step.rejectedContracts.append((submission.id, reason))
        logger.warning("contract refused", metadata: ["contract.submission": "\(submission.id)", "reason": "\(reason)"])
    }

    /// Keeps a step whose block committed.
    func adopt(_ step: Step) {
        runner.withLock { $0 = step.runner }
        for name in step.deployedNames { logger.info("contract deployed", metadata: ["contract": "\(name)"]) }
    }
}
