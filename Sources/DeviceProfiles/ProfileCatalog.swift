public import Foundation

/// All profiles of a `firmware-profiles/` directory, by id, plus the SunSpec models by model id.
public struct ProfileCatalog: Sendable {
    public private(set) var profiles: [String: DeviceProfile] = [:]
    public private(set) var sunspecModels: [UInt16: DeviceProfile] = [:]

    public init(_ profiles: [DeviceProfile]) {
        for profile in profiles {
            self.profiles[profile.id] = profile
            if let model = profile.sunspec?.id { sunspecModels[model] = profile }
        }
    }

    /// Device profiles (meters and inverters), sorted by id.
    public var devices: [DeviceProfile] {
        profiles.values.filter { $0.kind != .sunspecModel }.sorted { $0.id < $1.id }
    }

    public func profile(_ id: String) throws(ProfileCatalogError) -> DeviceProfile {
        guard let profile = profiles[id] else {
            throw .unknownProfile(id, known: profiles.keys.sorted())
        }
        return profile
    }

    /// Loads every `*.yaml` file of `directory`. Any invalid file fails the whole load, naming
    /// each bad file: a gateway must not start with a profile silently missing.
    public static func load(directory: URL) throws(ProfileCatalogError) -> ProfileCatalog {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".yaml") }.sorted()
        } catch {
            throw .unreadableDirectory(directory.path)
        }
        guard !names.isEmpty else { throw .unreadableDirectory(directory.path) }
        var profiles: [DeviceProfile] = []
        var errors: [ProfileError] = []
        for name in names {
            let url = directory.appendingPathComponent(name)
            do {
                let text = try String(contentsOf: url, encoding: .utf8)
                profiles.append(try ProfileLoader.load(yaml: text, fileName: name))
            } catch let error as ProfileError {
                errors.append(ProfileError(file: url.path, line: error.line, field: error.field, reason: error.reason))
            } catch {
                errors.append(ProfileError(file: url.path, field: "", reason: "cannot read: \(error.localizedDescription)"))
            }
        }
        guard errors.isEmpty else { throw .invalidProfiles(errors) }
        return ProfileCatalog(profiles)
    }

    /// Where to look for profiles when none is named: `$GRIDLEDGER_PROFILES`, `./firmware-profiles`,
    /// next to the executable's package checkout, then the system-wide install location.
    public static func defaultDirectories(executablePath: String = CommandLine.arguments.first ?? "") -> [URL] {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["GRIDLEDGER_PROFILES"], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env))
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("firmware-profiles"))
        let executable = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        // .build/<config>/binary → checkout root; <prefix>/bin/binary → <prefix>/share/gridledger
        candidates.append(executable.appendingPathComponent("../../firmware-profiles").standardized)
        candidates.append(executable.appendingPathComponent("../../../firmware-profiles").standardized)
        candidates.append(executable.appendingPathComponent("../share/gridledger/firmware-profiles").standardized)
        candidates.append(URL(fileURLWithPath: "/usr/share/gridledger/firmware-profiles"))
        return candidates
    }

    /// Loads from `directory`, or from the first default directory that exists.
    public static func locate(directory: String?) throws(ProfileCatalogError) -> ProfileCatalog {
        if let directory { return try load(directory: URL(fileURLWithPath: directory)) }
        for candidate in defaultDirectories() where FileManager.default.fileExists(atPath: candidate.path) {
            return try load(directory: candidate)
        }
        throw .notFound(defaultDirectories().map(\.path))
    }
}

public enum ProfileCatalogError: Error, Sendable, CustomStringConvertible {
    case unknownProfile(String, known: [String])
    case unreadableDirectory(String)
    case notFound([String])
    case invalidProfiles([ProfileError])

    public var description: String {
        switch self {
        case .unknownProfile(let id, let known):
            "unknown profile '\(id)'; known profiles: \(known.joined(separator: ", "))"
        case .unreadableDirectory(let path):
            "cannot read profiles from \(path): no such directory, or no *.yaml files in it"
        case .notFound(let paths):
            "no firmware-profiles directory found (looked in: \(paths.joined(separator: ", "))); pass --profiles DIR"
        case .invalidProfiles(let errors):
            "invalid device profiles:\n" + errors.map { "  \($0)" }.joined(separator: "\n")
        }
    }
}
