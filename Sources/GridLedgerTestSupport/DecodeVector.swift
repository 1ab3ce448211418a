public import DeviceProfiles
public import Foundation
public import GridLedgerCore
public import ModbusCore
import Yams

/// A hand-computed decode vector (`Tests/DeviceProfilesTests/Vectors/<profile>.yaml`).
public struct DecodeVector: Sendable {
    public var profile: String
    /// Register words by table, as (address, words).
    public var registers: [(function: RegisterFunction, address: UInt16, words: [UInt16])]
    public var expected: [Quantity: ScaledValue]
    public var absent: [Quantity]

    public static var directory: URL { TestEnvironment.repositoryRoot.appendingPathComponent("Tests/DeviceProfilesTests/Vectors") }

    public static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    public static func load(_ file: String) throws -> DecodeVector {
        let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        let raw = try YAMLDecoder().decode(Raw.self, from: text)
        var registers: [(RegisterFunction, UInt16, [UInt16])] = []
        for (name, entries) in raw.registers ?? [:] {
            guard let function = RegisterFunction(rawValue: name) else { throw TestSupportError("\(file): unknown function \(name)") }
            for entry in entries {
                guard (0...0xFFFF).contains(entry.address), entry.words.allSatisfy({ (0...0xFFFF).contains($0) }) else {
                    throw TestSupportError("\(file): register \(entry.address) out of range")
                }
                registers.append((function, UInt16(entry.address), entry.words.map { UInt16($0) }))
            }
        }
        var expected: [Quantity: ScaledValue] = [:]
        for (id, text) in raw.expect ?? [:] {
            guard let quantity = Quantity(rawValue: id) else { throw TestSupportError("\(file): unknown quantity \(id)") }
            guard let value = ScaledValue(decimalString: text.text) else { throw TestSupportError("\(file): '\(text.text)' is not a decimal") }
            expected[quantity] = value
        }
        let absent = try (raw.absent ?? []).map { id in
            guard let quantity = Quantity(rawValue: id) else { throw TestSupportError("\(file): unknown quantity \(id)") }
            return quantity
        }
        return DecodeVector(profile: raw.profile, registers: registers, expected: expected, absent: absent)
    }

    /// The vector's words as a register image (base 0).
    public var image: RegisterImage {
        var image = RegisterImage()
        for entry in registers {
            image.insert(entry.words, at: RegisterSpan(entry.function, address: entry.address, count: UInt16(entry.words.count)))
        }
        return image
    }

    struct Raw: Decodable {
        struct Entry: Decodable {
            var address: Int
            var words: [Int]
        }
        struct Text: Decodable {
            var text: String
            init(from decoder: any Decoder) throws { text = try decoder.singleValueContainer().decode(String.self) }
        }
        var profile: String
        var registers: [String: [Entry]]?
        var expect: [String: Text]?
        var absent: [String]?
    }
}
