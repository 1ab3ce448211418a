import GridLedgerRecords
import LedgerCore
import Testing

@Suite("Registry")
struct RegistryTests {
    typealias F = Fixture

    /// True when `change` is refused and leaves the registry as it was.
    func refuses(_ change: RegistryChange, in registry: Registry) -> Bool {
        var copy = registry
        do {
            try copy.apply(change)
            return false
        } catch {
            return copy == registry
        }
    }

    func keyOf(_ lookup: Registry.KeyLookup) -> [UInt8]? {
        if case .valid(let entry) = lookup { return entry.publicKey }
        return nil
    }

    @Test func addsMembersKeysAndMeters() {
        let registry = F.registry()
        #expect(registry.members["alice"] == Member(id: "alice", role: .prosumer, name: "Alice Ä."))
        #expect(registry.keys[F.gw1] == [GatewayKeyEntry(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), validFromMillis: F.t0)])
        #expect(registry.meters[F.m1]?.gatewayID == F.gw1)
        #expect(registry.meters[F.m3]?.role == .battery)
        #expect(registry.meters(ofMember: "alice").map(\.meterID) == [F.m1, F.m2, F.m3])
        #expect(registry.meters(ofMember: "bob").isEmpty)
    }

    @Test func duplicatesAreRefused() {
        let registry = F.registry()
        #expect(refuses(.addMember(Member(id: "alice", role: .consumer, name: "other")), in: registry))
        #expect(refuses(.addMeter(RegisteredMeter(meterID: F.m1, gatewayID: F.gw1, memberID: "alice", role: .load, tariffGroup: "x")), in: registry))
        // The same key again, for the same gateway later or for another gateway.
        #expect(refuses(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), validFromMillis: F.t0 + 10), in: registry))
        #expect(refuses(.addGatewayKey(gatewayID: "gw9", publicKey: F.raw(F.gatewayKey), validFromMillis: F.t0), in: registry))
    }

    @Test func meterNeedsItsMemberAndAGatewayKey() {
        var registry = Registry()
        try! registry.apply(.addMember(Member(id: "alice", role: .prosumer, name: "")))
        let meter = RegisteredMeter(meterID: F.m1, gatewayID: F.gw1, memberID: "alice", role: .grid, tariffGroup: "t")
        #expect(refuses(.addMeter(meter), in: registry))  // no key for gw1 yet
        try! registry.apply(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), validFromMillis: F.t0))
        var ofBob = meter
        ofBob.memberID = "bob"
        #expect(refuses(.addMeter(ofBob), in: registry))
        #expect(!refuses(.addMeter(meter), in: registry))
    }

    @Test func rotationEndsTheOldKeyAtTheNewValidFrom() throws {
        let rotation = F.t0 + 10_000
        let registry = F.registry([.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: rotation)])
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: F.t0)) == F.raw(F.gatewayKey))
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: rotation - 1)) == F.raw(F.gatewayKey))
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: rotation)) == F.raw(F.rotatedKey))
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: rotation + 1_000_000)) == F.raw(F.rotatedKey))
        // The other gateway is untouched.
        #expect(keyOf(registry.signingKey(gatewayID: F.gw2, atMillis: rotation)) == F.raw(F.otherGatewayKey))
    }

    @Test func rotationMustStartLater() {
        let registry = F.registry()
        #expect(refuses(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: F.t0), in: registry))
        #expect(refuses(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: F.t0 - 1), in: registry))
        #expect(!refuses(.addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: F.t0 + 1), in: registry))
    }

    @Test func revocationAppliesFromItsTime() {
        let revoked = F.t0 + 5000
        let registry = F.registry([.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: revoked)])
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: revoked - 1)) == F.raw(F.gatewayKey))
        #expect(registry.signingKey(gatewayID: F.gw1, atMillis: revoked) == .revoked(since: revoked))
        #expect(registry.signingKey(gatewayID: F.gw1, atMillis: revoked + 1) == .revoked(since: revoked))
    }

    @Test func revokingTheCurrentKeyDoesNotReviveTheOldOne() {
        let rotation = F.t0 + 10_000, revoked = F.t0 + 12_000
        let registry = F.registry([
            .addGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), validFromMillis: rotation),
            .revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.rotatedKey), effectiveMillis: revoked),
        ])
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: rotation - 1)) == F.raw(F.gatewayKey))
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: revoked - 1)) == F.raw(F.rotatedKey))
        #expect(registry.signingKey(gatewayID: F.gw1, atMillis: revoked) == .revoked(since: revoked))
        #expect(registry.signingKey(gatewayID: F.gw1, atMillis: revoked + 60_000) == .revoked(since: revoked))
    }

    @Test func revocationRules() {
        let revoked = F.t0 + 5000
        let registry = F.registry([.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: revoked)])
        // Only an earlier revocation time is a change; the same or a later one is refused.
        #expect(refuses(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: revoked), in: registry))
        #expect(refuses(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: revoked + 1), in: registry))
        var earlier = registry
        try! earlier.apply(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.gatewayKey), effectiveMillis: revoked - 1000))
        #expect(earlier.signingKey(gatewayID: F.gw1, atMillis: revoked - 1000) == .revoked(since: revoked - 1000))
        // Unknown key, or a key of another gateway.
        #expect(refuses(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.strangerKey), effectiveMillis: revoked), in: registry))
        #expect(refuses(.revokeGatewayKey(gatewayID: F.gw1, publicKey: F.raw(F.otherGatewayKey), effectiveMillis: revoked), in: registry))
        #expect(refuses(.revokeGatewayKey(gatewayID: "gw9", publicKey: F.raw(F.gatewayKey), effectiveMillis: revoked), in: registry))
    }

    @Test func signingKeyOfUnknownGatewayOrBeforeValidity() {
        let registry = F.registry()
        #expect(registry.signingKey(gatewayID: "gw9", atMillis: F.t0) == .unknownGateway)
        #expect(Registry().signingKey(gatewayID: F.gw1, atMillis: F.t0) == .unknownGateway)
        #expect(registry.signingKey(gatewayID: F.gw1, atMillis: F.t0 - 1) == .notYetValid)
        #expect(keyOf(registry.signingKey(gatewayID: F.gw1, atMillis: F.t0)) == F.raw(F.gatewayKey))
    }
}
