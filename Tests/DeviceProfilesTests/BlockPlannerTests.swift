import DeviceProfiles
import ModbusCore
import Testing

@Suite("Block planner")
struct BlockPlannerTests {
    func limits(max: Int = 125, gap: Int = 10, unreadable: [RegisterSpan] = []) -> DeviceProfile.Limits {
        .init(maxRegistersPerRead: max, gapLimit: gap, unreadable: unreadable)
    }

    func span(_ address: UInt16, _ count: UInt16, _ function: RegisterFunction = .input) -> RegisterSpan {
        RegisterSpan(function, address: address, count: count)
    }

    @Test func mergesNeighboursWithinTheGapLimit() {
        let blocks = BlockPlanner.plan([span(0, 2), span(4, 2), span(20, 2)], limits: limits(gap: 2))
        #expect(blocks.map(\.span) == [span(0, 6), span(20, 2)])
        #expect(blocks[0].members == [span(0, 2), span(4, 2)])
    }

    @Test func neverExceedsTheReadLimit() {
        let spans = stride(from: 0, to: 300, by: 2).map { span(UInt16($0), 2) }
        let blocks = BlockPlanner.plan(spans, limits: limits(max: 80))
        #expect(blocks.allSatisfy { $0.span.count <= 80 })
        #expect(blocks.count == 4)  // 300 registers / 80
        #expect(blocks.flatMap(\.members).count == spans.count)
    }

    @Test func neverSpansAnUnreadableRange() {
        let blocks = BlockPlanner.plan([span(0, 2), span(6, 2)], limits: limits(gap: 10, unreadable: [span(3, 1)]))
        #expect(blocks.count == 2)
    }

    @Test func keepsTablesApartAndMergesOverlaps() {
        let blocks = BlockPlanner.plan([span(0, 2, .holding), span(0, 2, .input), span(1, 2, .input)], limits: limits())
        #expect(blocks.count == 2)
        #expect(blocks.first { $0.span.function == .input }?.span == span(0, 3))
    }

    @Test func fallbackSplitsIntoContiguousRunsThenFields() {
        let block = BlockPlanner.plan([span(0, 2), span(2, 2), span(6, 2)], limits: limits())[0]
        #expect(block.span == span(0, 8))
        let runs = BlockPlanner.fallback(for: block)
        #expect(runs.map(\.span) == [span(0, 4), span(6, 2)])
        #expect(BlockPlanner.fallback(for: runs[0]).map(\.span) == [span(0, 2), span(2, 2)])
    }
}
