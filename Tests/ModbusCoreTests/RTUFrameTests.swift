import ModbusCore
import Testing

/// Modbus RTU framing. Every CRC below was also computed independently with
///
///     python3 -c 'import sys
///     c=0xFFFF
///     for x in bytes.fromhex(sys.argv[1]):
///         c^=x
///         for _ in range(8): c=(c>>1)^0xA001 if c&1 else c>>1
///     print(bytes([c&255,c>>8]).hex(" "))' 010400000002        # -> 71 cb
@Suite("RTU frame")
struct RTUFrameTests {
    static let span2 = RegisterSpan(.input, address: 0, count: 2)

    /// Appends the CRC as it goes on the wire, low byte first.
    static func framed(_ body: [UInt8]) -> [UInt8] {
        let crc = RTUFrame.crc16(body)
        return body + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
    }

    /// (frame without CRC, CRC bytes as sent).
    static let crcVectors: [([UInt8], [UInt8])] = [
        // Input registers 0…1 of unit 1, the read every float32 meter starts with.
        ([0x01, 0x04, 0x00, 0x00, 0x00, 0x02], [0x71, 0xCB]),
        // Simply Modbus FC03 example (simplymodbus.ca/FC03.htm): request and its answer.
        ([0x11, 0x03, 0x00, 0x6B, 0x00, 0x03], [0x76, 0x87]),
        ([0x11, 0x03, 0x06, 0xAE, 0x41, 0x56, 0x52, 0x43, 0x40], [0x49, 0xAD]),
        // Modbus over Serial Line v1.02, appendix B: CRC of 02 07 is 0x1241, sent 41 12.
        ([0x02, 0x07], [0x41, 0x12]),
        // The CRC catalogue check value of CRC-16/MODBUS: "123456789" -> 0x4B37.
        (Array("123456789".utf8), [0x37, 0x4B]),
    ]

    @Test(arguments: crcVectors)
    func crcMatchesKnownFrames(body: [UInt8], crc: [UInt8]) {
        let value = RTUFrame.crc16(body)
        #expect([UInt8(value & 0xFF), UInt8(value >> 8)] == crc)
        // A frame with its own CRC appended has CRC 0: how receivers check it in one pass.
        #expect(RTUFrame.crc16(body + crc) == 0)
    }

    @Test func crcOfNothingIsTheInitialValue() {
        #expect(RTUFrame.crc16([]) == 0xFFFF)
    }

    @Test func encodesReadRequests() {
        #expect(RTUFrame.readRequest(unit: 1, span: Self.span2) == [0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x71, 0xCB])
        #expect(RTUFrame.readRequest(unit: 0x11, span: RegisterSpan(.holding, address: 0x6B, count: 3))
            == [0x11, 0x03, 0x00, 0x6B, 0x00, 0x03, 0x76, 0x87])
        // Address and count are big-endian on the wire.
        let high = RTUFrame.readRequest(unit: 247, span: RegisterSpan(.holding, address: 0xFC00, count: 125))
        #expect(Array(high.prefix(6)) == [247, 0x03, 0xFC, 0x00, 0x00, 125])
        #expect(high.count == 8)
        #expect(RTUFrame.crc16(high) == 0)
    }

    @Test func parsesAnswerFedAllAtOnce() {
        let answer = Self.framed([0x01, 0x04, 0x04, 0x43, 0x66, 0x80, 0x00])  // 230.5 as float32
        #expect(RTUFrame.parseReadResponse(answer, unit: 1, span: Self.span2) == .registers([0x4366, 0x8000]))
        // The Simply Modbus answer, unit 0x11, holding 0x6B…0x6D.
        let simply: [UInt8] = [0x11, 0x03, 0x06, 0xAE, 0x41, 0x56, 0x52, 0x43, 0x40, 0x49, 0xAD]
        #expect(RTUFrame.parseReadResponse(simply, unit: 0x11, span: RegisterSpan(.holding, address: 0x6B, count: 3))
            == .registers([0xAE41, 0x5652, 0x4340]))
    }

    @Test func everyPrefixNeedsMoreAndNeverOvershoots() {
        let span = RegisterSpan(.holding, address: 100, count: 5)
        let answer = Self.framed([0x07, 0x03, 10, 0, 1, 0, 2, 0, 3, 0, 4, 0xFF, 0xFF])
        for length in 0..<answer.count {
            let result = RTUFrame.parseReadResponse(Array(answer.prefix(length)), unit: 7, span: span)
            guard case .needMore(let more) = result else {
                Issue.record("prefix of \(length) bytes gave \(result)")
                continue
            }
            // At least one byte, and never more than the frame still has: a reader that reads
            // exactly `more` bytes cannot swallow the start of a later frame.
            #expect(more >= 1 && length + more <= answer.count, "prefix \(length): needMore(\(more))")
        }
        #expect(RTUFrame.parseReadResponse(answer, unit: 7, span: span) == .registers([1, 2, 3, 4, 0xFFFF]))
    }

    @Test func readerFeedingExactlyWhatIsNeededGetsTheRegisters() {
        // Simulates the client: read `more` bytes at a time (here one byte per call at most).
        let answer = Self.framed([0x01, 0x04, 0x04, 0x43, 0x66, 0x80, 0x00])
        var received: [UInt8] = []
        var calls = 0
        while case .needMore = RTUFrame.parseReadResponse(received, unit: 1, span: Self.span2), calls < 100 {
            received.append(answer[received.count])
            calls += 1
        }
        #expect(received == answer)
        #expect(RTUFrame.parseReadResponse(received, unit: 1, span: Self.span2) == .registers([0x4366, 0x8000]))
    }

    @Test func exceptionAnswers() {
        let span = RegisterSpan(.input, address: 5, count: 1)
        let answer = Self.framed([0x01, 0x84, 0x02])
        #expect(answer == [0x01, 0x84, 0x02, 0xC2, 0xC1])
        for length in 0..<answer.count {
            let result = RTUFrame.parseReadResponse(Array(answer.prefix(length)), unit: 1, span: span)
            #expect(result == .needMore(answer.count - length), "prefix \(length)")
        }
        #expect(RTUFrame.parseReadResponse(answer, unit: 1, span: span) == .failure(.exception(.illegalDataAddress, span)))
        let holding = RegisterSpan(.holding, address: 0, count: 10)
        #expect(RTUFrame.parseReadResponse(Self.framed([0x02, 0x83, 0x0B]), unit: 2, span: holding)
            == .failure(.exception(.gatewayTargetFailedToRespond, holding)))
    }

    @Test func unknownExceptionCodeIsInvalid() {
        let result = RTUFrame.parseReadResponse(Self.framed([0x01, 0x84, 0x07]), unit: 1, span: Self.span2)
        #expect(isInvalid(result, mentioning: "exception code 7"))
    }

    @Test func badCRCIsInvalid() {
        var answer = Self.framed([0x01, 0x04, 0x04, 0x43, 0x66, 0x80, 0x00])
        answer[4] ^= 0x01  // one flipped bit in the data
        #expect(isInvalid(RTUFrame.parseReadResponse(answer, unit: 1, span: Self.span2), mentioning: "CRC"))
        var exception = Self.framed([0x01, 0x84, 0x02])
        exception[4] ^= 0x80  // CRC itself damaged
        #expect(isInvalid(RTUFrame.parseReadResponse(exception, unit: 1, span: Self.span2), mentioning: "CRC"))
    }

    @Test func wrongUnitFailsOnTheFirstByte() {
        let answer = Self.framed([0x02, 0x04, 0x04, 0x43, 0x66, 0x80, 0x00])
        #expect(isInvalid(RTUFrame.parseReadResponse([0x02], unit: 1, span: Self.span2), mentioning: "unit 2"))
        #expect(isInvalid(RTUFrame.parseReadResponse(answer, unit: 1, span: Self.span2), mentioning: "unit 2"))
    }

    @Test func wrongFunctionFailsOnTheSecondByte() {
        // Holding answer to an input read, and an exception for the other function.
        #expect(isInvalid(RTUFrame.parseReadResponse([0x01, 0x03], unit: 1, span: Self.span2), mentioning: "function code 3"))
        #expect(isInvalid(RTUFrame.parseReadResponse(Self.framed([0x01, 0x83, 0x02]), unit: 1, span: Self.span2), mentioning: "function code 131"))
    }

    @Test func wrongByteCountFailsOnTheThirdByte() {
        #expect(isInvalid(RTUFrame.parseReadResponse([0x01, 0x04, 0x02], unit: 1, span: Self.span2), mentioning: "byte count 2"))
        let short = Self.framed([0x01, 0x04, 0x02, 0x43, 0x66])
        #expect(isInvalid(RTUFrame.parseReadResponse(short, unit: 1, span: Self.span2), mentioning: "byte count 2"))
    }

    @Test func bytesAfterTheFrameAreInvalid() {
        let answer = Self.framed([0x01, 0x04, 0x04, 0x43, 0x66, 0x80, 0x00]) + [0x00]
        #expect(isInvalid(RTUFrame.parseReadResponse(answer, unit: 1, span: Self.span2), mentioning: "after the end"))
    }

    @Test func largestAnswerFitsTheFrameLimit() {
        let span = RegisterSpan(.holding, address: 0, count: UInt16(modbusMaxRegistersPerRead))
        let answer = Self.framed([0x01, 0x03, 250] + [UInt8](repeating: 0xAB, count: 250))
        #expect(answer.count == 255 && answer.count <= RTUFrame.maxFrameLength)
        #expect(RTUFrame.parseReadResponse(answer, unit: 1, span: span) == .registers([UInt16](repeating: 0xABAB, count: 125)))
    }

    private func isInvalid(_ result: RTUFrame.ParseResult, mentioning text: String) -> Bool {
        guard case .failure(.invalidResponse(let detail)) = result else { return false }
        return detail.contains(text)
    }
}
