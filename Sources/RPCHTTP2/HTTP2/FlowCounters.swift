import Synchronization

/// Inbound flow-control bookkeeping of one stream, shared between the event loop (which receives
/// DATA) and the task consuming messages: bytes handed over but not yet consumed, and window bytes
/// held back because the consumer is behind.
final class FlowCounters: Sendable {
    let unconsumed = Atomic<Int>(0)
    let owed = Atomic<Int>(0)

    /// Records a consumed message; returns whether window bytes are owed (a hop to the loop is needed).
    func consumed(_ size: Int) -> Bool {
        unconsumed.subtract(size, ordering: .relaxed)
        return owed.load(ordering: .relaxed) > 0
    }
}
