import DeviceProfiles
import Foundation
import GridLedgerAgent
import GridLedgerAggregator
import LedgerCore
import LedgerStore
public import Logging
import ServiceConfiguration

/// Replays a trace through the whole pipeline, as in the field: simulated Modbus TCP meters
/// serving the trace's registers, one real agent (`buildAgent`) per household polling, signing and
/// publishing through a real mosquitto, and the real aggregator (`buildAggregator`) verifying,
/// minting and settling under the contract — all on one ``ReplayClock`` that follows trace time.
///
/// The clock advances one step at a time and only when every reading of the step has been
/// polled, signed, committed in a block and confirmed, so readings, blocks' times and settlements
/// are the trace's, never the machine's: the same trace and contract give byte-identical
/// settlements on every run, at any speed.
public enum Replay {
    public static func run(
        plan: ReplayPlan, options: ReplayOptions, logger: Logger, progress: @escaping @Sendable (ReplayProgress) -> Void = { _ in }
    ) async throws -> ReplayOutcome {
        let profile = try deviceProfile(options)
        let directory = try prepareWorkDirectory(options.workDirectory)
        let broker = try await LocalBroker.start(directory: directory + "/broker", executable: options.mosquitto)
        defer { broker.stop() }
        let brokerSettings = BrokerConfiguration(host: "127.0.0.1", port: broker.port, keepAliveSeconds: 30)
        let clock = ReplayClock(startMillis: plan.fromMillis)

        let community = try await ReplayCommunity.make(
            plan: plan, profile: profile, profilesDirectory: options.profilesDirectory, broker: brokerSettings, stepMillis: plan.stepMillis,
            clock: clock, directory: directory + "/gateways")
        do {
            let outcome = try await run(plan: plan, options: options, community: community, clock: clock, broker: brokerSettings,
                                        directory: directory, logger: logger, progress: progress)
            await community.stopSimulators()
            return outcome
        } catch {
            await community.stopSimulators()
            if broker.isRunning == false {
                throw ReplayError("\(error) (mosquitto exited; its log: \(broker.logFile))")
            }
            throw error
        }
    }

    private static func run(
        plan: ReplayPlan, options: ReplayOptions, community: ReplayCommunity, clock: ReplayClock, broker: BrokerConfiguration,
        directory: String, logger: Logger, progress: @escaping @Sendable (ReplayProgress) -> Void
    ) async throws -> ReplayOutcome {
        let aggregatorDirectory = directory + "/aggregator"
        _ = try KeyFile.generate(at: aggregatorDirectory + "/aggregator.key")
        var aggregatorLogger = logger
        aggregatorLogger[metadataKey: "replay.part"] = "aggregator"
        let configuration = AggregatorConfiguration(
            stateDirectory: aggregatorDirectory, broker: broker, blocks: .init(intervalMillis: options.blockIntervalMillis))
        let aggregator = try buildAggregator(configuration: configuration, logger: aggregatorLogger, clock: clock, shutdownSignals: [])
        let store = try SQLiteLedgerStore(path: configuration.databaseFile, access: .existing)
        for entry in community.registryEntries(atMillis: plan.fromMillis) { _ = try store.enqueueRegistryEntry(entry) }
        _ = try store.enqueueContract(options.contractDocument, submittedMillis: plan.fromMillis)

        // Every agent of the replay uses the same profiles: parse the YAML once, not per agent.
        let catalog = try ProfileCatalog.locate(directory: options.profilesDirectory)
        let agents = try community.gateways.map { gateway in
            var agentLogger = logger
            agentLogger[metadataKey: "replay.part"] = "agent"
            agentLogger[metadataKey: "gateway.id"] = "\(gateway.household.id)"
            return try buildAgent(
                configuration: gateway.configuration, logger: agentLogger, clock: clock, catalog: catalog, clockSynchronized: { true },
                environment: [:], shutdownSignals: [])
        }

        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await aggregator.run() }
            do {
                try await waitForDeployment(store: store, timeout: options.stallTimeout)
                for agent in agents { group.addTask { try await agent.run() } }
                let driver = StepDriver(plan: plan, options: options, clock: clock, agents: agents, aggregator: aggregator, started: started)
                var meterIDs: [String: String] = [:]
                let final = try await driver.drive(progress: progress) {
                    meterIDs = try checkedMeterIDs(community: community, agents: agents)
                }
                let reached = driver.snapshot(step: final.step)
                for agent in agents { await agent.group.triggerGracefulShutdown() }
                await aggregatorAfterAgents(group: &group, agents: agents.count, aggregator: aggregator)
                let counters = agents.map(\.metrics.snapshot)
                let busy = aggregator.metrics.busyMicros
                let work = WorkTimes(
                    modbusSeconds: Double(counters.reduce(0) { $0 + $1.modbusMicros }) / 1e6,
                    signingSeconds: Double(counters.reduce(0) { $0 + $1.signingMicros }) / 1e6,
                    outboxSeconds: Double(counters.reduce(0) { $0 + $1.outboxMicros }) / 1e6,
                    authenticationSeconds: Double(busy.authentication) / 1e6, settlementSeconds: Double(busy.settlement) / 1e6,
                    commitSeconds: Double(busy.commit) / 1e6)
                return ReplayOutcome(
                    databaseFile: configuration.databaseFile, aggregatorPublicKey: aggregator.publicKey,
                    progress: reached, refusals: aggregator.metrics.refusalCounts, meterIDs: meterIDs,
                    polls: counters.reduce(0) { $0 + $1.readingsPolled }, failedPolls: counters.reduce(0) { $0 + $1.readingsFailed },
                    pacingSeconds: final.pacingSeconds, stepTimes: final.times, work: work)
            } catch {
                for agent in agents { await agent.group.triggerGracefulShutdown() }
                await aggregator.group.triggerGracefulShutdown()
                group.cancelAll()
                while (try? await group.next()) != nil {}
                throw error
            }
        }
    }

    /// Agents first (their last records are already confirmed), then the aggregator.
    private static func aggregatorAfterAgents(group: inout ThrowingTaskGroup<Void, any Error>, agents: Int, aggregator: Aggregator) async {
        var finished = 0
        while finished < agents, (try? await group.next()) != nil { finished += 1 }
        await aggregator.group.triggerGracefulShutdown()
        while (try? await group.next()) != nil {}
    }

    /// The registry and the contract are in a block before the first reading is taken; a refused
    /// contract ends the replay with the aggregator's reason.
    private static func waitForDeployment(store: SQLiteLedgerStore, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            let submissions = try store.contractSubmissions()
            if case .rejected(let reason) = submissions.last?.state { throw ReplayError("the contract was refused: \(reason)") }
            if case .deployed = submissions.last?.state, try store.pendingRegistryEntries().isEmpty { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ReplayError("the aggregator did not record the registry and the contract within \(timeout)")
    }

    /// Every gateway signs with the meter ids the registry expects (else every record would be
    /// refused as unknown).
    private static func checkedMeterIDs(community: ReplayCommunity, agents: [Agent]) throws -> [String: String] {
        var ids: [String: String] = [:]
        for (gateway, agent) in zip(community.gateways, agents) {
            // The gateway's own record of which id it signs with, per bus and unit.
            let bindings = try agent.outbox.meterBindings()
            for meter in gateway.household.meters {
                let expected = gateway.meterIDs[meter.name]!
                let actual = bindings[gateway.bindingKeys[meter.name]!]
                guard actual == expected else {
                    throw ReplayError("meter \(meter.traceID) signs as \(actual ?? "nothing yet"), registered as \(expected)")
                }
                ids[meter.traceID] = expected
            }
        }
        return ids
    }

    static func deviceProfile(_ options: ReplayOptions) throws -> DeviceProfile {
        let profile: DeviceProfile
        do {
            profile = try ProfileCatalog.locate(directory: options.profilesDirectory).profile(options.profileID)
        } catch {
            throw ReplayError("\(error)")
        }
        guard profile.kind != .sunspecModel else { throw ReplayError("'\(profile.id)' is a SunSpec model, not a device profile") }
        let quantities = Set(profile.fields.map(\.quantity))
        guard quantities.contains(.energyActiveImportTotal), quantities.contains(.energyActiveExportTotal) else {
            throw ReplayError("profile '\(profile.id)' has no total import and export energy registers: a trace cannot be replayed through it")
        }
        return profile
    }

    /// The work directory must be new or empty: a replay never mixes with an earlier one's state.
    /// Traversable by others (not readable) so that mosquitto, when started as root and dropped to
    /// its own user, can read its configuration.
    static func prepareWorkDirectory(_ path: String) throws -> String {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? ["?"]
            guard contents.isEmpty else { throw ReplayError("the work directory \(path) is not empty") }
        }
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            try manager.setAttributes([.posixPermissions: 0o711], ofItemAtPath: path)
            try manager.createDirectory(atPath: path + "/broker", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            try manager.createDirectory(atPath: path + "/gateways", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try manager.createDirectory(atPath: path + "/aggregator", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ReplayError("cannot prepare the work directory \(path): \(error.localizedDescription)")
        }
        return path
    }
}
