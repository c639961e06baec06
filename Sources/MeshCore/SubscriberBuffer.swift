import SchedulerCore

/// The pure state machine of one subscriber's queue: what the publisher enqueues, what the consumer takes, when it
/// waits, when it gets a heartbeat, and when it is ended. ``Subscriber`` wraps it in a `Mutex`.
///
/// State events (`.event`) count against `bound`. A load report takes one slot per worker: a newer report replaces the
/// pending one in place (latest wins) and is delivered with the revision of the last state event delivered before
/// it, so the revisions a subscriber sees never go down.
struct SubscriberBuffer: Sendable {
    enum Entry: Sendable {
        case event(MeshEvent)
        case load(workerId: String, generation: UInt64)
    }

    enum Status: Equatable, Sendable {
        case open
        case finished
        case failed(MeshError)
    }

    enum TakeResult {
        case events([MeshEvent])
        case wait
        case finished
        case failed(MeshError)
    }

    let bound: Int
    private(set) var status: Status = .open
    private var backlog: [MeshEvent]
    private var backlogIndex = 0
    private var queue = RingBuffer<Entry>()
    private(set) var queuedStateEvents = 0
    private var pendingLoads: [String: (generation: UInt64, event: MeshEvent)] = [:]
    private var loadGeneration: UInt64 = 0
    /// Newest revision the publisher told this subscriber about (matching or not).
    private(set) var knownRevision: UInt64
    /// Revision up to which the subscriber has taken every event meant for it.
    private(set) var deliveredRevision: UInt64
    private var heartbeatDue = false
    private(set) var lastSent: ContinuousClock.Instant
    private var waiter: UnsafeContinuation<Void, Never>?

    /// `backlog` (a snapshot or the replayed events) is delivered first and does not count against `bound`.
    init(bound: Int, backlog: [MeshEvent], revision: UInt64, deliveredRevision: UInt64, now: ContinuousClock.Instant) {
        self.bound = max(1, bound)
        self.backlog = backlog
        self.knownRevision = revision
        self.deliveredRevision = deliveredRevision
        self.lastSent = now
    }

    private var hasWork: Bool {
        self.backlogIndex < self.backlog.count || !self.queue.isEmpty || self.heartbeatDue || self.status != .open
    }

    /// Publisher side: records `event` (a state change or a load report); returns a consumer to wake, if any.
    /// Ends the subscriber with ``MeshError/subscriberTooSlow(lastDeliveredRevision:)`` when the bound is exceeded.
    mutating func enqueue(_ event: MeshEvent, matches: Bool) -> UnsafeContinuation<Void, Never>? {
        guard self.status == .open else { return nil }
        self.knownRevision = max(self.knownRevision, event.revision)
        guard matches else { return nil }
        switch event.payload {
        case .loadReported(let report):
            self.loadGeneration &+= 1
            if let pending = self.pendingLoads[report.workerId] {
                self.pendingLoads[report.workerId] = (pending.generation, event)
            } else {
                self.pendingLoads[report.workerId] = (self.loadGeneration, event)
                self.queue.append(.load(workerId: report.workerId, generation: self.loadGeneration))
            }
        default:
            if case .workerLeft(let left) = event.payload {
                self.pendingLoads.removeValue(forKey: left.workerId)
            }
            guard self.queuedStateEvents < self.bound else {
                return self.end(.failed(.subscriberTooSlow(lastDeliveredRevision: self.deliveredRevision)))
            }
            self.queue.append(.event(event))
            self.queuedStateEvents += 1
        }
        return self.waiter.take()
    }

    /// Consumer side: up to `limit` events in order, or what to do instead.
    mutating func take(limit: Int, now: ContinuousClock.Instant, wallMs: Int64) -> TakeResult {
        if case .failed(let error) = self.status {
            return .failed(error)
        }
        var result: [MeshEvent] = []
        while result.count < limit, self.backlogIndex < self.backlog.count {
            let event = self.backlog[self.backlogIndex]
            self.backlogIndex += 1
            self.deliveredRevision = max(self.deliveredRevision, event.revision)
            result.append(event)
        }
        if self.backlogIndex == self.backlog.count && !self.backlog.isEmpty {
            self.backlog = []
            self.backlogIndex = 0
        }
        while result.count < limit, let entry = self.queue.popFirst() {
            switch entry {
            case .event(let event):
                self.queuedStateEvents -= 1
                self.deliveredRevision = event.revision
                result.append(event)
            case .load(let workerId, let generation):
                guard let pending = self.pendingLoads[workerId], pending.generation == generation else { continue }
                self.pendingLoads.removeValue(forKey: workerId)
                var event = pending.event
                event.revision = self.deliveredRevision
                result.append(event)
            }
        }
        if self.backlog.isEmpty && self.queue.isEmpty {
            self.deliveredRevision = max(self.deliveredRevision, self.knownRevision)
        }
        if !result.isEmpty {
            self.lastSent = now
            self.heartbeatDue = false
            return .events(result)
        }
        if self.status == .finished {
            return .finished
        }
        if self.heartbeatDue {
            self.heartbeatDue = false
            self.lastSent = now
            return .events([MeshEvent(revision: self.deliveredRevision, occurredAtMs: wallMs, payload: .heartbeat)])
        }
        return .wait
    }

    /// Consumer side: parks `continuation` unless there is work; returns it when the caller must resume it now.
    mutating func park(_ continuation: UnsafeContinuation<Void, Never>) -> UnsafeContinuation<Void, Never>? {
        if self.hasWork {
            return continuation
        }
        self.waiter = continuation
        return nil
    }

    /// Heartbeat timer: marks a heartbeat due when nothing was sent for `interval` and nothing is queued. Returns the
    /// consumer to wake and the instant to check again (nil once the subscriber is ended).
    mutating func heartbeatTick(
        now: ContinuousClock.Instant, interval: Duration
    ) -> (wake: UnsafeContinuation<Void, Never>?, next: ContinuousClock.Instant?) {
        guard self.status == .open else { return (self.waiter.take(), nil) }
        let deadline = self.lastSent.advanced(by: interval)
        guard now >= deadline else { return (nil, deadline) }
        guard !self.hasWork else { return (nil, now.advanced(by: interval)) }
        self.heartbeatDue = true
        return (self.waiter.take(), now.advanced(by: interval))
    }

    /// Ends the subscriber (cancelled: `.finished`; too slow or shutdown: `.failed`), dropping what is queued.
    /// Returns the consumer to wake.
    mutating func end(_ status: Status) -> UnsafeContinuation<Void, Never>? {
        guard self.status == .open else { return nil }
        self.status = status
        self.queue.removeAll()
        self.queuedStateEvents = 0
        self.pendingLoads = [:]
        self.backlog = []
        self.backlogIndex = 0
        return self.waiter.take()
    }
}
