import ArgumentParser
import Contracts
import Foundation
import Logging
import TraceReplay
import Traces
import UnixSignals

/// `gridledger replay`: a recorded or generated trace through the whole pipeline.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a meter trace through simulated meters, real agents, mosquitto and the aggregator.",
        discussion: """
            Every meter of the trace becomes a simulated Modbus TCP device of --profile whose
            registers follow the trace; each household (the part of the meter id before ':')
            gets a real gateway agent that polls, signs and publishes through a mosquitto of
            the replay's own on a free loopback port; the aggregator verifies every reading,
            mints blocks into an SQLite ledger and settles them under the contract. Members,
            gateway keys and meters are enrolled before the first reading.

            Everything runs on one virtual clock that follows trace time, one poll step at a
            time: a step ends when all its readings are committed and confirmed, so capture
            times, blocks' times and settlement intervals are the trace's, and the same trace
            and contract give byte-identical settlements on every run and at any speed.
            --speed 3600x lets an hour of trace take a second of real time (never outrunning
            the pipeline); --as-fast-as-possible (the default) does not wait at all.

            Prints progress to standard error (trace time reached, records per second,
            blocks, refused records) and a summary: energy per member, the community's
            self-sufficiency, each member's invoice against the grid-only baseline, and the
            verification of the whole chain (chain and settlements, as `gridledger verify`).
            The state (ledger, gateways' outboxes, broker log) lives in a temporary directory
            removed at the end, unless --work-dir names one (kept). Trace format:
            docs/TRACES.md; how a replay works: docs/REPLAY.md.

            Examples:
              gridledger community generate --seed 42 --households 10 --pv 4 --start 2026-06-01 --output community.csv
              gridledger replay --trace community.csv
              gridledger replay --trace community.csv --speed 3600x --contract docs/contracts/static-keys-example.yaml
              gridledger replay --trace house.csv --profile shelly-pro-3em --from 2016-06-01T00:00:00Z --days 7 --work-dir /tmp/replay

            Exit status: 0 when the replay finished and the chain verifies, 1 otherwise, 64 for bad options.
            """)

    @Option(help: ArgumentHelp("The trace to replay (docs/TRACES.md).", valueName: "FILE")) var trace: String
    @Option(help: ArgumentHelp("Device profile every simulated meter speaks.", valueName: "ID")) var profile = "eastron-sdm630"
    @Option(help: ArgumentHelp("Directory of device profiles.", valueName: "DIR")) var profiles: String?
    @Option(help: ArgumentHelp("Trace time per real time, e.g. 3600x (an hour a second).", valueName: "FACTORx")) var speed: String?
    @Flag(help: "Move on as soon as each step is done (the default).") var asFastAsPossible = false
    @Option(help: ArgumentHelp("First instant to replay, RFC 3339 (default: the trace's first sample).", valueName: "TIME")) var from: String?
    @Option(help: ArgumentHelp("Last instant to replay, RFC 3339 (default: the trace's last sample).", valueName: "TIME")) var to: String?
    @Option(help: ArgumentHelp("Replay this many days from --from, instead of --to.", valueName: "N")) var days: Int?
    @Option(help: ArgumentHelp("Poll step in seconds (default: the trace's resolution).", valueName: "SECONDS")) var step: Int?
    @Option(help: ArgumentHelp("The billing contract (YAML). Default: mid-market rate from the replay's first quarter hour.", valueName: "FILE"))
    var contract: String?
    @Option(help: ArgumentHelp("Time zone of the default contract (IANA name).", valueName: "ZONE")) var timeZone = "Europe/Berlin"
    @Option(help: ArgumentHelp("Keep the replay's state (ledger, outboxes, broker log) here; must be empty or new.", valueName: "DIR"))
    var workDir: String?
    @Option(help: ArgumentHelp("The mosquitto executable (default: found on PATH).", valueName: "FILE")) var mosquitto: String?
    @Option(help: ArgumentHelp("Give up when a step makes no progress for this long.", valueName: "SECONDS")) var stallTimeout = 60
    @Flag(help: "Skip bad rows of the trace (counted) instead of refusing it.") var skipBad = false
    @Flag(help: "Print the summary as JSON (progress stays on standard error).") var json = false
    @Flag(help: "No progress lines.") var quiet = false
    @Option(help: "Log level of the agents and the aggregator (trace, debug, info, notice, warning, error, critical).") var logLevel = "warning"

    func validate() throws {
        if speed != nil, asFastAsPossible { throw ValidationError("give --speed or --as-fast-as-possible, not both") }
        if let speed, Self.speedFactor(speed) == nil { throw ValidationError("--speed '\(speed)': expected a whole factor 1…100000000, e.g. 3600x") }
        if to != nil, days != nil { throw ValidationError("give --to or --days, not both") }
        if let days, !(1...3660).contains(days) { throw ValidationError("--days must be 1…3660") }
        if let step, !(1...86400).contains(step) { throw ValidationError("--step must be 1…86400 seconds") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, TraceTime.millis(rfc3339: value) == nil { throw ValidationError("\(name) '\(value)': expected RFC 3339, e.g. 2026-06-01T00:00:00Z") }
        }
        guard (1...3600).contains(stallTimeout) else { throw ValidationError("--stall-timeout must be 1…3600 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a level") }
    }

    static func speedFactor(_ text: String) -> Int64? {
        let digits = text.hasSuffix("x") || text.hasSuffix("X") ? String(text.dropLast()) : text
        guard let factor = Int64(digits), (1...100_000_000).contains(factor) else { return nil }
        return factor
    }

    func run() async throws {
        let parsed = try readTrace()
        let fromMillis = from.flatMap(TraceTime.millis(rfc3339:))
        let toMillis = to.flatMap(TraceTime.millis(rfc3339:)) ?? days.map { (fromMillis ?? parsed.span?.lowerBound ?? 0) + Int64($0) * 86_400_000 }
        let plan: ReplayPlan
        do {
            plan = try ReplayPlan(trace: parsed, fromMillis: fromMillis, toMillis: toMillis, stepMillis: step.map { Int64($0) * 1000 })
        } catch {
            throw OperatorFailure("\(error)")
        }
        let document = try contractDocument(plan: plan)
        let temporary = workDir == nil
        let directory = workDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("gridledger-replay-\(UUID().uuidString.prefix(8))").path
        defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }

        var logger = Logger(label: "gridledger.replay") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let options = ReplayOptions(
            profileID: profile, profilesDirectory: profiles, pace: speed.flatMap(Self.speedFactor).map(ReplayOptions.Pace.speed) ?? .asFastAsPossible,
            contractDocument: Array(document.utf8), workDirectory: directory, mosquitto: mosquitto, stallTimeout: .seconds(stallTimeout))
        printError(ReplayText.header(plan: plan, profile: profile, pace: options.pace))
        for meter in plan.metersStartingLate.prefix(5) {
            printError("warning: meter \(meter) has no sample before the replay starts: its registers stand at its first sample until then")
        }
        let quiet = self.quiet
        let replayLogger = logger
        let outcome: ReplayOutcome
        do {
            outcome = try await Self.untilSignalled {
                try await Replay.run(plan: plan, options: options, logger: replayLogger) { progress in
                    if !quiet { printError(ReplayText.progressLine(progress, plan: plan)) }
                }
            }
        } catch is CancellationError {
            printError("replay: interrupted; every process it started is stopped")
            throw ExitCode(1)
        } catch {
            throw OperatorFailure("replay failed: \(error)")
        }
        let summary = try ReplaySummary(plan: plan, outcome: outcome, contractDocument: Array(document.utf8))
        if json {
            print(try summary.json(kept: temporary ? nil : directory))
        } else {
            print(summary.text(kept: temporary ? nil : directory))
        }
        if !summary.isValid { throw ExitCode(1) }
    }

    private func readTrace() throws -> ParsedTrace {
        guard let data = FileManager.default.contents(atPath: trace) else { throw OperatorFailure("cannot read \(trace)") }
        do {
            let parsed = try Trace.parse(Array(data), skipBad: skipBad)
            if parsed.skipped > 0 { printError("\(trace): skipped \(parsed.skipped) bad rows (first: \(parsed.skipReasons.first.map { "\($0)" } ?? "-"))") }
            return parsed
        } catch {
            throw OperatorFailure("\(trace): \(error)")
        }
    }

    /// The given contract, checked; or the default mid-market contract from the first full
    /// quarter hour of the replay.
    private func contractDocument(plan: ReplayPlan) throws -> String {
        let text: String
        if let contract {
            guard let data = FileManager.default.contents(atPath: contract) else { throw OperatorFailure("cannot read \(contract)") }
            text = String(decoding: data, as: UTF8.self)
        } else {
            let quarter: Int64 = 900_000
            let start = (plan.fromMillis + quarter - 1) / quarter * quarter
            text = ReplayContract.midMarket(validFromMillis: start, timeZone: timeZone)
        }
        do {
            _ = try Contract.parse(Array(text.utf8), file: contract ?? "the default contract")
        } catch {
            throw OperatorFailure("\(error)")
        }
        return text
    }

    /// Runs `body` until it ends or SIGINT/SIGTERM arrives, which cancels it (the replay then
    /// stops everything it started before returning).
    static func untilSignalled<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return nil }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
                group.cancelAll()
            }
            throw CancellationError()
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
