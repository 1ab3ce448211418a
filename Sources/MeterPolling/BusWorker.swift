import Dispatch
public import GridLedgerCore
public import ModbusCore
import Synchronization

/// A reading of one meter, with the meter it belongs to.
public struct PolledReading: Sendable, Hashable {
    /// The bus's configured name.
    public var bus: String
    public var meter: String
    public var unit: UInt8
    public var reading: MeterReading
    /// The device's serial number, when its profile can read it and it has been read.
    public var serialNumber: String?
    /// Whether the device's profile can read a serial number at all.
    public var hasReadableSerial: Bool

    public init(bus: String, meter: String, unit: UInt8, reading: MeterReading, serialNumber: String? = nil, hasReadableSerial: Bool = false) {
        self.bus = bus
        self.meter = meter
        self.unit = unit
        self.reading = reading
        self.serialNumber = serialNumber
        self.hasReadableSerial = hasReadableSerial
    }
}

/// One Modbus line (a serial port, or a TCP connection to a device or gateway) and the meters on
/// it. All requests on the line run one after another on the worker's own dispatch queue, never
/// on Swift's cooperative pool: libmodbus calls block for up to the response timeout, and a
/// `modbus_t` must have one owner at a time.
public final class BusWorker<Reader: RegisterReader & SendableMetatype>: Sendable {
    public let name: String
    private let queue: DispatchQueue
    private let state: Mutex<State>

    struct State: ~Copyable {
        var reader: Reader
        var sessions: [MeterSession]
    }

    public init(name: String, reader: consuming sending Reader, sessions: [MeterSession]) {
        self.name = name
        queue = DispatchQueue(label: "gridledger.bus.\(name)")
        state = Mutex(State(reader: reader, sessions: sessions))
    }

    /// Polls every meter that is due at `nowMillis` (per its interval and backoff), in order.
    /// Capture time is taken from `clock` just before each meter's first request.
    public func pollDueMeters(clock: some WallClock) async -> [PolledReading] {
        await poll(clock: clock, ignoringSchedule: false)
    }

    /// Polls every meter now, whatever its schedule (one-shot commands).
    public func pollDueMetersIgnoringSchedule(clock: some WallClock) async -> [PolledReading] {
        await poll(clock: clock, ignoringSchedule: true)
    }

    private func poll(clock: some WallClock, ignoringSchedule: Bool) async -> [PolledReading] {
        await perform { state in
            var readings: [PolledReading] = []
            let now = clock.nowMillis()
            for index in state.sessions.indices where ignoringSchedule || state.sessions[index].isDue(at: now) {
                let capture = clock.nowMillis()
                let reading = state.sessions[index].poll(reader: &state.reader, captureMillis: capture)
                let session = state.sessions[index]
                readings.append(PolledReading(
                    bus: self.name, meter: session.name, unit: session.unit, reading: reading,
                    serialNumber: session.serialNumber, hasReadableSerial: session.hasReadableSerial))
            }
            return readings
        }
    }

    /// The earliest time any meter is due again, for the poll loop's sleep.
    public func nextDueMillis() async -> Int64 {
        await perform { state in
            state.sessions.map { max($0.nextPollMillis, $0.backoff.nextAttemptMillis) }.min() ?? .max
        }
    }

    /// Runs `body` with exclusive use of the line's reader, on the bus queue (one-off requests
    /// such as `scan`).
    public func withReader<T: Sendable>(_ body: @escaping @Sendable (inout Reader) -> T) async -> T {
        await perform { state in body(&state.reader) }
    }

    /// A snapshot of per-meter statistics.
    public func sessions() async -> [MeterSession] {
        await perform { $0.sessions }
    }

    /// Runs `body` with exclusive use of the line, on the bus queue.
    func perform<T: Sendable>(_ body: @escaping @Sendable (inout State) -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async {
                let result = self.state.withLock { state in body(&state) }
                continuation.resume(returning: result)
            }
        }
    }
}
