public import ModbusCore

/// The register words one poll returned, as blocks of contiguous registers.
public struct RegisterImage: Sendable, Hashable {
    public private(set) var blocks: [(span: RegisterSpan, words: [UInt16])] = []

    public init() {}

    /// Adds the words of one successful read. `words.count` must equal `span.count`.
    public mutating func insert(_ words: [UInt16], at span: RegisterSpan) {
        precondition(words.count == Int(span.count), "a read returned \(words.count) words for \(span)")
        blocks.append((span, words))
    }

    /// The words of `span`, if one block read them all.
    public func words(_ span: RegisterSpan) -> ArraySlice<UInt16>? {
        for block in blocks.reversed() where block.span.contains(span) {
            let start = Int(span.address) - Int(block.span.address)
            return block.words[start..<start + Int(span.count)]
        }
        return nil
    }

    public static func == (lhs: RegisterImage, rhs: RegisterImage) -> Bool {
        lhs.blocks.elementsEqual(rhs.blocks) { $0.span == $1.span && $0.words == $1.words }
    }

    public func hash(into hasher: inout Hasher) {
        for block in blocks {
            hasher.combine(block.span)
            hasher.combine(block.words)
        }
    }
}
