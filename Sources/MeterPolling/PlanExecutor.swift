public import DeviceProfiles
public import ModbusCore

/// Reads a set of register spans from one device with as few requests as possible.
///
/// Starts from the ``BlockPlanner``'s merged reads. When the device refuses a merged read with
/// an exception (many meters reject reads that touch undefined registers), that block is split:
/// first into runs of adjacent registers, and a run the device still refuses into one read per
/// field. The split is remembered, so later polls do not pay for the refused reads again.
public struct PlanExecutor: Sendable {
    public private(set) var blocks: [ReadBlock]
    /// Blocks the device refused as a whole, already replaced by their per-field reads.
    public private(set) var splitBlocks = 0

    public init(spans: [RegisterSpan], limits: DeviceProfile.Limits) {
        blocks = BlockPlanner.plan(spans, limits: limits)
    }

    /// The outcome of one execution.
    public struct Outcome: Sendable {
        public var image = RegisterImage()
        /// Spans that could not be read, with the reason.
        public var failures: [(span: RegisterSpan, error: ModbusError)] = []
        /// True when the device never answered at all (timeouts / connection errors only).
        public var deviceSilent = true
        public var requests = 0
    }

    /// Reads every block. Stops early once the device has proven silent (a timeout on the first
    /// request), so a dead meter costs one timeout per poll, not one per block.
    public mutating func execute(unit: UInt8, reader: inout some RegisterReader & ~Copyable) -> Outcome {
        var outcome = Outcome()
        var index = 0
        while index < blocks.count {
            let block = blocks[index]
            outcome.requests += 1
            do {
                let words = try reader.readRegisters(unit: unit, span: block.span)
                outcome.image.insert(words, at: block.span)
                outcome.deviceSilent = false
                index += 1
            } catch {
                if case .exception = error, block.members.count > 1 {
                    outcome.deviceSilent = false
                    let replacement = BlockPlanner.fallback(for: block)
                    blocks.replaceSubrange(index...index, with: replacement)
                    splitBlocks += 1
                    continue  // read the replacement blocks now
                }
                if error.deviceAnswered { outcome.deviceSilent = false }
                outcome.failures.append((block.span, error))
                if outcome.deviceSilent, !error.deviceAnswered {
                    // Nothing answered yet: mark every remaining block as failed without waiting
                    // for a timeout on each of them.
                    for rest in blocks[(index + 1)...] { outcome.failures.append((rest.span, error)) }
                    return outcome
                }
                index += 1
            }
        }
        return outcome
    }
}
