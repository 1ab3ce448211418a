public import Logging
public import ServiceLifecycle

/// Owns an ``MQTTClient``'s lifetime as a `Service`.
///
/// `run()` starts the client and waits for graceful shutdown (or cancellation). Then, if
/// connected and a will is configured, it publishes the will itself — a clean DISCONNECT makes
/// the broker discard the will, yet subscribers should see the gateway go `offline` — with QoS 1
/// and the will's retain flag, waiting at most `willTimeout` for the PUBACK. Finally it stops the
/// client.
///
/// ```swift
/// let group = ServiceGroup(services: [MQTTService(client: client, logger: logger), ...],
///                          gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct MQTTService: Service {
    public let client: MQTTClient
    private let logger: Logger
    private let willTimeout: Duration

    public init(client: MQTTClient, logger: Logger) {
        self.init(client: client, logger: logger, willTimeout: .seconds(2))
    }

    public init(client: MQTTClient, logger: Logger, willTimeout: Duration) {
        self.client = client
        self.logger = logger
        self.willTimeout = willTimeout
    }

    public func run() async throws {
        try client.start()
        // Returns on graceful shutdown, throws CancellationError on cancellation: both end the service.
        try? await gracefulShutdown()
        await publishWill()
        client.stop()
    }

    private func publishWill() async {
        guard let will = client.configuration.will else { return }
        guard client.isConnected else {
            logger.info("MQTT not connected at shutdown; the will stays with the broker",
                        metadata: ["mqtt.topic": "\(will.topic)"])
            return
        }
        let client = self.client
        let timeout = willTimeout
        // An unstructured task: it does not inherit the cancellation of a cancelled service.
        let outcome: Result<Void, MQTTError>? = await Task {
            await withTaskGroup(of: Result<Void, MQTTError>?.self) { group in
                group.addTask {
                    do throws(MQTTError) {
                        try await client.publish(will.topic, payload: will.payload, qos: 1, retain: will.retain)
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }.value
        switch outcome {
        case .success?:
            logger.info("MQTT will published on shutdown", metadata: ["mqtt.topic": "\(will.topic)"])
        case .failure(let error)?:
            logger.warning("MQTT will not published on shutdown", metadata: ["mqtt.topic": "\(will.topic)", "mqtt.reason": "\(error)"])
        case nil:
            logger.warning("MQTT will not acknowledged in time on shutdown", metadata: ["mqtt.topic": "\(will.topic)", "mqtt.timeout": "\(timeout)"])
        }
    }
}
