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

/// The community a replay builds from a plan: one simulated bus per household with a device per
/// meter, one gateway (with its own key and state directory) per household, the registry entries that enrol them, and the
/// configurations the shipped builders take.
struct ReplayCommunity {
    struct Gateway {
        var household: ReplayPlan.Household
        var configuration: AgentConfiguration
        var publicKey: [UInt8]
        /// Meter name → the meter id the gateway will sign with.
        var meterIDs: [String: String]
        /// Meter name → the agent's binding key (`<bus>:<unit>`).
        var bindingKeys: [String: String]
    }

    var gateways: [Gateway]
    var simulators: [SimulatorServer]

    /// Starts the simulated meters and writes the gateways' keys.
    ///
    /// One bus per household, not one endpoint per meter, also because of descriptors: libmodbus
    /// and libmosquitto wait with select(), which cannot watch a descriptor above 1023, and a
    /// household costs about 9 in this process (MQTT socket and wake-up pair, outbox database,
    /// WAL and shared memory, Modbus client, simulator listener and connection).
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
                // One RS-485-like bus per household: its meters are units 1, 2, … of one simulated
                // endpoint, polled one after another by the gateway, as in a meter cabinet.
                var devices: [(unit: UInt8, meter: ReplayPlan.Meter, serial: UInt64, playback: TracePlayback)] = []
                for (index, meter) in household.meters.enumerated() {
                    serial += 1
                    guard let playback = TracePlayback(samples: meter.samples) else { throw ReplayError("meter \(meter.traceID): samples out of order") }
                    devices.append((UInt8(index + 1), meter, serial, playback))
                }
                let simulator: SimulatorServer
                do {
                    simulator = try await SimulatorServer.start(.init(
                        profile: profile, endpoint: .tcp(host: "127.0.0.1", port: 0), unit: devices[0].unit, generator: devices[0].playback,
                        clock: clock, serialNumber: devices[0].serial,
                        otherUnits: devices.dropFirst().map { .init(unit: $0.unit, generator: $0.playback, serialNumber: $0.serial) }))
                } catch {
                    throw ReplayError("cannot start the simulated meters of \(household.id): \(error)")
                }
                simulators.append(simulator)
                let bus = BusConfiguration(
                    name: "bus", endpoint: .tcp(host: "127.0.0.1", port: simulator.port ?? 0),
                    meters: devices.map { MeterConfiguration(name: $0.meter.name, unit: $0.unit, profile: profile.id, pollIntervalMillis: stepMillis) })
                let buses = [AgentBus(bus: bus, meters: devices.map {
                    AgentMeter(name: $0.meter.name, unit: $0.unit, role: AgentMeter.Role(rawValue: $0.meter.role.rawValue) ?? .grid)
                })]
                var meterIDs: [String: String] = [:]
                var bindingKeys: [String: String] = [:]
                for device in devices {
                    // The agent's rule (docs/AGENT.md, "Meter identity"): the serial joins the id
                    // when the profile can read one; the simulator serves it as decimal digits.
                    meterIDs[device.meter.name] = "\(household.id):bus:\(device.unit)" + (profile.identification?.serialNumber != nil ? ":\(device.serial)" : "")
                    bindingKeys[device.meter.name] = "bus:\(device.unit)"
                }
                let configuration = AgentConfiguration(
                    gatewayID: household.id, stateDirectory: state, profilesDirectory: profilesDirectory, broker: broker,
                    // Nothing is lost on loopback, and a step ends only when its records are
                    // confirmed: republishing on trace time would only send duplicates.
                    outbox: OutboxConfiguration(republishAfterMillis: 100 * 365 * 86_400_000),
                    metrics: MetricsConfiguration(logIntervalMillis: 0), buses: buses)
                gateways.append(Gateway(household: household, configuration: configuration, publicKey: Array(key.publicKey.rawRepresentation), meterIDs: meterIDs, bindingKeys: bindingKeys))
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
