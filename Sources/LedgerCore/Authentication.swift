import Crypto
public import GridLedgerRecords

/// A record whose envelope verified with the key the registry names for its gateway and capture time.
public struct AuthenticatedRecord: Sendable, Hashable {
    public var verified: VerifiedRecord
    /// The raw public key the batch signature verified with.
    public var signingKey: [UInt8]

    public var record: ReadingRecord { verified.record }
    /// The envelope as received: what the block stores and its Merkle leaf.
    public var envelopeBytes: [UInt8]

    public init(verified: VerifiedRecord, signingKey: [UInt8], envelopeBytes: [UInt8]) {
        self.verified = verified
        self.signingKey = signingKey
        self.envelopeBytes = envelopeBytes
    }
}

extension Registry {
    /// The registry's rules for `record` signed with `signingKey` (nil: not yet known): the meter
    /// is registered to the record's gateway, and the key is that gateway's key at capture time.
    public func check(_ record: ReadingRecord, signedWith usedKey: [UInt8]?) -> Refusal? {
        guard keys[record.gatewayID] != nil else { return .unknownGateway(record.gatewayID) }
        guard let meter = meters[record.meterID] else { return .unknownMeter(record.meterID) }
        guard meter.gatewayID == record.gatewayID else { return .meterOfOtherGateway(registered: meter.gatewayID) }
        switch signingKey(gatewayID: record.gatewayID, atMillis: record.captureTimeMillis) {
        case .unknownGateway: return .unknownGateway(record.gatewayID)
        case .notYetValid: return .keyNotYetValid
        case .revoked(let since): return .keyRevoked(sinceMillis: since)
        case .valid(let entry):
            if let usedKey, usedKey != entry.publicKey { return .wrongKey }
            return nil
        }
    }

    /// Decodes and verifies one envelope as received: size, format, topic, registry, signature,
    /// Merkle path. Pure and thread-safe, so ingest runs it on several cores before the
    /// sequential chain rules.
    ///
    /// - Parameter topic: what the MQTT topic it came on names (gateway, and meter unless it
    ///   came in a bundle), if any.
    public func authenticate(
        _ payload: [UInt8], topic: TopicClaim? = nil, verifier: RecordVerifier
    ) -> Result<AuthenticatedRecord, Refusal> {
        guard payload.count <= RecordEnvelope.maximumSize else { return .failure(.oversized(payload.count)) }
        let envelope: RecordEnvelope
        let record: ReadingRecord
        do {
            envelope = try RecordEnvelope(decoding: payload)
            record = try ReadingRecord(decoding: envelope.record)
        } catch {
            return .failure(.malformed(error.description))
        }
        if let topic {
            guard topic.gatewayID == record.gatewayID else {
                return .failure(.topicMismatch("topic gateway '\(topic.gatewayID)', record gateway '\(record.gatewayID)'"))
            }
            if let meterID = topic.meterID, meterID != record.meterID {
                return .failure(.topicMismatch("topic meter '\(meterID)', record meter '\(record.meterID)'"))
            }
        }
        if let refusal = check(record, signedWith: nil) { return .failure(refusal) }
        guard case .valid(let entry) = signingKey(gatewayID: record.gatewayID, atMillis: record.captureTimeMillis),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: entry.publicKey)
        else { return .failure(.unknownGateway(record.gatewayID)) }
        do {
            let verified = try verifier.verify(envelope, record: record, publicKey: key)
            return .success(AuthenticatedRecord(verified: verified, signingKey: entry.publicKey, envelopeBytes: payload))
        } catch {
            switch error {
            case .malformed(let why): return .failure(.malformed(why.description))
            case .badSignature: return .failure(.badSignature)
            case .notInBatch: return .failure(.notInBatch)
            case .gatewayMismatch(let record, let batch): return .failure(.malformed("record of gateway '\(record)' in a batch of '\(batch)'"))
            }
        }
    }
}
