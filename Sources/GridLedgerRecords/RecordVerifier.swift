public import Crypto
import Synchronization

/// A record whose envelope verified: authentic (signed by the gateway's key), unaltered (its
/// bytes are in the signed Merkle root), and well-formed.
public struct VerifiedRecord: Sendable, Hashable {
    public var record: ReadingRecord
    /// The record bytes exactly as received: what is stored and hashed, never re-serialised.
    public var bytes: [UInt8]
    public var header: BatchHeader
    public var envelope: RecordEnvelope

    public init(record: ReadingRecord, bytes: [UInt8], header: BatchHeader, envelope: RecordEnvelope) {
        self.record = record
        self.bytes = bytes
        self.header = header
        self.envelope = envelope
    }
}

/// Why an envelope was refused.
public enum VerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(RecordError)
    case badSignature
    case notInBatch
    case gatewayMismatch(record: String, batch: String)

    public var description: String {
        switch self {
        case .malformed(let error): "malformed: \(error)"
        case .badSignature: "the batch signature does not verify with the gateway's key"
        case .notInBatch: "the record is not in the signed batch (Merkle path mismatch)"
        case .gatewayMismatch(let record, let batch): "record of gateway '\(record)' in a batch of gateway '\(batch)'"
        }
    }
}

/// Verifies record envelopes. Checking a batch signature is the expensive step (Ed25519,
/// ~55 µs); every other record of the same batch needs only SHA-256 of its Merkle path, so
/// verified batch signatures are remembered in a bounded cache.
///
/// ```swift
/// let verifier = RecordVerifier()
/// let verified = try verifier.verify(envelopeBytes, publicKey: gatewayKey)
/// ```
public final class RecordVerifier: Sendable {
    private let cache: Mutex<Set<[UInt8]>>
    private let cacheLimit: Int

    public init(cacheLimit: Int = 4096) {
        cache = Mutex([])
        self.cacheLimit = cacheLimit
    }

    public func verify(_ envelopeBytes: [UInt8], publicKey: Curve25519.Signing.PublicKey) throws(VerificationError) -> VerifiedRecord {
        let envelope: RecordEnvelope
        do {
            envelope = try RecordEnvelope(decoding: envelopeBytes)
        } catch {
            throw .malformed(error)
        }
        return try verify(envelope, publicKey: publicKey)
    }

    public func verify(_ envelope: RecordEnvelope, publicKey: Curve25519.Signing.PublicKey) throws(VerificationError) -> VerifiedRecord {
        let record: ReadingRecord
        do {
            record = try ReadingRecord(decoding: envelope.record)
        } catch {
            throw .malformed(error)
        }
        return try verify(envelope, record: record, publicKey: publicKey)
    }

    /// As ``verify(_:publicKey:)-(RecordEnvelope,_)``, for a caller that has already decoded
    /// `envelope.record` into `record` (decoding is a good part of the cost of a cached check).
    public func verify(_ envelope: RecordEnvelope, record: ReadingRecord, publicKey: Curve25519.Signing.PublicKey) throws(VerificationError) -> VerifiedRecord {
        let header: BatchHeader
        do {
            header = try BatchHeader(decoding: envelope.header)
        } catch {
            throw .malformed(error)
        }
        // The cache key binds header, signature and key: a hit means exactly this signature was
        // verified over exactly this header with exactly this key.
        let cacheKey = Array(SHA256.hash(data: envelope.header + envelope.signature + publicKey.rawRepresentation))
        if !cache.withLock({ $0.contains(cacheKey) }) {
            guard publicKey.isValidSignature(envelope.signature, for: BatchHeader.signatureInput(headerBytes: envelope.header)) else {
                throw .badSignature
            }
            cache.withLock { cache in
                if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
                cache.insert(cacheKey)
            }
        }
        guard MerkleTree.verify(leafHash: MerkleTree.leafHash(envelope.record), index: UInt64(envelope.leafIndex),
                                size: UInt64(header.leafCount), path: envelope.path, root: header.root)
        else { throw .notInBatch }
        guard record.gatewayID == header.gatewayID else { throw .gatewayMismatch(record: record.gatewayID, batch: header.gatewayID) }
        return VerifiedRecord(record: record, bytes: envelope.record, header: header, envelope: envelope)
    }
}
