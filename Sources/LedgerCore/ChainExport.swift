public import GridLedgerRecords

/// A whole chain in one file, for auditors (docs/FORMAT.md, "Chain export"): the magic
/// `GLCHAIN1`, the aggregator's public key, then every block as header, signature, body length
/// and body.
public enum ChainExport {
    public static let magic: [UInt8] = Array("GLCHAIN1".utf8)

    public static func preamble(aggregatorKey: [UInt8]) -> [UInt8] { magic + aggregatorKey }

    public static func encode(_ block: Block) -> [UInt8] {
        let body = block.encodedBody()
        var writer = ByteWriter(capacity: BlockHeader.size + 68 + body.count)
        writer.raw(block.header.encoded())
        writer.raw(block.signature)
        writer.u32(UInt32(body.count))
        writer.raw(body)
        return writer.bytes
    }

    /// Reads an export: the aggregator key it names, then its blocks one at a time.
    public struct Reader {
        private var reader: ByteReader
        public let aggregatorKey: [UInt8]

        public init(_ bytes: [UInt8]) throws(RecordError) {
            reader = ByteReader(bytes)
            guard try reader.raw(8, "export magic") == ChainExport.magic else { throw .invalidField("export", "not a GridLedger chain export (magic GLCHAIN1)") }
            aggregatorKey = try reader.raw(32, "aggregator key")
        }

        /// The next block, or nil at the end of the file.
        public mutating func next() throws(RecordError) -> Block? {
            guard !reader.isAtEnd else { return nil }
            let header = try BlockHeader(decoding: try reader.raw(BlockHeader.size, "block header"))
            let signature = try reader.raw(64, "block signature")
            let length = Int(try reader.u32("body length"))
            let (records, events) = try Block.decodeBody(try reader.raw(length, "block body"))
            return Block(header: header, signature: signature, records: records, events: events)
        }
    }
}
