import ModbusCore

/// The YAML shape of a profile file, decoded as written; ``ProfileLoader`` validates it into a
/// ``DeviceProfile``. Optional everywhere the schema allows defaults, so that a missing key is
/// reported by validation with the field's name rather than as an opaque decoding error.
struct ProfileDocument: Decodable {
    struct Modbus: Decodable {
        var maxRegistersPerRead: Int?
        var gapLimit: Int?
        var unreadable: [Range]?
    }
    struct Range: Decodable {
        var function: String?
        var from: Int?
        var to: Int?
    }
    struct Defaults: Decodable {
        var function: String?
        var type: String?
        var wordOrder: String?
    }
    struct Register: Decodable {
        var function: String?
        var address: Int?
        var offset: Int?
        var type: String?
        var wordOrder: String?
        var length: Int?
        var oneOf: [Int64]?
    }
    struct Identification: Decodable {
        var serialNumber: Register?
        var match: [Register]?
    }
    struct ScaleFactor: Decodable {
        var name: String?
        var function: String?
        var address: Int?
        var offset: Int?
    }
    struct Point: Decodable {
        var name: String?
        var function: String?
        var offset: Int?
        var address: Int?
        var length: Int?
        var type: String?
    }
    struct SunSpec: Decodable {
        var model: Int?
        var length: Int?
    }
    struct Field: Decodable {
        var quantity: String?
        var address: Int?
        var offset: Int?
        var function: String?
        var type: String?
        var wordOrder: String?
        var unit: String?
        var scale: Scalar?
        var scaleFactor: String?
        var invert: Bool?
        var notImplemented: [Int64]?
    }

    /// A YAML scalar kept as its text, so `scale: 0.01` is parsed as an exact decimal and never
    /// passes through binary floating point.
    struct Scalar: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            text = try container.decode(String.self)
        }
    }

    var id: String?
    var manufacturer: String?
    var model: String?
    var kind: String?
    var description: String?
    var source: [DeviceProfile.Source]?
    var modbus: Modbus?
    var defaults: Defaults?
    var identification: Identification?
    var scaleFactors: [ScaleFactor]?
    var sunspec: SunSpec?
    var points: [Point]?
    var fields: [Field]?
}
