import Yams
import YAMLConfiguration

/// The keys each part of a profile may have. Decodable ignores unknown keys, so without this a
/// typo such as `wordorder:` would silently fall back to the default word order: exactly the
/// kind of bug users of meter software spend days on.
enum ProfileSchema {
    indirect enum Shape: Sendable {
        case mapping([String: Shape])
        case sequence(Shape)
        case scalar
        /// Any value (for lists of numbers and free text).
        case any
    }

    static let register: Shape = .mapping([
        "function": .scalar, "address": .scalar, "offset": .scalar, "type": .scalar,
        "wordOrder": .scalar, "length": .scalar, "oneOf": .any,
    ])

    static let profile: Shape = .mapping([
        "id": .scalar, "manufacturer": .scalar, "model": .scalar, "kind": .scalar, "description": .scalar,
        "source": .sequence(.mapping(["title": .scalar, "url": .scalar, "note": .scalar])),
        "modbus": .mapping([
            "maxRegistersPerRead": .scalar, "gapLimit": .scalar,
            "unreadable": .sequence(.mapping(["function": .scalar, "from": .scalar, "to": .scalar])),
        ]),
        "defaults": .mapping(["function": .scalar, "type": .scalar, "wordOrder": .scalar]),
        "identification": .mapping(["serialNumber": register, "match": .sequence(register)]),
        "scaleFactors": .sequence(.mapping(["name": .scalar, "function": .scalar, "address": .scalar, "offset": .scalar])),
        "sunspec": .mapping(["model": .scalar, "length": .scalar]),
        "points": .sequence(.mapping([
            "name": .scalar, "function": .scalar, "offset": .scalar, "address": .scalar, "length": .scalar,
            "type": .scalar,
        ])),
        "fields": .sequence(.mapping([
            "quantity": .scalar, "address": .scalar, "offset": .scalar, "function": .scalar, "type": .scalar,
            "wordOrder": .scalar, "unit": .scalar, "scale": .scalar, "scaleFactor": .scalar, "invert": .scalar,
            "notImplemented": .any,
        ])),
    ])

    /// Reports the first key that the schema does not know, with its line.
    static func checkKeys(_ node: Node, shape: Shape, path: String, file: String?) throws(ProfileError) {
        switch (shape, node) {
        case (.any, _), (.scalar, .scalar):
            return
        case (.mapping(let keys), .mapping(let mapping)):
            for (key, value) in mapping {
                let name = key.string ?? "?"
                let here = path.isEmpty ? name : "\(path).\(name)"
                guard let inner = keys[name] else {
                    let known = keys.keys.sorted().joined(separator: ", ")
                    throw ProfileError(
                        file: file, line: key.mark.map { $0.line }, field: here,
                        reason: "unknown key '\(name)' (known here: \(known))")
                }
                try checkKeys(value, shape: inner, path: here, file: file)
            }
        case (.sequence(let element), .sequence(let sequence)):
            for (index, item) in sequence.enumerated() {
                try checkKeys(item, shape: element, path: "\(path)[\(index)]", file: file)
            }
        default:
            throw ProfileError(
                file: file, line: node.mark.map { $0.line }, field: path,
                reason: "expected \(shape.noun), found \(node.noun)")
        }
    }

    /// Line of each item of the top-level `fields` list, for error messages.
    static func fieldLines(_ node: Node) -> [Int] {
        guard case .mapping(let mapping) = node, let fields = mapping["fields"], case .sequence(let items) = fields
        else { return [] }
        return items.map { $0.mark?.line ?? 0 }
    }
}

extension ProfileSchema.Shape {
    var noun: String {
        switch self {
        case .mapping: "a mapping (key: value)"
        case .sequence: "a list"
        case .scalar: "a single value"
        case .any: "a value"
        }
    }
}


