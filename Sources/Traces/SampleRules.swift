/// The ordering rules of a trace, shared by the reader and the writer: time never goes back,
/// per meter time strictly increases and registers never decrease.
struct SampleRules {
    struct MeterState {
        var millis: Int64
        var importWh: Int64
        var exportWh: Int64
        var place: Int
    }

    /// `line` for the reader, `sample` for the writer: how `place` numbers are named in reasons.
    let placeNoun: String
    private(set) var previousMillis: Int64?
    private var previousPlace = 0
    private var states: [String: MeterState] = [:]
    /// Meter ids in the order of their first accepted sample (the same String instances the
    /// accepted samples carry).
    private(set) var meters: [String] = []

    init(placeNoun: String) { self.placeNoun = placeNoun }

    /// Why `sample` cannot follow what was accepted, and the field to blame; nil when it can.
    func refusal(for sample: TraceSample) -> (field: String, reason: String)? {
        if let previousMillis, sample.millis < previousMillis {
            return ("timestamp", "\(TraceTime.text(millis: sample.millis)) is earlier than \(TraceTime.text(millis: previousMillis)) on \(placeNoun) \(previousPlace): rows must be sorted by time")
        }
        guard let state = states[sample.meterID] else { return nil }
        if sample.millis <= state.millis {
            return ("timestamp", "meter '\(sample.meterID)' already has a sample at \(TraceTime.text(millis: state.millis)) (\(placeNoun) \(state.place)): its times must strictly increase")
        }
        if sample.importWh < state.importWh {
            return ("import_wh", "\(sample.importWh) Wh is less than \(state.importWh) Wh on \(placeNoun) \(state.place) for meter '\(sample.meterID)': registers never decrease")
        }
        if sample.exportWh < state.exportWh {
            return ("export_wh", "\(sample.exportWh) Wh is less than \(state.exportWh) Wh on \(placeNoun) \(state.place) for meter '\(sample.meterID)': registers never decrease")
        }
        return nil
    }

    /// Records `sample`, replacing its meter id by the first instance of that id (so that the
    /// samples of one meter share one string).
    mutating func accept(_ sample: inout TraceSample, place: Int) {
        previousMillis = sample.millis
        previousPlace = place
        let state = MeterState(millis: sample.millis, importWh: sample.importWh, exportWh: sample.exportWh, place: place)
        if let index = states.index(forKey: sample.meterID) {
            sample.meterID = states.keys[index]
            states.values[index] = state
        } else {
            states[sample.meterID] = state
            meters.append(sample.meterID)
        }
    }
}
