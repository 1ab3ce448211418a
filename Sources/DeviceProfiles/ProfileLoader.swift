import GridLedgerCore
import ModbusCore
import Yams
import YAMLConfiguration

/// Parses and validates profile YAML into ``DeviceProfile``s.
///
/// ```swift
/// let profile = try ProfileLoader.load(yaml: text, fileName: "eastron-sdm630.yaml")
/// ```
public enum ProfileLoader {
    /// Largest profile file accepted; real ones are a few kilobytes.
    public static let maximumSize = 256 * 1024

    /// Parses one profile. `fileName`, when given, must be `<id>.yaml` and is named in errors.
    public static func load(yaml: String, fileName: String? = nil) throws(ProfileError) -> DeviceProfile {
        guard yaml.utf8.count <= maximumSize else {
            throw ProfileError(file: fileName, field: "", reason: "file is larger than \(maximumSize) bytes")
        }
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw ProfileError(file: fileName, field: "", reason: "the file is empty")
            }
            node = composed
        } catch let error as ProfileError {
            throw error
        } catch let error as YamlError {
            throw ProfileError(file: fileName, line: error.line, field: "", reason: "invalid YAML: \(error.summary)")
        } catch {
            throw ProfileError(file: fileName, field: "", reason: "invalid YAML: \(error)")
        }
        try ProfileSchema.checkKeys(node, shape: ProfileSchema.profile, path: "", file: fileName)
        let document: ProfileDocument
        do {
            document = try YAMLDecoder().decode(ProfileDocument.self, from: node)
        } catch let error as DecodingError {
            throw ProfileError(file: fileName, field: error.codingPathText, reason: error.reasonText)
        } catch {
            throw ProfileError(file: fileName, field: "", reason: "\(error)")
        }
        var validator = ProfileValidator(file: fileName, fieldLines: ProfileSchema.fieldLines(node))
        let profile = try validator.validate(document)
        if let fileName {
            let base = fileName.split(separator: "/").last.map(String.init) ?? fileName
            if base != "\(profile.id).yaml" {
                throw ProfileError(file: fileName, field: "id", reason: "id '\(profile.id)' must match the file name (\(profile.id).yaml)")
            }
        }
        return profile
    }
}

extension YamlError {
    var summary: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(self)"
        }
    }
}

extension DecodingError {
    var codingPathText: String {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            path = context.codingPath
        @unknown default:
            path = []
        }
        return path.reduce("") { text, key in
            if let index = key.intValue { return "\(text)[\(index)]" }
            return text.isEmpty ? key.stringValue : "\(text).\(key.stringValue)"
        }
    }

    var reasonText: String {
        switch self {
        case .typeMismatch(let type, _): "expected a value of type \(type)"
        case .valueNotFound(let type, _): "missing value of type \(type)"
        case .keyNotFound(let key, _): "missing key '\(key.stringValue)'"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "\(self)"
        }
    }
}
