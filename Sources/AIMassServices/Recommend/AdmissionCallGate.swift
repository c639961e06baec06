import RPCCore
import SchedulerCore
import Synchronization

/// Overload protection for a whole server, at the transport: a ``ServerCallGate`` backed by an
/// `AdmissionController` (gradient concurrency limit learnt from call latency, priority classes from the
/// `priority` metadata, deadline-aware rejection), with no queue: a call over the limit is shed at once.
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

    private let admission: AdmissionController
    private let paths: Set<String>
    private let classShares: [Double]
    /// `waitBudget × cores`, in nanoseconds (0: no budget).
    private let budgetNanos: Double
    private let inFlight = Atomic<Int>(0)
    private let admitted = Atomic<Int>(0)
    private let shed = Atomic<Int>(0)
    private let shedForDeadline = Atomic<Int>(0)
    /// EWMA of successful call durations, in nanoseconds (0 before the first).
    private let typicalNanos = Atomic<Int>(0)

    /// A gate for the methods whose full paths are in `gatedPaths` (`/package.Service/Method`).
    ///
    /// - Parameters:
    ///   - configuration: The limiter's; its queue is ignored (set to 0): the gate runs on the I/O thread and
    ///     cannot wait.
    ///   - waitBudget: A call is also shed while the calls in flight, each lasting the typical (EWMA) call duration,
    ///     would keep it waiting this long or more on each of `cores` cores (times its class's share: a critical
    ///     call may wait longer than a batch one); `nil` for no such bound.
    public init(
        gatedPaths: Set<String>, configuration: AdmissionController.Configuration, waitBudget: Duration? = nil,
        cores: Int = 1
    ) {
        var configuration = configuration
        configuration.queueCapacity = 0
        configuration.maxQueueWait = 0
        self.admission = AdmissionController(configuration: configuration)
        self.paths = gatedPaths
        self.classShares = configuration.classShares.isEmpty ? [1] : configuration.classShares
        self.budgetNanos = Double(waitBudget?.saturatingNanoseconds ?? 0) * Double(max(cores, 1))
    }

    /// The gate of a worker (and of the embedded platform): `aimass.v1.Recommend`'s inference methods (Recommend and
    /// SimilarItems) are gated; nothing else is (health, the registry, `Scheduler/Join`, `Mesh/Watch`, Evaluate).
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
    public static func recommendInference(cores: Int = InferenceExecutor.usableCores) -> AdmissionCallGate {
        let cores = max(cores, 1)
        let paths: Set<String> = ["Recommend", "SimilarItems"].map {
            MethodDescriptor(service: RecommendService.serviceName, method: $0).path
        }.reduce(into: []) { $0.insert($1) }
        return AdmissionCallGate(
            gatedPaths: paths,
            configuration: .defaults {
                $0.initialLimit = 32 * cores
                $0.minLimit = 16 * cores
                $0.maxLimit = 256 * cores
            },
            waitBudget: .milliseconds(5), cores: cores
        )
    }

    public func gates(_ method: MethodDescriptor) -> Bool { paths.contains(method.path) }

    public func admit(_ call: GatedCall) -> CallGateDecision<AdmissionTicket> {
        let priority = ReplicaModelSource.priority(call.metadata)
        let typical = typicalNanos.load(ordering: .relaxed)
        if budgetNanos > 0, typical > 0 {
            let share = classShares[min(max(priority, 0), classShares.count - 1)]
            if Double(inFlight.load(ordering: .relaxed) * typical) >= budgetNanos * share {
                shed.add(1, ordering: .relaxed)
                return .reject(Self.rpcError(code: .queueFull, retryAfter: Double(typical) / 1e9))
            }
        }
        let decision = admission.admit(
            priority: priority,
            deadline: call.deadline.map(MonotonicTime.seconds),
            now: MonotonicTime.seconds(call.now)
        )
        switch decision {
        case .admitted(let ticket):
            admitted.add(1, ordering: .relaxed)
            inFlight.add(1, ordering: .relaxed)
            return .admit(ticket)
        case .rejected(let code, let retryAfter):
            shed.add(1, ordering: .relaxed)
            if code == .deadlineTooShort { shedForDeadline.add(1, ordering: .relaxed) }
            return .reject(Self.rpcError(code: code, retryAfter: retryAfter))
        case .queued:
            // Unreachable: the queue capacity is 0 (see init), so the controller never queues.
            shed.add(1, ordering: .relaxed)
            return .reject(Self.rpcError(code: .queueFull, retryAfter: 0))
        }
    }

    public func callEnded(_ token: AdmissionTicket, outcome: GatedCallOutcome) {
        inFlight.subtract(1, ordering: .relaxed)
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
    public func loadReport(now: Double) -> LoadReport { admission.loadReport(now: now) }

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
