import Synchronization

/// One subscriber: its filter and its ``SubscriberBuffer`` behind a `Mutex`. Continuations are always resumed after
/// the lock is released.
final class Subscriber: Sendable {
    let id: UInt64
    let filter: MeshFilter
    private let buffer: Mutex<SubscriberBuffer>
    private let wallClock: @Sendable () -> Int64

    init(id: UInt64, filter: MeshFilter, buffer: SubscriberBuffer, wallClock: @escaping @Sendable () -> Int64) {
        self.id = id
        self.filter = filter
        self.buffer = Mutex(buffer)
        self.wallClock = wallClock
    }

    /// Publisher side; the caller resumes the returned continuation once it has released its own lock.
    func enqueue(_ event: MeshEvent) -> (wake: UnsafeContinuation<Void, Never>?, ended: Bool) {
        let matches = self.filter.matches(event.payload)
        return self.buffer.withLock { buffer in
            let wake = buffer.enqueue(event, matches: matches)
            return (wake, buffer.status != .open)
        }
    }

    func take(limit: Int) -> SubscriberBuffer.TakeResult {
        let now = ContinuousClock.now
        let wallMs = self.wallClock()
        return self.buffer.withLock { $0.take(limit: limit, now: now, wallMs: wallMs) }
    }

    /// Suspends until there is something to take; on task cancellation calls `onCancel`, which must end the
    /// subscriber.
    func wait(onCancel: @escaping @Sendable () -> Void) async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                self.buffer.withLock { $0.park(continuation) }?.resume()
            }
        } onCancel: {
            onCancel()
        }
    }

    func end(_ status: SubscriberBuffer.Status) {
        self.buffer.withLock { $0.end(status) }?.resume()
    }

    var deliveredRevision: UInt64 {
        self.buffer.withLock { $0.deliveredRevision }
    }

    /// Runs until the subscriber ends or the task is cancelled, waking the consumer with a heartbeat when idle.
    func runHeartbeats(interval: Duration) async {
        var next = ContinuousClock.now.advanced(by: interval)
        while true {
            do {
                try await Task.sleep(until: next, clock: .continuous)
            } catch {
                return
            }
            let now = ContinuousClock.now
            let tick = self.buffer.withLock { $0.heartbeatTick(now: now, interval: interval) }
            tick.wake?.resume()
            guard let following = tick.next else { return }
            next = following
        }
    }
}
