import DeviceProfiles
import Foundation
import GridLedgerCore
import ModbusCore
import Testing
import Yams

/// Hand-computed vectors (Tests/DeviceProfilesTests/Vectors): register words a person decoded
/// with the datasheet in hand. A word-order, scale or sign mistake fails here.
@Suite("Decode vectors")
struct DecodeVectorTests {
    struct Vector: Decodable {
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

    static let vectorFiles = Fixtures.files(in: Fixtures.vectorsDirectory)

    @Test func everyProfileHasAVector() throws {
        let catalog = try Fixtures.catalog()
        let vectors = Set(Self.vectorFiles.map { String($0.dropLast(".yaml".count)) })
        #expect(Set(catalog.profiles.keys).isSubset(of: vectors))
    }

    @Test(arguments: vectorFiles)
    func decodesAsComputedByHand(file: String) throws {
        let text = try String(contentsOf: Fixtures.vectorsDirectory.appendingPathComponent(file), encoding: .utf8)
        let vector = try YAMLDecoder().decode(Vector.self, from: text)
        let profile = try Fixtures.catalog().profile(vector.profile)
        var image = RegisterImage()
        for (functionName, entries) in vector.registers ?? [:] {
            let function = try #require(RegisterFunction(rawValue: functionName), "unknown function \(functionName)")
            for entry in entries {
                let words = entry.words.map { UInt16($0) }
                image.insert(words, at: RegisterSpan(function, address: UInt16(entry.address), count: UInt16(words.count)))
            }
        }
        let decoded = ProfileDecoder.decode(profile, image: image, base: 0)
        let values = Dictionary(uniqueKeysWithValues: decoded.measurements.map { ($0.quantity, $0.value) })
        let expected = vector.expect ?? [:]
        if profile.kind != .sunspecModel || !profile.fields.isEmpty {
            #expect(expected.count >= 3, "\(file): a vector should check several fields")
        }
        for (id, text) in expected {
            let quantity = try #require(Quantity(rawValue: id), "\(file): unknown quantity \(id)")
            let want = try #require(ScaledValue(decimalString: text.text), "\(file): '\(text.text)' is not a decimal")
            #expect(values[quantity] == want, "\(file): \(id) decoded as \(values[quantity]?.description ?? "nothing"), expected \(want)")
        }
        for id in vector.absent ?? [] {
            let quantity = try #require(Quantity(rawValue: id))
            #expect(decoded.notImplemented.contains(quantity), "\(file): \(id) should be not implemented")
        }
    }
}
