extension TraceSample {
    /// The longest meter id a trace accepts.
    public static let maximumMeterIDLength = MeterID.maximumLength

    /// Whether `id` is a valid meter id: 1…128 characters of `A-Z a-z 0-9 . _ : -`.
    public static func isValidMeterID(_ id: String) -> Bool {
        MeterID.isValid(id)
    }
}
