import CMosquitto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What can go wrong in ``MQTTClient``.
public enum MQTTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not connected to the broker: nothing was sent (and nothing queued).
    case notConnected
    /// The connection dropped (or the client stopped) before the broker acknowledged the publish.
    /// The message may still reach the broker (libmosquitto resends it after reconnecting), so a
    /// caller that publishes it again must tolerate a duplicate (QoS 1 is at-least-once anyway).
    case connectionLost
    /// The configuration was refused before connecting; the text names the field.
    case invalidConfiguration(String)
    /// A topic, filter or QoS passed to `publish` or `subscribe` was refused.
    case invalidArgument(String)
    /// libmosquitto returned an error code; `message` is `mosquitto_strerror(code)`.
    case library(code: Int32, message: String)
    /// TLS setup failed (files, options).
    case tls(String)
    /// The calling task was cancelled while waiting for a slot or an acknowledgement.
    case cancelled
    /// The client was stopped; it cannot be started again (make a new one).
    case stopped
    /// The broker refused a subscription (SUBACK 0x80).
    case subscriptionRefused(String)

    public var description: String {
        switch self {
        case .notConnected: "not connected to the MQTT broker"
        case .connectionLost: "the MQTT connection was lost before the broker acknowledged"
        case .invalidConfiguration(let text): "invalid MQTT configuration: \(text)"
        case .invalidArgument(let text): "invalid MQTT argument: \(text)"
        case .library(let code, let message): "libmosquitto error \(code): \(message)"
        case .tls(let text): "MQTT TLS: \(text)"
        case .cancelled: "cancelled while waiting for the MQTT broker"
        case .stopped: "the MQTT client was stopped"
        case .subscriptionRefused(let filter): "the broker refused the subscription to '\(filter)'"
        }
    }

    /// Maps a libmosquitto return code; `MOSQ_ERR_NO_CONN` becomes ``notConnected``,
    /// `MOSQ_ERR_CONN_LOST` ``connectionLost``, `MOSQ_ERR_ERRNO` carries `strerror(errno)`.
    static func library(_ code: Int32, errno savedErrno: Int32 = errno) -> MQTTError {
        switch code {
        case Int32(MOSQ_ERR_NO_CONN.rawValue): return .notConnected
        case Int32(MOSQ_ERR_CONN_LOST.rawValue): return .connectionLost
        case Int32(MOSQ_ERR_ERRNO.rawValue): return .library(code: code, message: String(cString: strerror(savedErrno)))
        default: return .library(code: code, message: Mosquitto.describe(code))
        }
    }
}
