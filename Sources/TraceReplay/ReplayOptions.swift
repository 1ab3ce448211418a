/// How a replay runs.
public struct ReplayOptions: Sendable {
    public enum Pace: Sendable, Hashable {
        /// The next step begins as soon as the pipeline has finished the current one.
        case asFastAsPossible
        /// Trace time runs this many times faster than real time (never ahead of the pipeline:
        /// a step begins when both its real time has come and the previous step is done).
        case speed(Int64)
    }

    /// The device profile every simulated meter speaks (its registers, encoding and identity).
    public var profileID: String
    /// Directory of device profiles; `nil` looks in the usual places.
    public var profilesDirectory: String?
    public var pace: Pace
    /// The billing contract (YAML) deployed before the first reading.
    public var contractDocument: [UInt8]
    /// Where the broker, the aggregator's ledger and every gateway's state live; created if
    /// missing, must be empty.
    public var workDirectory: String
    /// The mosquitto executable; `nil` finds it on `PATH`.
    public var mosquitto: String?
    /// A step that makes no progress for this long ends the replay with an error naming what
    /// is stuck.
    public var stallTimeout: Duration
    /// The aggregator's block interval (real time). Short, because a step waits for its records
    /// to be committed and confirmed.
    public var blockIntervalMillis: Int64

    public init(
        profileID: String = "eastron-sdm630", profilesDirectory: String? = nil, pace: Pace = .asFastAsPossible, contractDocument: [UInt8],
        workDirectory: String, mosquitto: String? = nil, stallTimeout: Duration = .seconds(60), blockIntervalMillis: Int64 = 20
    ) {
        self.profileID = profileID
        self.profilesDirectory = profilesDirectory
        self.pace = pace
        self.contractDocument = contractDocument
        self.workDirectory = workDirectory
        self.mosquitto = mosquitto
        self.stallTimeout = stallTimeout
        self.blockIntervalMillis = blockIntervalMillis
    }
}

/// Where a replay is, for the progress line.
public struct ReplayProgress: Sendable, Hashable {
    /// The trace time reached (the current step's instant).
    public var simulatedMillis: Int64
    /// Steps completed, of `steps`.
    public var step: Int
    public var steps: Int
    public var recordsCommitted: Int
    public var blocks: Int
    public var refused: Int
    public var wallSeconds: Double

    public var recordsPerSecond: Double { wallSeconds > 0 ? Double(recordsCommitted) / wallSeconds : 0 }
}

/// What a finished replay leaves behind.
public struct ReplayOutcome: Sendable {
    /// The aggregator's SQLite ledger (in the work directory).
    public var databaseFile: String
    public var aggregatorPublicKey: [UInt8]
    public var progress: ReplayProgress
    /// Refusals by reason code (none in a sound replay).
    public var refusals: [String: Int]
    /// Trace meter id → the meter id its gateway signs with.
    public var meterIDs: [String: String]
    /// Polls over all meters, and those that failed.
    public var polls: Int
    public var failedPolls: Int
    /// Real time spent waiting for the pace (speed mode): the rest was the pipeline's.
    public var pacingSeconds: Double
    /// Where the pipeline's time went, phase by phase (summed over the steps).
    public var stepTimes: StepTimes
    /// Time the parts spent at their work, summed over every agent and worker (so it may exceed
    /// the real time).
    public var work: WorkTimes
}

/// Seconds each part of the pipeline spent working during a replay.
public struct WorkTimes: Sendable, Hashable {
    /// Agents: bus cycles (Modbus requests and decoding), signing batches (Ed25519, Merkle root),
    /// storing them in the outbox (SQLite).
    public var modbusSeconds = 0.0
    public var signingSeconds = 0.0
    public var outboxSeconds = 0.0
    /// Aggregator: authenticating readings, running the contracts, committing blocks (SQLite).
    public var authenticationSeconds = 0.0
    public var settlementSeconds = 0.0
    public var commitSeconds = 0.0
}
