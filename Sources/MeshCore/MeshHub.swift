import SchedulerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The live mesh: applies published changes to a ``MeshState``, numbers them, keeps the recent ones in an
/// ``EventLog`` and fans them out to subscribers.
///
/// Publishing takes one lock, does O(subscribers) work and never suspends; a slow subscriber only fills its own
/// bounded buffer (see ``Configuration/bufferLimit``) and is ended with ``MeshError/subscriberTooSlow(lastDeliveredRevision:)``
/// when it overflows.
public final class MeshHub: Sendable {
    /// Limits and defaults of a hub.
    public struct Configuration: Sendable {
        /// State-changing events kept for resume.
        public var logCapacity: Int
        /// State events a subscriber may have queued before it is ended as too slow (load reports excluded).
        public var bufferLimit: Int
        /// Heartbeat interval when a subscriber names none; nil = no heartbeats.
        public var heartbeatInterval: Duration?
        /// Most events a consumer takes per lock acquisition.
        public var batchLimit: Int

        /// 10,000 events of history, 1,000 queued events per subscriber, heartbeats every 5 s.
        public static var defaults: Configuration {
            Configuration(logCapacity: 10_000, bufferLimit: 1_000, heartbeatInterval: .seconds(5), batchLimit: 256)
        }

        /// The defaults, changed by `configure`.
        public static func defaults(configure: (inout Configuration) -> Void) -> Configuration {
            var configuration = Configuration.defaults
            configure(&configuration)
            return configuration
        }

        /// Creates a configuration.
        public init(logCapacity: Int, bufferLimit: Int, heartbeatInterval: Duration?, batchLimit: Int = 256) {
            self.logCapacity = logCapacity
            self.bufferLimit = bufferLimit
            self.heartbeatInterval = heartbeatInterval
            self.batchLimit = batchLimit
        }
    }

    /// Keeps revisions increasing across restarts without a write per event: revisions are reserved in blocks,
    /// and each block is persisted before its first revision is issued. A restarted hub starts past the last
    /// reserved revision (``MeshState/init(revision:)``), so it never issues a revision a watcher saw before.
    public struct RevisionReservation: Sendable {
        /// Revisions reserved at a time (one write per block).
        public var block: UInt64
        /// Persists "revisions up to this one may be issued"; called under the hub's lock, once per block. A
        /// failure is the caller's to report: the hub goes on (availability first).
        public var persist: @Sendable (_ reservedThrough: UInt64) -> Void

        /// Creates a reservation policy.
        public init(block: UInt64 = 1_000, persist: @escaping @Sendable (_ reservedThrough: UInt64) -> Void) {
            self.block = max(1, block)
            self.persist = persist
        }
    }

    private struct Inner {
        /// The highest revision reserved (issued revisions never pass it while a reservation policy is set).
        var reservedThrough: UInt64
        var state: MeshState
        var log: EventLog
        var subscribers: [UInt64: Subscriber] = [:]
        var nextSubscriberId: UInt64 = 1
        var shuttingDown = false
        /// An event could not be recorded in the journal: nothing more is published (see ``isHalted``).
        var halted = false
    }

    /// The configuration the hub was made with.
    public let configuration: Configuration
    private let inner: Mutex<Inner>
    private let wallClock: @Sendable () -> Int64
    private let reservation: RevisionReservation?
    private let journal: (any MeshJournal)?

    /// Creates a hub starting from `state` (empty by default); `wallClock` gives Unix milliseconds for
    /// `occurredAtMs`; `reservation` persists revision blocks so that a restart continues the revisions.
    ///
    /// With a `journal` (high availability) every state event is recorded before it is issued, and `history` (the
    /// journal's recent events, consecutive and ending at `state.revision`) is kept for resume, so a watcher of the
    /// previous leader resumes here without a reset. Events of `history` that do not lead to `state.revision` are
    /// ignored.
    public init(
        configuration: Configuration = .defaults, state: MeshState = MeshState(),
        reservation: RevisionReservation? = nil, journal: (any MeshJournal)? = nil, history: [MeshEvent] = [],
        wallClock: @escaping @Sendable () -> Int64 = MeshHub.unixMilliseconds
    ) {
        self.configuration = configuration
        self.reservation = journal == nil ? reservation : nil
        self.journal = journal
        var log = EventLog(capacity: configuration.logCapacity)
        for event in Self.consecutive(history, endingAt: state.revision) { log.append(event) }
        self.inner = Mutex(Inner(reservedThrough: state.revision, state: state, log: log))
        self.wallClock = wallClock
    }

    /// The longest run of state events of `history` with consecutive revisions that ends at `revision`.
    static func consecutive(_ history: [MeshEvent], endingAt revision: UInt64) -> ArraySlice<MeshEvent> {
        let events = history.filter(\.kind.isStateChange)
        guard let last = events.last, last.revision == revision else { return [] }
        var start = events.count - 1
        while start > 0, events[start - 1].revision + 1 == events[start].revision { start -= 1 }
        return events[start...]
    }

    /// The system clock in Unix milliseconds.
    @Sendable public static func unixMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Applies a change and sends it to every subscriber whose filter matches.
    ///
    /// - Returns: the event as sent (revision stamped, `previous` fields filled), or nil when it changed nothing.
    /// - Throws: ``MeshError/notPublishable(_:)`` for snapshots and heartbeats.
    @discardableResult
    public func publish(_ payload: MeshEvent.Payload) throws(MeshError) -> MeshEvent? {
        let occurredAtMs = self.wallClock()
        let (event, wakes, halted) = try self.inner.withLock {
            inner throws(MeshError) -> (MeshEvent?, [UnsafeContinuation<Void, Never>], [Subscriber]) in
            guard !inner.halted, let applied = try inner.state.apply(payload) else { return (nil, [], []) }
            if let reservation, inner.state.revision > inner.reservedThrough {
                inner.reservedThrough = inner.state.revision + reservation.block - 1
                reservation.persist(inner.reservedThrough)
            }
            let event = MeshEvent(revision: inner.state.revision, occurredAtMs: occurredAtMs, payload: applied)
            if applied.kind.isStateChange {
                // Recorded before anyone sees it; unrecorded, it is never delivered: the hub halts and its watchers
                // resume on the next leader, which continues from the last recorded revision.
                if let journal, !journal.record(event, state: inner.state) {
                    inner.halted = true
                    inner.shuttingDown = true
                    defer { inner.subscribers = [:] }
                    return (nil, [], Array(inner.subscribers.values))
                }
                inner.log.append(event)
            }
            var wakes: [UnsafeContinuation<Void, Never>] = []
            var ended: [UInt64] = []
            for subscriber in inner.subscribers.values {
                let outcome = subscriber.enqueue(event)
                if let wake = outcome.wake { wakes.append(wake) }
                if outcome.ended { ended.append(subscriber.id) }
            }
            for id in ended {
                inner.subscribers.removeValue(forKey: id)
            }
            return (event, wakes, [])
        }
        for wake in wakes {
            wake.resume()
        }
        for subscriber in halted {
            subscriber.end(.failed(.shuttingDown(lastDeliveredRevision: subscriber.deliveredRevision)))
        }
        return event
    }

    /// Subscribes to the stream.
    ///
    /// - `fromRevision` 0: a snapshot (`reset = false`), then live events.
    /// - A revision whose successors the log still holds: exactly the missed events, then live events.
    /// - An older revision (or one never issued): a snapshot with `reset = true`, then live events.
    ///
    /// The snapshot holds every worker and the deployments and replicas `filter` lets through. Load reports and
    /// heartbeats are not in the log: a replay is followed by each worker's latest load report instead, so a watcher
    /// that resumes after a cut does not keep the loads it had before the cut until the workers next report. `heartbeatInterval` (default: the configuration's) sends a heartbeat when nothing
    /// was sent for that long. The subscription ends when the consuming task is cancelled, the subscription is
    /// dropped, or with an error (too slow, shutting down).
    public func subscribe(
        fromRevision: UInt64 = 0, filter: MeshFilter = .all, heartbeatInterval: Duration? = nil,
        bufferLimit: Int? = nil
    ) -> Subscription {
        let wallMs = self.wallClock()
        let now = ContinuousClock.now
        let limit = bufferLimit ?? self.configuration.bufferLimit
        let subscriber = self.inner.withLock { inner -> Subscriber in
            let id = inner.nextSubscriberId
            inner.nextSubscriberId += 1
            let revision = inner.state.revision
            let replay = fromRevision == 0 ? nil : (fromRevision == revision ? [] : inner.log.events(after: fromRevision))
            let backlog: [MeshEvent]
            let delivered: UInt64
            if let replay {
                let loads = inner.state.workers.keys.sorted().compactMap { id in
                    inner.state.workers[id]?.load.map {
                        MeshEvent(revision: revision, occurredAtMs: wallMs, payload: .loadReported($0))
                    }
                }
                backlog = (replay + loads).filter { filter.matches($0.payload) }
                delivered = fromRevision
            } else {
                let snapshot = inner.state.snapshot(filter: filter, reset: fromRevision != 0)
                backlog = [MeshEvent(revision: revision, occurredAtMs: wallMs, payload: .snapshot(snapshot))]
                delivered = 0
            }
            var buffer = SubscriberBuffer(
                bound: limit, backlog: backlog, revision: revision, deliveredRevision: delivered, now: now)
            if inner.shuttingDown {
                _ = buffer.end(.failed(.shuttingDown(lastDeliveredRevision: fromRevision)))
            }
            let subscriber = Subscriber(id: id, filter: filter, buffer: buffer, wallClock: self.wallClock)
            if !inner.shuttingDown {
                inner.subscribers[id] = subscriber
            }
            return subscriber
        }
        let interval = heartbeatInterval ?? self.configuration.heartbeatInterval
        return Subscription(
            handle: SubscriptionHandle(
                hub: self, subscriber: subscriber, heartbeatInterval: interval, batchLimit: self.configuration.batchLimit))
    }

    /// Subscribes with the filters of a `WatchRequest`: `models` and `kinds` empty = all.
    public func subscribe(
        fromRevision: UInt64 = 0, models: Set<String>, kinds: Set<EventKind> = [], heartbeatInterval: Duration? = nil
    ) -> Subscription {
        self.subscribe(
            fromRevision: fromRevision, filter: MeshFilter(models: models, kinds: kinds),
            heartbeatInterval: heartbeatInterval)
    }

    func remove(_ subscriber: Subscriber) {
        _ = self.inner.withLock { $0.subscribers.removeValue(forKey: subscriber.id) }
        subscriber.end(.finished)
    }

    /// Ends every subscription with ``MeshError/shuttingDown(lastDeliveredRevision:)`` and refuses new ones the same
    /// way; ``health`` turns `overall` to draining. A hub with a journal also stops publishing: what a leader that
    /// steps down sees next (its workers' streams closing) is not the pool's state, and must not reach its successor.
    public func shutdown() {
        let subscribers = self.inner.withLock { inner -> [Subscriber] in
            inner.shuttingDown = true
            if self.journal != nil { inner.halted = true }
            defer { inner.subscribers = [:] }
            return Array(inner.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.end(.failed(.shuttingDown(lastDeliveredRevision: subscriber.deliveredRevision)))
        }
    }

    /// Whether an event could not be recorded in the journal: the hub publishes nothing more and refuses watchers
    /// (as when shutting down); the process is expected to step down.
    public var isHalted: Bool { self.inner.withLock { $0.halted } }

    /// The current revision.
    public var revision: UInt64 { self.inner.withLock { $0.state.revision } }

    /// A copy of the current state.
    public var state: MeshState { self.inner.withLock { $0.state } }

    /// Number of live subscribers.
    public var subscriberCount: Int { self.inner.withLock { $0.subscribers.count } }

    /// Health of the control plane, the workers and the models, for `grpc.health.v1`.
    public var health: HealthView {
        self.inner.withLock { HealthView(state: $0.state, shuttingDown: $0.shuttingDown) }
    }
}
