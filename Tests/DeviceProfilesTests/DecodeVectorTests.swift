import DeviceProfiles
import GridLedgerCore
import GridLedgerTestSupport
import Testing

/// Hand-computed vectors (Tests/DeviceProfilesTests/Vectors): register words a person decoded
/// with the datasheet in hand. A word-order, scale or sign mistake fails here.
@Suite("Decode vectors")
struct DecodeVectorTests {
    static let vectorFiles = DecodeVector.files()

    @Test func everyProfileHasAVector() throws {
        let catalog = try Fixtures.catalog()
        let vectors = Set(Self.vectorFiles.map { String($0.dropLast(".yaml".count)) })
        #expect(Set(catalog.profiles.keys).isSubset(of: vectors))
    }

    @Test(arguments: vectorFiles)
    func decodesAsComputedByHand(file: String) throws {
        let vector = try DecodeVector.load(file)
        let profile = try Fixtures.catalog().profile(vector.profile)
        let decoded = ProfileDecoder.decode(profile, image: vector.image, base: 0)
        let values = Dictionary(uniqueKeysWithValues: decoded.measurements.map { ($0.quantity, $0.value) })
        if !profile.fields.isEmpty {
            #expect(vector.expected.count >= 3, "\(file): a vector should check several fields")
        }
        for (quantity, want) in vector.expected {
            #expect(values[quantity] == want, "\(file): \(quantity.rawValue) decoded as \(values[quantity]?.description ?? "nothing"), expected \(want)")
        }
        for quantity in vector.absent {
            #expect(decoded.notImplemented.contains(quantity), "\(file): \(quantity.rawValue) should be not implemented")
        }
    }
}
