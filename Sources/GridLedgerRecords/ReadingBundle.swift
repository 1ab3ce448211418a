/// Several record envelopes of one gateway in one MQTT message (docs/FORMAT.md, "Bundle").
///
/// Every MQTT message costs the gateway, the broker and the aggregator a packet, a PUBACK, a
/// wake-up and a routing decision, whatever it holds: sending a poll cycle's envelopes together
/// divides that cost by the number of meters. The envelopes inside stay exactly the bytes the
/// gateway signed, each still provable alone, and are what blocks store.
public struct ReadingBundle: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    public static let maximumEnvelopes = 256
    /// Whole message, framing included; also the broker's `message_size_limit`.
    public static let maximumSize = 65_536
    /// Version and count.
    public static let headerSize = 3
    /// The length before each envelope.
    public static let framingPerEnvelope = 2

    public private(set) var envelopes: [[UInt8]]

    /// - Throws: when there are no envelopes, too many, one is empty or larger than an envelope
    ///   may be, or the whole exceeds ``maximumSize``.
    public init(envelopes: [[UInt8]]) throws(RecordError) {
        guard (1...Self.maximumEnvelopes).contains(envelopes.count) else {
            throw .invalidField("envelope count", "\(envelopes.count) is outside 1…\(Self.maximumEnvelopes)")
        }
        var size = Self.headerSize
        for envelope in envelopes {
            guard Self.canHold(envelope) else {
                throw .invalidField("envelope length", "\(envelope.count) is outside 1…\(RecordEnvelope.maximumSize)")
            }
            size += Self.framingPerEnvelope + envelope.count
        }
        guard size <= Self.maximumSize else { throw .tooLarge(size, maximum: Self.maximumSize) }
        self.envelopes = envelopes
    }

    /// The bytes `envelope` adds to a bundle.
    public static func encodedSize(ofEnvelope envelope: [UInt8]) -> Int { framingPerEnvelope + envelope.count }

    /// Whether `envelope` may be in a bundle at all.
    public static func canHold(_ envelope: [UInt8]) -> Bool { (1...RecordEnvelope.maximumSize).contains(envelope.count) }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + envelopes.reduce(0) { $0 + Self.encodedSize(ofEnvelope: $1) })
        writer.u8(Self.formatVersion)
        writer.u16(UInt16(envelopes.count))
        for envelope in envelopes {
            writer.u16(UInt16(envelope.count))
            writer.raw(envelope)
        }
        return writer.bytes
    }

    /// Splits a bundle into its envelopes, which are checked one by one afterwards.
    public init(decoding bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge(bytes.count, maximum: Self.maximumSize) }
        var reader = ByteReader(bytes)
        let version = try reader.u8("bundle version")
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        let count = Int(try reader.u16("envelope count"))
        guard (1...Self.maximumEnvelopes).contains(count) else {
            throw .invalidField("envelope count", "\(count) is outside 1…\(Self.maximumEnvelopes)")
        }
        var envelopes: [[UInt8]] = []
        envelopes.reserveCapacity(count)
        for index in 0..<count {
            let length = Int(try reader.u16("envelope \(index) length"))
            guard (1...RecordEnvelope.maximumSize).contains(length) else {
                throw .invalidField("envelope \(index) length", "\(length) is outside 1…\(RecordEnvelope.maximumSize)")
            }
            envelopes.append(try reader.raw(length, "envelope \(index)"))
        }
        guard reader.isAtEnd else { throw .trailingBytes(reader.remaining) }
        self.envelopes = envelopes
    }

    /// Cuts `envelopes` into bundles in order, each as full as the bounds allow.
    ///
    /// - Throws: when an envelope cannot be in any bundle (empty or too large).
    public static func pack(_ envelopes: [[UInt8]], maximumEnvelopes: Int = maximumEnvelopes) throws(RecordError) -> [ReadingBundle] {
        var bundles: [ReadingBundle] = []
        for run in cut(envelopes, maximumEnvelopes: maximumEnvelopes, envelope: { $0 }) {
            bundles.append(try ReadingBundle(envelopes: Array(run)))
        }
        return bundles
    }

    /// Cuts `items` in order into runs of one bundle each, as full as the bounds allow: at most
    /// `maximumEnvelopes` (and ``maximumEnvelopes``) items, at most ``maximumSize`` bytes.
    /// Every item's envelope should satisfy ``canHold(_:)``; one that does not ends up alone.
    public static func cut<Item>(_ items: [Item], maximumEnvelopes: Int = maximumEnvelopes, envelope: (Item) -> [UInt8]) -> [ArraySlice<Item>] {
        let perBundle = min(max(1, maximumEnvelopes), Self.maximumEnvelopes)
        var runs: [ArraySlice<Item>] = []
        var start = items.startIndex
        var size = headerSize
        for index in items.indices {
            let added = encodedSize(ofEnvelope: envelope(items[index]))
            if index > start && (index - start == perBundle || size + added > maximumSize) {
                runs.append(items[start..<index])
                start = index
                size = headerSize
            }
            size += added
        }
        if start < items.endIndex { runs.append(items[start...]) }
        return runs
    }
}
