public import DeviceProfiles
public import GridLedgerCore
public import ModbusCore

/// What a configured meter is read with.
public enum MeterProfileChoice: Sendable {
    /// A fixed device profile.
    case profile(DeviceProfile)
    /// Discover the SunSpec model chain on first contact and read every model the catalog knows.
    case sunspec(ProfileCatalog)
}

/// One meter on a bus and everything remembered between its polls: the read plan (with blocks
/// the device refused already split), the SunSpec map, and its backoff.
public struct MeterSession: Sendable {
    public let name: String
    public let unit: UInt8
    public let choice: MeterProfileChoice
    public var pollIntervalMillis: Int64
    public private(set) var backoff: Backoff
    public private(set) var nextPollMillis: Int64 = .min
    /// Counters for metrics.
    public private(set) var stats = Stats()

    public struct Stats: Sendable, Hashable {
        public var polls = 0
        public var complete = 0
        public var partial = 0
        public var failed = 0
        public var requests = 0
        public var errors = 0
    }

    struct Part: Sendable {
        var profile: DeviceProfile
        var base: UInt16
        var executor: PlanExecutor
    }

    private var parts: [Part]?
    public private(set) var sunspecMap: SunSpecMap?
    /// The serial number the device reports, read once on first contact when its profile says
    /// where (or from the SunSpec common model). `nil` until read, or when the device has none.
    public private(set) var serialNumber: String?
    /// The device answered the serial-number request with an exception or an empty value.
    public private(set) var serialRefused = false
    /// Whether this meter's serial number can be read: its profile says where, and the device
    /// has not refused it.
    public var hasReadableSerial: Bool {
        guard !serialRefused else { return false }
        switch choice {
        case .profile(let profile): return profile.identification?.serialNumber != nil
        case .sunspec(let catalog): return catalog.sunspecModels[1] != nil
        }
    }

    public init(name: String, unit: UInt8, choice: MeterProfileChoice, pollIntervalMillis: Int64 = 1000, backoff: Backoff = Backoff()) {
        self.name = name
        self.unit = unit
        self.choice = choice
        self.pollIntervalMillis = pollIntervalMillis
        self.backoff = backoff
        if case .profile(let profile) = choice {
            parts = [Part(profile: profile, base: 0, executor: PlanExecutor(spans: profile.requiredSpans(), limits: profile.limits))]
        }
    }

    /// The profile id recorded in readings: the device profile, or `sunspec:<models>`.
    public var profileID: String {
        switch choice {
        case .profile(let profile): return profile.id
        case .sunspec:
            let models = sunspecMap?.models.map { String($0.id) }.joined(separator: ",") ?? "?"
            return "sunspec:\(models)"
        }
    }

    /// Requests one full reading needs with the current plan (after any fallback).
    public var requestsPerReading: Int { parts?.reduce(0) { $0 + $1.executor.blocks.count } ?? 0 }

    public func isDue(at nowMillis: Int64) -> Bool {
        nowMillis >= nextPollMillis && backoff.isDue(at: nowMillis)
    }

    /// Polls the meter once. `captureMillis` is the capture time recorded in the reading.
    public mutating func poll(reader: inout some RegisterReader & ~Copyable, captureMillis: Int64) -> MeterReading {
        stats.polls += 1
        // Keep a steady cadence; when a poll overran its slot, restart the cadence from now.
        nextPollMillis = nextPollMillis == .min ? captureMillis + pollIntervalMillis : nextPollMillis + pollIntervalMillis
        if nextPollMillis <= captureMillis { nextPollMillis = captureMillis + pollIntervalMillis }
        var problems: [String] = []
        if parts == nil, case .sunspec(let catalog) = choice {
            do {
                guard let map = try SunSpecDiscovery.discover(unit: unit, reader: &reader) else {
                    return finish(failedWith: "no SunSpec marker at 40000, 50000 or 0", at: captureMillis, silent: false)
                }
                sunspecMap = map
                parts = map.models.compactMap { model in
                    guard let profile = catalog.sunspecModels[model.id], let modelInfo = profile.sunspec,
                        model.length >= modelInfo.length
                    else { return nil }
                    return Part(profile: profile, base: model.dataAddress, executor: PlanExecutor(spans: profile.requiredSpans(base: model.dataAddress), limits: profile.limits))
                }
                if parts!.allSatisfy({ $0.profile.fields.isEmpty }) {
                    problems.append("no known measuring SunSpec model among \(map.models.map(\.id))")
                }
            } catch {
                return finish(failedWith: "SunSpec discovery: \(error)", at: captureMillis, silent: !error.deviceAnswered)
            }
        }
        var measurements: [Measurement] = []
        var notImplemented: [Quantity] = []
        var seen: Set<Quantity> = []
        var anyAnswer = false
        var anyMissing = false
        for index in parts!.indices {
            let outcome = parts![index].executor.execute(unit: unit, reader: &reader)
            stats.requests += outcome.requests
            stats.errors += outcome.failures.count
            anyAnswer = anyAnswer || !outcome.deviceSilent
            let part = parts![index]
            let decoded = ProfileDecoder.decode(part.profile, image: outcome.image, base: part.base)
            for measurement in decoded.measurements where seen.insert(measurement.quantity).inserted {
                measurements.append(measurement)
            }
            notImplemented += decoded.notImplemented.filter { !seen.contains($0) }
            if !decoded.missing.isEmpty {
                anyMissing = true
                let firstFailure = outcome.failures.first.map { ": \($0.error)" } ?? ""
                problems.append("\(part.profile.id): \(decoded.missing.count) field(s) not read\(firstFailure)")
            }
        }
        // After the values, and only from a device that answered: a silent meter must not cost
        // a second timeout per poll.
        if serialNumber == nil && !serialRefused && anyAnswer { readSerialNumber(reader: &reader) }
        if measurements.isEmpty && (anyMissing || !anyAnswer) {
            return finish(failedWith: problems.joined(separator: "; "), at: captureMillis, silent: !anyAnswer)
        }
        backoff.recordSuccess()
        let status: ReadingStatus = anyMissing || !problems.isEmpty ? .partial : .complete
        if status == .complete { stats.complete += 1 } else { stats.partial += 1 }
        return MeterReading(
            captureTimeMillis: captureMillis, profileID: profileID, status: status, measurements: measurements,
            notImplemented: Array(Set(notImplemented)), problems: problems)
    }

    /// One attempt per answered poll until it succeeds (one extra request on first contact):
    /// a meter's identity must not depend on whether the first poll after a restart was answered.
    /// A device that refuses the serial register (an exception: it answered) is not asked again.
    private mutating func readSerialNumber(reader: inout some RegisterReader & ~Copyable) {
        switch choice {
        case .profile(let profile):
            guard let register = profile.identification?.serialNumber else { return }
            stats.requests += 1
            do {
                let words = try reader.readRegisters(unit: unit, span: register.span)
                serialNumber = DeviceIdentifier.decodeSerial(words, register: register).flatMap { $0.isEmpty ? nil : $0 }
                if serialNumber == nil { serialRefused = true }
            } catch {
                if error.deviceAnswered { serialRefused = true }
            }
        case .sunspec(let catalog):
            guard let common = sunspecMap?.models.first(where: { $0.id == 1 }), let profile = catalog.sunspecModels[1] else { return }
            stats.requests += 1
            serialNumber = DeviceIdentifier.readPoints(profile, base: common.dataAddress, unit: unit, reader: &reader)["SN"]
            if serialNumber == nil { serialRefused = true }
        }
    }

    private mutating func finish(failedWith problem: String, at captureMillis: Int64, silent: Bool) -> MeterReading {
        stats.failed += 1
        // Only silence backs off: a device that answers with exceptions is alive and cheap to ask.
        if silent { backoff.recordFailure(at: captureMillis) } else { backoff.recordSuccess() }
        return MeterReading(captureTimeMillis: captureMillis, profileID: profileID, status: .failed, measurements: [], problems: [problem])
    }
}
