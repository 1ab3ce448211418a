/// One measured value of a reading.
public struct Measurement: Sendable, Hashable, Codable {
    public var quantity: Quantity
    public var value: ScaledValue

    public init(_ quantity: Quantity, _ value: ScaledValue) {
        self.quantity = quantity
        self.value = value
    }
}

/// Whether a poll produced everything its profile asks for.
public enum ReadingStatus: String, Sendable, Hashable, Codable {
    /// Every field was read (fields the device marks "not implemented" do not count as missing).
    case complete
    /// Some fields could not be read; the values present are fresh from this poll.
    case partial
    /// Nothing could be read; the reading carries no values. Old values are never re-emitted.
    case failed
}

/// A consistent snapshot of one poll of one meter.
///
/// All values come from the same poll cycle; `captureTime` is taken when the poll started.
public struct MeterReading: Sendable, Hashable, Codable {
    /// Capture time in milliseconds since the Unix epoch, UTC.
    public var captureTimeMillis: Int64
    public var profileID: String
    public var status: ReadingStatus
    /// Values ordered by the vocabulary, one per quantity.
    public var measurements: [Measurement]
    /// Quantities the profile has but the device reported as not implemented.
    public var notImplemented: [Quantity]
    /// Human-readable reasons for missing values (partial or failed readings).
    public var problems: [String]

    public init(
        captureTimeMillis: Int64, profileID: String, status: ReadingStatus, measurements: [Measurement],
        notImplemented: [Quantity] = [], problems: [String] = []
    ) {
        self.captureTimeMillis = captureTimeMillis
        self.profileID = profileID
        self.status = status
        self.measurements = measurements.sorted { $0.quantity < $1.quantity }
        self.notImplemented = notImplemented.sorted()
        self.problems = problems
    }

    /// The value of `quantity`, if this reading has it.
    public subscript(_ quantity: Quantity) -> ScaledValue? {
        measurements.first { $0.quantity == quantity }?.value
    }
}
