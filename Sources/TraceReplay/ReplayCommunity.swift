import Crypto
import DeviceProfiles
import Foundation
import GridLedgerAgent
import GridLedgerAggregator
import LedgerCore
import LedgerStore
import MeterSimulator
import ModbusTransport
import ServiceConfiguration

/// The community a replay builds from a plan: one simulated device per meter, one gateway (with
/// its own key and state directory) per household, the registry entries that enrol them, and the
/// configurations the shipped builders take.
struct ReplayCommunity {
    struct Gateway {
        var household: ReplayPlan.Household
        var configuration: AgentConfiguration
        var publicKey: [UInt8]
        /// Meter name → the meter id the gateway will sign with.
        var meterIDs: [String: String]
    }

    var gateways: [Gateway]
    var simulators: [SimulatorServer]

    /// Starts the simulated meters and writes the gateways' keys.
    static func make(
        plan: ReplayPlan, profile: DeviceProfile, profilesDirectory: String?, broker: BrokerConfiguration, stepMillis: Int64,
        clock: ReplayClock, directory: String
    ) async throws -> ReplayCommunity {
        var gateways: [Gateway] = []
        var simulators: [SimulatorServer] = []
        do {
            var serial: UInt64 = 10_000_000
            for household in plan.households {
                let state = "\(directory)/\(household.id)"
                try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let key = try KeyFile.generate(at: "\(state)/gateway.key")
                var buses: [AgentBus] = []
                var meterIDs: [String: String] = [:]
                for meter in household.meters {
                    serial += 1
                    guard let playback = TracePlayback(samples: meter.samples) else { throw ReplayError("meter \(meter.traceID): samples out of order") }
                    let simulator: SimulatorServer
                    do {
                        simulator = try await SimulatorServer.start(.init(
                            profile: profile, endpoint: .tcp(host: "127.0.0.1", port: 0), unit: 1, generator: playback, clock: clock, serialNumber: serial))
                    } catch {
                        throw ReplayError("cannot start the simulated meter \(meter.traceID): \(error)")
                    }
                    simulators.append(simulator)
                    let bus = BusConfiguration(
                        name: meter.name, endpoint: .tcp(host: "127.0.0.1", port: simulator.port ?? 0),
                        meters: [MeterConfiguration(name: meter.name, unit: 1, profile: profile.id, pollIntervalMillis: stepMillis)])
                    buses.append(AgentBus(bus: bus, meters: [AgentMeter(name: meter.name, unit: 1, role: AgentMeter.Role(rawValue: meter.role.rawValue) ?? .grid)]))
                    // The agent's rule (docs/AGENT.md, "Meter identity"): the serial joins the id
                    // when the profile can read one; the simulator serves it as decimal digits.
                    meterIDs[meter.name] = "\(household.id):\(meter.name):1" + (profile.identification?.serialNumber != nil ? ":\(serial)" : "")
                }
                let configuration = AgentConfiguration(
                    gatewayID: household.id, stateDirectory: state, profilesDirectory: profilesDirectory, broker: broker,
                    // Nothing is lost on loopback, and a step ends only when its records are
                    // confirmed: republishing on trace time would only send duplicates.
                    outbox: OutboxConfiguration(republishAfterMillis: 100 * 365 * 86_400_000),
                    metrics: MetricsConfiguration(logIntervalMillis: 0), buses: buses)
                gateways.append(Gateway(household: household, configuration: configuration, publicKey: Array(key.publicKey.rawRepresentation), meterIDs: meterIDs))
            }
        } catch {
            for simulator in simulators { await simulator.stop() }
            throw error
        }
        return ReplayCommunity(gateways: gateways, simulators: simulators)
    }

    /// Members, gateway keys (valid from before the replay) and meters, as registry entries.
    func registryEntries(atMillis millis: Int64) -> [RegistryEntry] {
        var entries: [RegistryEntry] = []
        func add(_ change: RegistryChange) { entries.append(RegistryEntry(change: change, recordedMillis: millis, author: "replay")) }
        for gateway in gateways {
            let producing = gateway.household.meters.contains { $0.role == .pv || $0.role == .battery }
            add(.addMember(Member(id: gateway.household.id, role: producing ? .prosumer : .consumer, name: gateway.household.id)))
        }
        for gateway in gateways {
            add(.addGatewayKey(gatewayID: gateway.household.id, publicKey: gateway.publicKey, validFromMillis: millis - 86_400_000))
            for meter in gateway.household.meters {
                add(.addMeter(RegisteredMeter(
                    meterID: gateway.meterIDs[meter.name]!, gatewayID: gateway.household.id, memberID: gateway.household.id,
                    role: meter.role, tariffGroup: "default")))
            }
        }
        return entries
    }

    func stopSimulators() async {
        for simulator in simulators { await simulator.stop() }
    }
}
