import DeviceProfiles
import GridLedgerAgent
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import MeterSimulator
import ModbusCore
import ModbusTransport
import Synchronization
import Testing

/// Every integration suite is nested here: they run one after another, because each starts
/// real peers (Python, socat) and the CI machine has two cores.
@Suite("Integration", .serialized) enum Integration {}

let catalog = try! ProfileCatalog.load(directory: TestEnvironment.profilesDirectory)

/// A pymodbus unit that holds every field of `profile`: the vector's words where the vector has
/// them, the encoding of `fill` elsewhere. Undefined addresses stay undefined, so the peer refuses
/// reads that bridge gaps, as strict meters do.
func peerUnit(for profile: DeviceProfile, vector: DecodeVector?, fill: ScaledValue = ScaledValue(0)) -> ModbusPeer.Unit {
    var unit = ModbusPeer.Unit()
    var covered: [RegisterSpan] = []
    for entry in vector?.registers ?? [] {
        unit.set(entry.function, Int(entry.address), entry.words)
        covered.append(RegisterSpan(entry.function, address: entry.address, count: UInt16(entry.words.count)))
    }
    for field in profile.fields {
        let span = field.location.span(count: field.registerCount, base: 0)
        if covered.contains(where: { $0.overlaps(span) }) { continue }
        unit.set(field.location.function, Int(field.location.address), ProfileEncoder.encode(fill, for: field))
        covered.append(span)
    }
    return unit
}

