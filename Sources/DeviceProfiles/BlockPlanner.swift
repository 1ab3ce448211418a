public import ModbusCore

/// One Modbus read and the register spans (fields, scale factors) it serves.
public struct ReadBlock: Sendable, Hashable {
    public var span: RegisterSpan
    /// The spans this read covers, sorted by address and merged where they overlap.
    public var members: [RegisterSpan]
}

/// Groups register spans into as few reads as possible.
///
/// Two spans share a read when they are in the same table, the unused registers between them
/// number at most `gapLimit`, the read stays within `maxRegistersPerRead`, and it does not touch
/// a range the device rejects. A span that overlaps a neighbour always joins it.
///
/// ```swift
/// let blocks = BlockPlanner.plan(profile.requiredSpans(), limits: profile.limits)
/// ```
public enum BlockPlanner {
    public static func plan(_ spans: [RegisterSpan], limits: DeviceProfile.Limits) -> [ReadBlock] {
        var blocks: [ReadBlock] = []
        for function in RegisterFunction.allCases {
            let sorted = merged(spans.filter { $0.function == function })
            var current: ReadBlock?
            for span in sorted {
                if var block = current, canExtend(block.span, with: span, limits: limits) {
                    block.span = RegisterSpan(function, address: block.span.address, count: UInt16(max(block.span.end, span.end) - Int(block.span.address)))
                    block.members.append(span)
                    current = block
                } else {
                    if let block = current { blocks.append(block) }
                    current = ReadBlock(span: span, members: [span])
                }
            }
            if let block = current { blocks.append(block) }
        }
        return blocks
    }

    /// The reads to make when a device refused `block` as a whole. A block that bridges gaps is
    /// split into runs of adjacent registers (which touch no undefined address); a block that
    /// is already one run is split into one read per member span.
    public static func fallback(for block: ReadBlock) -> [ReadBlock] {
        var runs: [ReadBlock] = []
        for member in block.members {
            if var last = runs.last, last.span.end == Int(member.address) {
                last.span = RegisterSpan(member.function, address: last.span.address, count: last.span.count + member.count)
                last.members.append(member)
                runs[runs.count - 1] = last
            } else {
                runs.append(ReadBlock(span: member, members: [member]))
            }
        }
        if runs.count > 1 { return runs }
        return block.members.map { ReadBlock(span: $0, members: [$0]) }
    }

    /// Sorts spans and merges overlapping ones, so each register is read once.
    static func merged(_ spans: [RegisterSpan]) -> [RegisterSpan] {
        var result: [RegisterSpan] = []
        for span in spans.sorted(by: { ($0.address, $0.count) < ($1.address, $1.count) }) {
            if let last = result.last, Int(span.address) < last.end {
                let end = max(last.end, span.end)
                result[result.count - 1] = RegisterSpan(span.function, address: last.address, count: UInt16(end - Int(last.address)))
            } else {
                result.append(span)
            }
        }
        return result
    }

    private static func canExtend(_ block: RegisterSpan, with span: RegisterSpan, limits: DeviceProfile.Limits) -> Bool {
        let gap = Int(span.address) - block.end
        let newEnd = max(block.end, span.end)
        guard gap <= limits.gapLimit, newEnd - Int(block.address) <= limits.maxRegistersPerRead else { return false }
        let candidate = RegisterSpan(block.function, address: block.address, count: UInt16(newEnd - Int(block.address)))
        return !limits.unreadable.contains { $0.overlaps(candidate) }
    }
}
