import AsyncAlgorithms
import MeterPolling
import ServiceLifecycle

/// Runs the meter poller and hands every bus cycle to the signer through a channel without
/// buffer: when signing or the outbox is slow, polling waits instead of piling readings up in
/// memory. The channel is finished when polling stops, which lets the signer drain and end.
struct PollingService: Service {
    let poller: MeterPoller<ProductionReader>
    let cycles: AsyncChannel<[PolledReading]>

    func run() async throws {
        defer { cycles.finish() }
        try await poller.runUntilShutdown()
    }
}
