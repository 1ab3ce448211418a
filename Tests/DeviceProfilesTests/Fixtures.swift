import DeviceProfiles
import Foundation

/// Paths of the repository's data, found from this file's location.
enum Fixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let profilesDirectory = repository.appendingPathComponent("firmware-profiles")
    static let vectorsDirectory = repository.appendingPathComponent("Tests/DeviceProfilesTests/Vectors")

    static func files(in directory: URL, suffix: String = ".yaml") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    static func catalog() throws -> ProfileCatalog {
        try ProfileCatalog.load(directory: profilesDirectory)
    }

    /// A minimal valid device profile with `fields` spliced in, for loader tests.
    static func profile(fields: String, extra: String = "", id: String = "test-meter") -> String {
        """
        id: \(id)
        manufacturer: Test
        model: T1
        kind: meter
        source:
          - {title: test}
        defaults: {function: input, type: float32}
        \(extra)
        fields:
        \(fields)
        """
    }
}
