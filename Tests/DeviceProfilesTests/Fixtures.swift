import DeviceProfiles
import Foundation
import GridLedgerTestSupport

/// The repository's profile data, and profile snippets for loader tests.
enum Fixtures {
    static let profilesDirectory = TestEnvironment.profilesDirectory
    static let vectorsDirectory = DecodeVector.directory

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
