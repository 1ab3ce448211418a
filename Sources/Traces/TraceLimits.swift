/// Bounds on what a reader or importer accepts, so that a huge or runaway input ends in an error
/// instead of exhausting memory (docs/TRACES.md, "Limits").
public struct TraceLimits: Sendable, Hashable {
    /// The largest input, in bytes. Commands check a file's size against it before reading it.
    public var maximumBytes: Int
    /// The most data rows read, and the most samples produced.
    public var maximumRows: Int
    /// The longest line, in bytes, without its line break.
    public var maximumLineBytes: Int

    public init(maximumBytes: Int, maximumRows: Int, maximumLineBytes: Int) {
        self.maximumBytes = maximumBytes
        self.maximumRows = maximumRows
        self.maximumLineBytes = maximumLineBytes
    }

    /// The trace format and power series: 512 MiB, 10 000 000 rows, 1 024-byte lines (a valid
    /// trace line is under 400 bytes).
    public static let trace = TraceLimits(maximumBytes: 512 << 20, maximumRows: 10_000_000, maximumLineBytes: 1024)

    /// Open Power System Data files: as `trace`, but 65 536-byte lines (a file with many houses
    /// has a long header and long `interpolated_values` cells).
    public static let opsd = TraceLimits(maximumBytes: 512 << 20, maximumRows: 10_000_000, maximumLineBytes: 65_536)

    /// How many skip reasons a parse keeps (the count is always complete).
    public static let keptSkipReasons = 10
}
