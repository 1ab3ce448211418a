public import ModbusCore
#if canImport(Glibc)
import Glibc
#endif

/// Timing rules of a serial bus: RS-485 devices need quiet time between frames, and some need
/// extra time before they are addressed after another device spoke.
public struct BusPacing: Sendable, Hashable {
    /// Minimum silence between the end of one exchange and the next request.
    public var interFrameDelay: Duration
    /// Extra silence when the next request goes to a different unit id than the last one.
    public var perSlaveDelay: Duration

    public init(interFrameDelay: Duration = .zero, perSlaveDelay: Duration = .zero) {
        self.interFrameDelay = interFrameDelay
        self.perSlaveDelay = perSlaveDelay
    }
}

/// Wraps a reader and enforces ``BusPacing``. Sleeps on the calling (bus) thread, which owns the
/// line exclusively, so sleeping here delays nobody else.
public struct PacedReader<Base: RegisterReader>: RegisterReader {
    public var base: Base
    public let pacing: BusPacing
    private var lastExchangeEnd: ContinuousClock.Instant?
    private var lastUnit: UInt8?

    public init(_ base: Base, pacing: BusPacing) {
        self.base = base
        self.pacing = pacing
    }

    public mutating func readRegisters(unit: UInt8, span: RegisterSpan) throws(ModbusError) -> [UInt16] {
        if let end = lastExchangeEnd {
            var quiet = pacing.interFrameDelay
            if unit != lastUnit { quiet += pacing.perSlaveDelay }
            let wait = end.advanced(by: quiet) - .now
            if wait > .zero { Self.sleep(wait) }
        }
        defer {
            lastExchangeEnd = .now
            lastUnit = unit
        }
        return try base.readRegisters(unit: unit, span: span)
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
