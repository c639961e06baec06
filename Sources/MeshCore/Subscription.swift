/// The events of one subscriber, in order: an `AsyncSequence` to iterate once.
///
/// Iteration ends (returns nil) when the consuming task is cancelled, and throws ``MeshError`` when the hub ends
/// the subscriber. Dropping the subscription (and its iterator) unsubscribes.
public struct Subscription: AsyncSequence, Sendable {
    /// Events, in revision order.
    public typealias Element = MeshEvent

    let handle: SubscriptionHandle

    /// Ends the subscription: the iterator returns nil after the events it already took.
    public func cancel() {
        self.handle.hub.remove(self.handle.subscriber)
    }

    /// The iterator; make one per subscription.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: self.handle)
    }

    /// Iterates a ``Subscription``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let handle: SubscriptionHandle
        private var batch: [MeshEvent] = []
        private var index = 0
        private var done = false

        init(handle: SubscriptionHandle) {
            self.handle = handle
        }

        /// The next event; nil when cancelled; throws ``MeshError`` when ended by the hub.
        public mutating func next() async throws -> MeshEvent? {
            if self.index < self.batch.count {
                defer { self.index += 1 }
                return self.batch[self.index]
            }
            guard !self.done else { return nil }
            while true {
                switch self.handle.subscriber.take(limit: self.handle.batchLimit) {
                case .events(let events):
                    self.batch = events
                    self.index = 1
                    return events[0]
                case .finished:
                    self.done = true
                    return nil
                case .failed(let error):
                    self.done = true
                    self.batch = []
                    throw error
                case .wait:
                    let handle = self.handle
                    await handle.subscriber.wait { handle.hub.remove(handle.subscriber) }
                }
            }
        }
    }
}

/// Owns a subscriber for its ``Subscription`` and iterator: runs the heartbeat task and unsubscribes on deinit.
final class SubscriptionHandle: Sendable {
    let hub: MeshHub
    let subscriber: Subscriber
    let batchLimit: Int
    private let heartbeats: Task<Void, Never>?

    init(hub: MeshHub, subscriber: Subscriber, heartbeatInterval: Duration?, batchLimit: Int) {
        self.hub = hub
        self.subscriber = subscriber
        self.batchLimit = max(1, batchLimit)
        if let interval = heartbeatInterval, interval > .zero {
            self.heartbeats = Task { [subscriber] in await subscriber.runHeartbeats(interval: interval) }
        } else {
            self.heartbeats = nil
        }
    }

    deinit {
        self.heartbeats?.cancel()
        self.hub.remove(self.subscriber)
    }
}
