import AIMassAPI
import RPCCore
import SchedulerCore
import Synchronization

/// Overload protection for a whole server, at the transport: a ``ServerCallGate`` backed by an
/// `AdmissionController` (gradient concurrency limit learnt from call latency, priority classes from the
/// `priority` metadata, deadline-aware rejection) and a bounded queue in front of it.
///
/// A call over the limit waits in the queue (highest priority class first, then the call due first: see
/// `DeadlineQueue`) when it can still start in time: its expected wait (the calls ahead of it, each freeing a slot
/// in about the typical call duration divided by the calls in flight) must fit both the queue budget and, with a
/// deadline, the time left minus the typical duration. The queue budget (and a typical call's duration) bounds every
/// call's wait; a deadline can only shorten it. Why a short budget (5 ms by default) rather than waiting until the
/// deadline: a queue that lets
/// calls wait as long as their deadlines allow stays full under sustained overload, and then every admitted call
/// waits that long (an open-loop load at 3x capacity with 100 ms deadlines would see ~100 ms, against ~2 ms
/// unloaded). What cannot wait is shed; while the gate queues or sheds, it reports ``saturation`` and the server
/// pushes back on its connections with HTTP/2 (fewer concurrent streams, reads paused), so that clients hold their
/// calls instead of sending them to be shed.
///
/// It counts a call in flight from the end of its request (its headers and message received, nothing decoded) to
/// its end, so the time calls wait for the event loop or for a thread of the task pool is latency the limiter sees — unlike the per-replica admission inside the
/// handler, which sees a call only once its task runs (see docs/scheduler.md, "Overload benchmark"). A shed call
/// gets `RESOURCE_EXHAUSTED` with a `retry-after-ms` trailer before its request is decoded or a task exists; the per-replica admission behind it still applies per-model limits and its queue.
///
/// Failed calls teach the limit nothing about the service time (a call rejected by a replica ends fast): they
/// count as at least the typical successful call.
///
/// ```swift
/// let gate = AdmissionCallGate.recommendInference()
/// let server = RPCServer(services: [health, RecommendService(source: source, registry: nil)], callGate: gate)
/// ```
public final class AdmissionCallGate: ServerCallGate {
    /// Calls seen by the gate since it was created.
    public struct Counters: Sendable, Hashable {
        /// Calls admitted.
        public var admitted: Int
        /// Calls shed (every reason).
        public var shed: Int
        /// Of the shed calls, those whose deadline was shorter than the expected service time.
        public var shedForDeadline: Int
    }

    let admission: AdmissionController
    let paths: Set<String>
    let classShares: [Double]
    /// `waitBudget × cores`, in nanoseconds (0: no budget).
    let budgetNanos: Double
    /// The cores the gate's calls run on.
    let cores: Int
    let inFlight = Atomic<Int>(0)
    let admitted = Atomic<Int>(0)
    let shed = Atomic<Int>(0)
    let shedForDeadline = Atomic<Int>(0)
    /// EWMA of successful call durations, in nanoseconds (0 before the first).
    let typicalNanos = Atomic<Int>(0)
    /// The longest a call waits in the queue, in seconds (0: no queue).
    let queueBudget: Double
    /// Whether a queued call's wait is also cut to a typical call's duration (``maxWait``).
    let capWaitAtTypicalCall: Bool
    /// Calls waiting for a slot, with when they queued (seconds) and how to resume them.
    let waiting: Mutex<DeadlineQueue<Waiting>>
    /// Mirrors `waiting.count`, so that the hot path reads it without the lock.
    let queued = Atomic<Int>(0)
    /// A look at the queue is scheduled (see `armExpiry`).
    let expiryArmed = Atomic<Bool>(false)
    /// When a call was last queued or shed (``MonotonicTime`` nanoseconds): saturation is reported until 100 ms after.
    let lastPressureNanos = Atomic<Int>(Int.min / 2)
    /// The `aimass_gate_*` metrics.
    let metrics = GateMetrics()

    struct Waiting: Sendable {
        var waiter: CallGateWaiter
        var priority: Int
        var deadline: Double?
        var queuedAt: Double
    }

    /// A gate for the methods whose full paths are in `gatedPaths` (`/package.Service/Method`).
    ///
    /// - Parameters:
    ///   - configuration: The limiter's; its queue is ignored (set to 0): the gate runs on the I/O thread and
    ///     cannot wait.
    ///   - waitBudget: A call is also shed while the calls in flight, each lasting the typical (EWMA) call duration,
    ///     would keep it waiting this long or more on each of `cores` cores (times its class's share: a critical
    ///     call may wait longer than a batch one); `nil` for no such bound.
    ///   - queueBudget: The longest a call may wait in the queue for a slot (a deadline can only shorten it); zero
    ///     or `nil` for no queue (calls over the limit are shed at once).
    ///   - capWaitAtTypicalCall: Whether a wait is also cut to a typical call's duration (``QueueBudget``).
    ///   - queueCapacity: The most calls that wait at once.
    public init(
        gatedPaths: Set<String>, configuration: AdmissionController.Configuration, waitBudget: Duration? = nil,
        cores: Int = 1, queueBudget: Duration? = nil, capWaitAtTypicalCall: Bool = true, queueCapacity: Int = 4096
    ) {
        self.queueBudget = Double(max(queueBudget?.saturatingNanoseconds ?? 0, 0)) / 1e9
        self.capWaitAtTypicalCall = capWaitAtTypicalCall
        self.waiting = Mutex(DeadlineQueue(capacity: queueCapacity))
        var configuration = configuration
        configuration.queueCapacity = 0
        configuration.maxQueueWait = 0
        self.admission = AdmissionController(configuration: configuration)
        self.paths = gatedPaths
        self.classShares = configuration.classShares.isEmpty ? [1] : configuration.classShares
        self.budgetNanos = Double(waitBudget?.saturatingNanoseconds ?? 0) * Double(max(cores, 1))
        self.cores = max(cores, 1)
    }

    /// The gate of a worker (and of the embedded platform): `aimass.v1.Recommend`'s inference methods (Recommend and
    /// SimilarItems) and the Open Inference Protocol's ModelInfer are gated; nothing else is (health, the registry,
    /// `Scheduler/Join`, `Mesh/Watch`, Evaluate).
    ///
    /// Two bounds, whichever is lower (`cores`: by default the CPUs this process may run on, see
    /// ``InferenceExecutor/usableCores``):
    /// - a wait budget of 5 ms per core: calls in flight × their typical duration must stay under 5 ms × `cores`
    ///   (normal calls 80 % of it), so about 8 cheap calls (0.5 ms each under load) but 2 heavy ones (1.5 ms, whose
    ///   duration grows with each other call in flight) per core are admitted at once;
    /// - the gradient limit, from 32 calls per core, never below 16 per core.
    ///
    /// Why not the gradient alone: cheap calls' latency jitters by several times its minimum (event-loop batches,
    /// thread wake-ups), which the gradient reads as congestion, so under load it sits at its floor, and no floor
    /// suits both kinds of model. In the overload benchmark (docs/scheduler.md) a floor of 4 per core shed bursts of
    /// cheap calls the server had CPU for (goodput 3567/s at 1.5× capacity, server 48 % busy, against 15029/s
    /// without the gate), and a floor of 16 let heavy calls that hold their thread queue (admitted p99 8× unloaded);
    /// with the budget, 1.6× (5 ms) or 2.0× (10 ms).
    /// Calls over these bounds wait up to `queueBudget` (5 ms by default) in the queue when they can start in time.
    public static func recommendInference(
        cores: Int = InferenceExecutor.usableCores, queueBudget: Duration = .milliseconds(5)
    ) -> AdmissionCallGate {
        recommendInference(cores: cores, queueBudget: QueueBudget(limit: queueBudget, capsAtTypicalCall: true))
    }

    /// The gate of a worker whose queue waits `queueBudget` (see the other `recommendInference`).
    public static func recommendInference(
        cores: Int = InferenceExecutor.usableCores, queueBudget: QueueBudget
    ) -> AdmissionCallGate {
        let cores = max(cores, 1)
        let paths: Set<String> = [
            RecommendMethods.recommend.path, RecommendMethods.similarItems.path,
            GRPCInferenceServiceMethods.modelInfer.path,
        ]
        return AdmissionCallGate(
            gatedPaths: paths,
            configuration: .defaults {
                $0.initialLimit = 32 * cores
                $0.minLimit = 16 * cores
                $0.maxLimit = 256 * cores
            },
            waitBudget: .milliseconds(5), cores: cores, queueBudget: queueBudget.limit,
            capWaitAtTypicalCall: queueBudget.capsAtTypicalCall
        )
    }

    public func gates(_ method: MethodDescriptor) -> Bool { paths.contains(method.path) }

    public func admit(_ call: GatedCall) -> CallGateDecision<AdmissionTicket> {
        let priority = ReplicaModelSource.priority(call.metadata)
        let now = MonotonicTime.seconds(call.now)
        let deadline = call.deadline.map(MonotonicTime.seconds)
        // Calls already waiting go first: a newcomer of their class or lower queues behind them.
        let overtakes = queued.load(ordering: .relaxed) == 0 || waiting.withLock { ($0.first?.priority ?? -1) < priority }
        // Over the limit: why, should it be shed after all (its status is built only then).
        let overLimit: (code: AdmissionError.Code, retryAfter: Double)
        switch overtakes ? tryAdmit(priority: priority, deadline: deadline, now: now) : .rejected(.queueFull, retryAfter: 0) {
        case .admitted(let ticket):
            return .admit(ticket)
        case .rejected(let code, _) where code == .deadlineTooShort:
            return shed(code: code, retryAfter: typicalSeconds, now: now)
        case .rejected(let code, let retryAfter):
            overLimit = (code, retryAfter)
        case .queued:
            overLimit = (.queueFull, 0)
        }
        guard let waiter = call.waiter, let id = enqueue(waiter, priority: priority, deadline: deadline, now: now) else {
            return shed(code: overLimit.code, retryAfter: overLimit.retryAfter, now: now)
        }
        // A slot may have freed since `tryAdmit` (its call ended while the queue was still empty, so nothing
        // promoted): without this look, a call queued behind no running call would wait for nothing.
        promote(now: now)
        return .queued(CallGateQueueID(rawValue: id))
    }

    /// Admits a call now if a slot is free under both bounds (wait budget, then the limit).
    func tryAdmit(priority: Int, deadline: Double?, now: Double) -> AdmissionDecision {
        let typical = typicalNanos.load(ordering: .relaxed)
        if budgetNanos > 0, typical > 0 {
            let share = classShares[min(max(priority, 0), classShares.count - 1)]
            if Double(inFlight.load(ordering: .relaxed) * typical) >= budgetNanos * share {
                return .rejected(.queueFull, retryAfter: Double(typical) / 1e9)
            }
        }
        let decision = admission.admit(priority: priority, deadline: deadline, now: now)
        if case .admitted = decision {
            admitted.add(1, ordering: .relaxed)
            metrics.admitted.increment()
            inFlight.add(1, ordering: .relaxed)
            metrics.inFlight.increment()
        }
        return decision
    }

    public func callEnded(_ token: AdmissionTicket, outcome: GatedCallOutcome) {
        inFlight.subtract(1, ordering: .relaxed)
        metrics.inFlight.decrement()
        let nanos = Int(max(outcome.duration.saturatingNanoseconds, 0))
        let latency: Int
        if outcome.succeeded {
            let typical = typicalNanos.load(ordering: .relaxed)
            typicalNanos.store(typical == 0 ? nanos : typical + (nanos - typical) / 5, ordering: .relaxed)
            latency = nanos
        } else {
            latency = max(nanos, typicalNanos.load(ordering: .relaxed))
        }
        let now = MonotonicTime.now()
        admission.release(token, latency: Double(latency) / 1e9, now: now)
        if metrics.active { metrics.limit.record(admission.limit) }
        if queued.load(ordering: .relaxed) > 0 { promote(now: now) }
    }

    /// Calls admitted and shed so far.
    public var counters: Counters {
        Counters(
            admitted: admitted.load(ordering: .relaxed), shed: shed.load(ordering: .relaxed),
            shedForDeadline: shedForDeadline.load(ordering: .relaxed)
        )
    }

    /// The current concurrency limit.
    public var limit: Int { admission.limit }

    /// The typical (EWMA) duration of an admitted call, from its headers to its end; zero before the first one.
    public var typicalCallDuration: Duration { .nanoseconds(typicalNanos.load(ordering: .relaxed)) }

    /// In flight, limit, latency EWMA and shed rate since the previous call (for the worker's load report).
    public func loadReport(now: Double) -> SchedulerCore.AdmissionLoad { admission.loadReport(now: now) }

    /// `RESOURCE_EXHAUSTED` with `retry-after-ms`, said to come from the server rather than a replica.
    static func rpcError(code: AdmissionError.Code, retryAfter: Double) -> RPCError {
        var error = ReplicaModelSource.rpcError(AdmissionError(code: code, retryAfter: retryAfter))
        error.message =
            code == .deadlineTooShort
            ? "server overloaded: deadline shorter than the expected service time"
            : "server overloaded: at its concurrency limit"
        return error
    }
}
