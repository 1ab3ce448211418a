import ModbusCore
import Testing

@Suite("Register codec")
struct RegisterCodecTests {
    /// (type, word order, words as sent, expected raw value): the table evcc and every meter
    /// integration get wrong at least once.
    static let integerCases: [(RegisterType, WordOrder, [UInt16], Int64)] = [
        (.int16, .highFirst, [0xFFFE], -2),
        (.uint16, .highFirst, [0xFFFE], 65534),
        (.int32, .highFirst, [0xFFFF, 0xFFFE], -2),
        (.int32, .lowFirst, [0xFFFE, 0xFFFF], -2),
        (.uint32, .highFirst, [0x0001, 0x0002], 65538),
        (.uint32, .lowFirst, [0x0002, 0x0001], 65538),
        (.acc32, .highFirst, [0x00BC, 0x614E], 12_345_678),
        (.int64, .highFirst, [0xFFFF, 0xFFFF, 0xFFFF, 0xFF85], -123),
        (.uint64, .highFirst, [0x0000, 0x0000, 0x0012, 0xD687], 1_234_567),
        (.uint64, .lowFirst, [0xD687, 0x0012, 0x0000, 0x0000], 1_234_567),
        (.sunssf, .highFirst, [0xFFFE], -2),
    ]

    @Test(arguments: integerCases)
    func decodesIntegers(type: RegisterType, order: WordOrder, words: [UInt16], expected: Int64) {
        #expect(RegisterCodec.decode(words[...], as: type, order: order) == .integer(expected))
        #expect(RegisterCodec.encode(integer: expected, as: type, order: order) == words)
    }

    @Test func decodesFloat32InBothWordOrders() {
        // 230.5 = 0x43668000
        #expect(RegisterCodec.decode([0x4366, 0x8000][...], as: .float32, order: .highFirst) == .float(230.5))
        #expect(RegisterCodec.decode([0x8000, 0x4366][...], as: .float32, order: .lowFirst) == .float(230.5))
        #expect(RegisterCodec.encode(float: -2000, order: .highFirst) == [0xC4FA, 0x0000])
        #expect(RegisterCodec.encode(float: -2000, order: .lowFirst) == [0x0000, 0xC4FA])
    }

    @Test func uint64AboveInt64IsReportedAsUnsigned() {
        #expect(RegisterCodec.decode([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF][...], as: .uint64, order: .highFirst) == .unsignedInteger(.max))
    }

    @Test func stringsPackTwoCharactersPerRegister() {
        let words = RegisterCodec.encodeString("Fronius", count: 8)
        #expect(words.count == 8)
        #expect(words[0] == 0x4672)  // "Fr"
        #expect(RegisterCodec.decodeString(words[...]) == "Fronius")
        #expect(RegisterCodec.decodeString([0x2041, 0x4200, 0x4343][...]) == "AB")  // trims, stops at NUL
    }

    @Test func spans() {
        let a = RegisterSpan(.input, address: 10, count: 4)
        #expect(a.overlaps(RegisterSpan(.input, address: 13, count: 1)))
        #expect(!a.overlaps(RegisterSpan(.input, address: 14, count: 1)))
        #expect(!a.overlaps(RegisterSpan(.holding, address: 10, count: 4)))
        #expect(a.contains(RegisterSpan(.input, address: 11, count: 3)))
        #expect(!a.contains(RegisterSpan(.input, address: 11, count: 4)))
        #expect(RegisterSpan(.input, address: 0xFFFF, count: 1).end == 0x10000)
    }
}
