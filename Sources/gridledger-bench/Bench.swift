import ArgumentParser
import DeviceProfiles
import Foundation
import GridLedgerAgent
import GridLedgerCore
import GridLedgerTestSupport
import MeterPolling
import MeterSimulator
import ModbusCore
import ModbusTransport

/// Benchmarks behind the figures in docs/PERFORMANCE.md. Each figure is the median of several
/// runs, because this machine is shared and noisy.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridledger-bench",
        abstract: "Measure GridLedger's reading path (results go to docs/PERFORMANCE.md).",
        discussion: """
            Figures: transactions per SDM630 reading, full readings per second over Modbus TCP
            against the simulator, poll-cycle time of 8 meters on one RTU pty bus (pymodbus peer),
            pure decode cost, signed-record encode/sign/verify cost, MQTT QoS 1 publish throughput, the
            aggregator's stages and throughput, settlement, and trace replay speed. Run a release build:
              swift build -c release --product gridledger-bench && .build/release/gridledger-bench
            """)

    @Option(help: "Runs per figure (the median is reported).")
    var runs = 5

    @Option(help: "Readings per TCP run.")
    var readings = 2000

    @Option(help: "Poll cycles per RTU run.")
    var cycles = 20

    @Flag(help: "Skip the RTU figure (needs socat and the pymodbus venv).")
    var skipRTU = false

    @Option(help: "Records per MQTT publish run.")
    var publishRecords = 20_000

    @Option(help: "Only these figures (comma-separated: transactions,tcp,decode,records,publish,rtu,chain-verify,aggregator-stages,aggregator-throughput,settlement,settlement-month,replay); all when omitted. Aggregator knobs: GL_BENCH_* environment variables (AggregatorBench.swift).")
    var only: String?

    func wants(_ figure: String) -> Bool { only.map { $0.split(separator: ",").contains(Substring(figure)) } ?? true }

    func run() async throws {
        let catalog = try ProfileCatalog.load(directory: TestEnvironment.profilesDirectory)
        let sdm630 = try catalog.profile("eastron-sdm630")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB; runs per figure: \(runs)")
        if wants("transactions") { try await transactions(sdm630) }
        if wants("tcp") { try await tcpReadings(sdm630, catalog: catalog) }
        if wants("decode") { decode(sdm630) }
        if wants("records") { try RecordBench.run(runs: runs, median: median) }
        if wants("publish") { try await PublishBench.run(runs: runs, records: publishRecords, median: median) }
        if wants("chain-verify") { try await AggregatorBench.chainVerify(runs: runs, median: median) }
        if wants("aggregator-stages") { try await AggregatorBench.stages(runs: runs, median: median) }
        if wants("settlement") { try SettlementBench.interval(runs: runs, median: median) }
        if wants("settlement-month") { try SettlementBench.month(runs: min(runs, 3), median: median) }
        if wants("aggregator-throughput") { try await AggregatorBench.throughput(runs: runs, median: median) }
        if wants("replay") { try await ReplayBench.run(runs: min(runs, 3), median: median) }
        if only == "aggregator-loadgen" { try await AggregatorBench.loadgen() }  // started by aggregator-throughput
        if !skipRTU && wants("rtu") { try await rtuCycle(sdm630, catalog: catalog) }
    }

    func transactions(_ profile: DeviceProfile) async throws {
        let planned = BlockPlanner.plan(profile.requiredSpans(), limits: profile.limits).count
        print("transactions per full SDM630 reading (\(profile.fields.count) quantities): \(planned) (one read per field would be \(profile.fields.count))")
    }

    func tcpReadings(_ profile: DeviceProfile, catalog: ProfileCatalog) async throws {
        let simulator = try await SimulatorServer.start(.init(profile: profile, endpoint: .tcp(host: "127.0.0.1", port: 0)))
        defer { Task { await simulator.stop() } }
        let bus = try buildBus(BusConfiguration(name: "bench", endpoint: .tcp(host: "127.0.0.1", port: simulator.port!),
                                                meters: [MeterConfiguration(name: "m", unit: 1, profile: profile.id)]), catalog: catalog)
        let clock = SystemWallClock()
        _ = await bus.pollDueMetersIgnoringSchedule(clock: clock)  // connect, warm up
        var rates: [Double] = []
        for _ in 0..<runs {
            let started = ContinuousClock.now
            var complete = 0
            for _ in 0..<readings {
                let polled = await bus.pollDueMetersIgnoringSchedule(clock: clock)
                if polled.first?.reading.status == .complete { complete += 1 }
            }
            let seconds = (ContinuousClock.now - started).seconds
            precondition(complete == readings, "only \(complete) of \(readings) readings were complete")
            rates.append(Double(readings) / seconds)
        }
        print("full SDM630 readings per second over Modbus TCP (loopback, our simulator): median \(Int(median(rates))) (runs: \(rates.map { String(Int($0)) }.joined(separator: ", ")))")
        await simulator.stop()
    }

    func decode(_ profile: DeviceProfile) {
        var image = RegisterImage()
        for block in BlockPlanner.plan(profile.requiredSpans(), limits: profile.limits) {
            image.insert([UInt16](repeating: 0x4366, count: Int(block.span.count)), at: block.span)
        }
        var perReading: [Double] = []
        let iterations = 20_000
        for _ in 0..<runs {
            var checksum = 0
            let started = ContinuousClock.now
            for _ in 0..<iterations { checksum &+= ProfileDecoder.decode(profile, image: image).measurements.count }
            precondition(checksum == iterations * profile.fields.count)
            perReading.append((ContinuousClock.now - started).seconds / Double(iterations) * 1e6)
        }
        print(String(format: "decode one SDM630 reading (%d values) from register words: median %.2f µs", profile.fields.count, median(perReading)))
    }

    func rtuCycle(_ profile: DeviceProfile, catalog: ProfileCatalog) async throws {
        let pair = try await SerialPair()
        var unit = ModbusPeer.Unit()
        unit.set(.input, 0, [UInt16](repeating: 0, count: 0x170))  // accepts merged reads, as a real SDM630
        let units = Dictionary(uniqueKeysWithValues: (1...8).map { (UInt8($0), unit) })
        let peer = try await ModbusPeer.rtu(device: pair.serverPath, units: units)
        let bus = try buildBus(BusConfiguration(
            name: "rs485", endpoint: .rtu(.init(device: pair.clientPath)), timeouts: .init(response: .milliseconds(500)),
            meters: (1...8).map { MeterConfiguration(name: "m\($0)", unit: UInt8($0), profile: profile.id) }), catalog: catalog)
        let clock = SystemWallClock()
        _ = await bus.pollDueMetersIgnoringSchedule(clock: clock)
        var cycleMillis: [Double] = []
        for _ in 0..<runs {
            var samples: [Double] = []
            for _ in 0..<cycles {
                let started = ContinuousClock.now
                let polled = await bus.pollDueMetersIgnoringSchedule(clock: clock)
                precondition(polled.count == 8 && polled.allSatisfy { $0.reading.status == .complete }, "RTU cycle incomplete")
                samples.append((ContinuousClock.now - started).seconds * 1000)
            }
            cycleMillis.append(median(samples))
        }
        // What the same cycle costs on a real 9600 baud 8N1 line: bytes on the wire plus the
        // 3.5-character silence that ends every frame (device turnaround not included).
        let blocks = BlockPlanner.plan(profile.requiredSpans(), limits: profile.limits)
        let bytesPerReading = blocks.reduce(0) { $0 + 8 + 5 + 2 * Int($1.span.count) }
        let characterMillis = 11.0 / 9600 * 1000
        let wireMillis = Double(8 * bytesPerReading) * characterMillis + Double(8 * blocks.count * 2) * 3.5 * characterMillis
        print(String(format: "poll cycle, 8 SDM630 on one RTU pty bus (pymodbus peer): median %.1f ms (runs: %@); the same cycle needs %.0f ms of wire time at 9600 baud (%d bytes per reading)",
                     median(cycleMillis), cycleMillis.map { String(format: "%.1f", $0) }.joined(separator: ", "), wireMillis, bytesPerReading))
        try await Task.sleep(for: .milliseconds(100))
        let expectedRequests = (1 + runs * cycles) * 8 * blocks.count
        print("  (the peer logged \(peer.requests().count) requests; expected \(expectedRequests))")
        await peer.stop()
        await pair.stop()
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
