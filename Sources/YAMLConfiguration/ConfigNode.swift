import Foundation
package import Yams

/// One node of a YAML configuration file with its path and line, so that every error names
/// `file:line: field`. Typed accessors refuse anything that is not exactly what is asked for.
package struct ConfigNode {
    package let node: Node
    package let file: String
    package let path: String

    package init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    package var line: Int? { node.mark.map { $0.line } }

    package func error(_ reason: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, field: path, reason: reason)
    }

    /// The node as a mapping whose keys must all be in `allowed`: a misspelt key is an error,
    /// never a silent default.
    package func mapping(allowing allowed: [String]) throws(ConfigurationError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping (key: value), found \(node.noun)") }
        var entries: [String: ConfigNode] = [:]
        for (key, value) in mapping {
            let name = key.string ?? "?"
            let childPath = path.isEmpty ? name : "\(path).\(name)"
            guard allowed.contains(name) else {
                throw ConfigurationError(
                    file: file, line: key.mark.map { $0.line }, field: childPath,
                    reason: "unknown key '\(name)' (known here: \(allowed.sorted().joined(separator: ", ")))")
            }
            entries[name] = ConfigNode(node: value, file: file, path: childPath)
        }
        return ConfigMapping(entries: entries, owner: self)
    }

    package func sequence() throws(ConfigurationError) -> [ConfigNode] {
        guard case .sequence(let items) = node else { throw error("expected a list, found \(node.noun)") }
        return items.enumerated().map { ConfigNode(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    package func string() throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a single value, found \(node.noun)") }
        return scalar.string
    }

    package func int(in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let text = try string()
        guard let value = Int(text) else { throw error("'\(text)' is not a whole number") }
        guard range.contains(value) else { throw error("\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    package func bool() throws(ConfigurationError) -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw error("'\(other)' is not true or false")
        }
    }

    /// A duration in whole milliseconds, written in seconds (`1`, `0.5`, `2.25`).
    package func milliseconds(inSeconds range: ClosedRange<Double>) throws(ConfigurationError) -> Int64 {
        let text = try string()
        guard let seconds = Double(text), seconds.isFinite else { throw error("'\(text)' is not a number of seconds") }
        guard range.contains(seconds) else { throw error("\(text) s is outside \(range.lowerBound)…\(range.upperBound) s") }
        return Int64((seconds * 1000).rounded())
    }

    /// An identifier of `[A-Za-z0-9._-]`, 1…`maximum` characters: safe as an MQTT topic level
    /// and inside meter ids, whose parts are separated by `:`.
    /// An absolute file path.
    package func absolutePath() throws(ConfigurationError) -> String {
        let path = try string()
        guard path.hasPrefix("/") else { throw error("'\(path)' must be an absolute path") }
        return path
    }

    package func identifier(maximum: Int) throws(ConfigurationError) -> String {
        let text = try string()
        guard (1...maximum).contains(text.utf8.count), text.utf8.allSatisfy(isIdentifierPartByte) else {
            throw error("'\(text)' must be 1…\(maximum) characters of A–Z, a–z, 0–9, '.', '_' or '-'")
        }
        return text
    }
}

/// A mapping's entries, looked up by key with `required` or `optional`.
package struct ConfigMapping {
    package let entries: [String: ConfigNode]
    package let owner: ConfigNode

    package func required(_ key: String) throws(ConfigurationError) -> ConfigNode {
        guard let node = entries[key] else { throw owner.error("missing key '\(key)'") }
        return node
    }

    package func optional(_ key: String) -> ConfigNode? { entries[key] }
}

package func isIdentifierPartByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
        true
    default:
        false
    }
}

/// Reading a YAML configuration file: bounded size, UTF-8, composed into nodes whose errors name
/// the file and line.
package enum ConfigurationFile {
    package static let maximumSize = 1024 * 1024

    package static func read(path: String) throws(ConfigurationError) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int else {
            throw ConfigurationError(file: path, field: "", reason: "cannot read the file (missing or not accessible)")
        }
        guard size <= maximumSize else { throw ConfigurationError(file: path, field: "", reason: "larger than \(maximumSize) bytes") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, field: "", reason: "cannot read the file as UTF-8 text")
        }
        return text
    }

    /// The document's root node; `file` names it in errors.
    package static func root(yaml: String, file: String) throws(ConfigurationError) -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw ConfigurationError(file: file, field: "", reason: "the file is empty") }
            return ConfigNode(node: node, file: file, path: "")
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: error.line, field: "", reason: "invalid YAML: \(error)")
        } catch {
            throw ConfigurationError(file: file, field: "", reason: "invalid YAML: \(error)")
        }
    }
}
