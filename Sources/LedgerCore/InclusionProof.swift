public import Crypto
public import GridLedgerRecords

/// Proof that one record is in a block: the signed block header, the record's envelope (which
/// carries the gateway's own signature) and its audit path to the block's records root.
/// Serialised as JSON with hex strings (docs/FORMAT.md, "Inclusion proof").
public struct InclusionProof: Sendable, Hashable, Codable {
    public static let format = "gridledger-inclusion-proof-v1"

    public var format: String
    public var blockHeader: String
    public var blockSignature: String
    public var leafIndex: UInt32
    public var path: [String]
    public var envelope: String

    public init(header: BlockHeader, signature: [UInt8], leafIndex: UInt32, path: [[UInt8]], envelope: [UInt8]) {
        format = Self.format
        blockHeader = Hex.encode(header.encoded())
        blockSignature = Hex.encode(signature)
        self.leafIndex = leafIndex
        self.path = path.map { Hex.encode($0) }
        self.envelope = Hex.encode(envelope)
    }

    /// Builds the proof for record `index` of `block`.
    public static func make(block: Block, index: Int) -> InclusionProof {
        let path = MerkleTree.auditPath(index: index, leafHashes: block.records.map(MerkleTree.leafHash))
        return InclusionProof(header: block.header, signature: block.signature, leafIndex: UInt32(index), path: path, envelope: block.records[index])
    }

    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public struct Verified: Sendable, Hashable {
        public var header: BlockHeader
        public var record: VerifiedRecord
    }

    /// Checks the block signature with the aggregator's key, the audit path to the records root,
    /// and the envelope with `gatewayKey` when given (otherwise only its Merkle path within the
    /// gateway's batch, not the gateway's signature).
    public func verify(aggregatorKey: Curve25519.Signing.PublicKey, gatewayKey: Curve25519.Signing.PublicKey?) throws(Failure) -> Verified {
        guard format == Self.format else { throw Failure("unknown proof format '\(format)'") }
        guard let headerBytes = Hex.decode(blockHeader), let signature = Hex.decode(blockSignature), let envelopeBytes = Hex.decode(envelope) else {
            throw Failure("a field is not hex")
        }
        let pathBytes = path.compactMap(Hex.decode)
        guard pathBytes.count == path.count, path.count <= 64 else { throw Failure("the path is not a list of hex hashes") }
        let header: BlockHeader
        do { header = try BlockHeader(decoding: headerBytes) } catch { throw Failure("block header: \(error)") }
        guard header.keyID == KeyID.of(Array(aggregatorKey.rawRepresentation)) else { throw Failure("the block was signed by another aggregator key") }
        guard aggregatorKey.isValidSignature(signature, for: BlockHeader.signatureInput(headerBytes: headerBytes)) else {
            throw Failure("the block signature does not verify")
        }
        guard MerkleTree.verify(leafHash: MerkleTree.leafHash(envelopeBytes), index: UInt64(leafIndex), size: UInt64(header.recordCount),
                                path: pathBytes, root: header.recordsRoot)
        else { throw Failure("the record is not in block \(header.height) (audit path mismatch)") }
        let record: VerifiedRecord
        do {
            let decoded = try RecordEnvelope(decoding: envelopeBytes)
            if let gatewayKey {
                record = try RecordVerifier(cacheLimit: 1).verify(decoded, publicKey: gatewayKey)
            } else {
                let batch = try BatchHeader(decoding: decoded.header)
                guard MerkleTree.verify(leafHash: MerkleTree.leafHash(decoded.record), index: UInt64(decoded.leafIndex),
                                        size: UInt64(batch.leafCount), path: decoded.path, root: batch.root)
                else { throw Failure("the record is not in its gateway batch") }
                record = VerifiedRecord(record: try ReadingRecord(decoding: decoded.record), bytes: decoded.record, header: batch, envelope: decoded)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("record envelope: \(error)")
        }
        return Verified(header: header, record: record)
    }
}
