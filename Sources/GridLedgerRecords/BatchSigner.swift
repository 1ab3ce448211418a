public import Crypto

/// Signs a batch of encoded records (for example, every meter of one poll cycle) with one
/// Ed25519 signature over their Merkle root, and returns one self-contained envelope per record.
public struct BatchSigner: Sendable {
    public let gatewayID: String
    private let key: Curve25519.Signing.PrivateKey

    public init(gatewayID: String, key: Curve25519.Signing.PrivateKey) {
        self.gatewayID = gatewayID
        self.key = key
    }

    public var publicKey: Curve25519.Signing.PublicKey { key.publicKey }

    /// Envelopes for `records` (already encoded, in batch order).
    public func sign(records: [[UInt8]], batchSequence: UInt64, createdMillis: Int64) throws -> [RecordEnvelope] {
        guard !records.isEmpty, records.count <= Int(BatchHeader.maximumLeaves) else {
            throw RecordError.invalidField("batch", "needs 1…\(BatchHeader.maximumLeaves) records, got \(records.count)")
        }
        if let oversized = records.first(where: { $0.count > ReadingRecord.maximumSize }) {
            throw RecordError.tooLarge(oversized.count, maximum: ReadingRecord.maximumSize)
        }
        // Two equal records would share a leaf hash, so either envelope would verify with both
        // leaf indices: an envelope would no longer be unique.
        guard Set(records).count == records.count else { throw RecordError.invalidField("batch", "contains the same record twice") }
        let leaves = records.map(MerkleTree.leafHash)
        let header = try BatchHeader(
            gatewayID: gatewayID, batchSequence: batchSequence, createdMillis: createdMillis,
            leafCount: UInt32(records.count), root: MerkleTree.root(leafHashes: leaves)
        ).encoded()
        let signature = Array(try key.signature(for: BatchHeader.signatureInput(headerBytes: header)))
        let paths = MerkleTree.auditPaths(leafHashes: leaves, indices: Array(records.indices))
        return records.indices.map { index in
            RecordEnvelope(record: records[index], header: header, signature: signature, leafIndex: UInt32(index), path: paths[index])
        }
    }
}
