/// Takes received messages directly on libmosquitto's network thread, in place of
/// ``MQTTClient/messages``.
///
/// The stream must drop messages when its consumer falls behind (its buffer is bounded), and a
/// QoS 1 message it drops has already been acknowledged to the broker. A sink may instead
/// *block* until it has room: the network thread then stops reading, TCP flow control stops the
/// broker, and the broker keeps the backlog in the session's queue (persistent sessions) where it
/// is safe. Block only for as long as the consumer needs to make room: while the thread waits
/// it sends no keepalive either, and ``MQTTClient/stop()`` waits for it.
public protocol MQTTMessageSink: Sendable {
    /// Takes `message`; `false` if it was dropped (counted in
    /// ``MQTTStatistics/droppedIncoming``). Called on the network thread, one message at a time,
    /// in the order the broker sent them.
    func receive(_ message: MQTTMessage) -> Bool
}
