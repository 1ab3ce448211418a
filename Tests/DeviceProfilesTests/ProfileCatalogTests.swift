import DeviceProfiles
import Foundation
import GridLedgerCore
import ModbusCore
import Testing

/// One test over every profile in firmware-profiles/, like evcc's template test: each must load,
/// validate, cite a source, and have a hand-computed decode vector.
@Suite("Profile catalog")
struct ProfileCatalogTests {
    static let profileFiles = Fixtures.files(in: Fixtures.profilesDirectory)

    @Test func everyProfileLoadsAndValidates() throws {
        let catalog = try Fixtures.catalog()
        #expect(catalog.profiles.count == Self.profileFiles.count)
        #expect(catalog.profiles.count >= 16)
    }

    @Test("the required devices and SunSpec models are present")
    func requiredDevicesPresent() throws {
        let catalog = try Fixtures.catalog()
        for id in ["eastron-sdm630", "eastron-sdm120", "eastron-sdm72d-m-2", "abb-b23-b24", "carlo-gavazzi-em340", "shelly-pro-3em", "huawei-sun2000"] {
            #expect(catalog.profiles[id] != nil, "missing profile \(id)")
        }
        for model: UInt16 in [1, 101, 103, 111, 113, 201, 203, 211, 213] {
            #expect(catalog.sunspecModels[model] != nil, "missing SunSpec model \(model)")
        }
    }

    @Test(arguments: profileFiles)
    func profileIsSound(file: String) throws {
        let text = try String(contentsOf: Fixtures.profilesDirectory.appendingPathComponent(file), encoding: .utf8)
        let profile = try ProfileLoader.load(yaml: text, fileName: file)
        #expect(!profile.sources.isEmpty)
        #expect(profile.sources.allSatisfy { !$0.title.isEmpty })
        // A decode vector exists for every profile.
        #expect(FileManager.default.fileExists(atPath: Fixtures.vectorsDirectory.appendingPathComponent(file).path), "no decode vector for \(file)")
        // Every read the planner makes stays within the device's limit and the Modbus limit.
        for block in BlockPlanner.plan(profile.requiredSpans(), limits: profile.limits) {
            #expect(Int(block.span.count) <= profile.limits.maxRegistersPerRead)
            #expect(!profile.limits.unreadable.contains { $0.overlaps(block.span) })
        }
        if profile.kind != .sunspecModel {
            // Energy is read from the device's own counters: a meter has at least one.
            #expect(profile.fields.contains { $0.quantity.isCounter }, "\(profile.id) reads no energy counter")
        }
        // Units measure their quantity (validated by the loader; re-checked here as data).
        for field in profile.fields { #expect(field.deviceUnit.canonical.unit == field.quantity.unit) }
    }

    @Test func sdm630FullReadingNeedsAtMostThreeRequests() throws {
        let profile = try Fixtures.catalog().profile("eastron-sdm630")
        let blocks = BlockPlanner.plan(profile.requiredSpans(), limits: profile.limits)
        #expect(blocks.count <= 3)
        // The figure's quantities alone (energy, power, V, A, f, PF) need two: the 34 unused
        // registers between per-phase power and total power exceed the profile's gap limit.
        let core: Set<Quantity> = [.energyActiveImportTotal, .energyActiveExportTotal, .powerActiveTotal, .powerActiveL1, .powerActiveL2, .powerActiveL3,
                                   .voltageL1, .voltageL2, .voltageL3, .currentL1, .currentL2, .currentL3, .frequency, .powerFactorTotal]
        let spans = profile.fields.filter { core.contains($0.quantity) }.map { $0.location.span(count: $0.registerCount, base: 0) }
        #expect(BlockPlanner.plan(spans, limits: profile.limits).count == 2)
    }
}
