extension Duration {
    /// Whole microseconds, for time counters in metrics.
    public var wholeMicroseconds: Int { Int(components.seconds) * 1_000_000 + Int(components.attoseconds / 1_000_000_000_000) }

    /// Seconds as a `Double`, for reports.
    public var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
