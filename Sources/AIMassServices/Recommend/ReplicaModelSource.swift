import AIMassAPI
import RPCCore
import SchedulerCore

/// Serves calls from a worker's ready replicas (``ReplicaStore``), each call through the replica's
/// `AdmissionController` first, then on an ``InferenceExecutor`` thread.
///
/// - The caller is authorized, and the version to serve chosen, by `resolve` (a worker asks the control plane
///   whether the token can read the model; the embedded control plane asks its registry and resolves aliases).
/// - Priority comes from the `priority` request metadata (`batch`/`normal`/`critical` or `0`/`1`/`2`; default
///   normal), the deadline from `grpc-timeout`.
/// - A shed call fails at once with `RESOURCE_EXHAUSTED` and a `retry-after-ms` trailer; a call whose deadline
///   passed while queued with `DEADLINE_EXCEEDED`.
/// - With no ready replica of the model here, the call goes to `fallback`, or fails with `UNAVAILABLE`.
/// - The admitted query runs on `executor` (the process's shared one by default), or inline when the replica's
///   measured service time is under the executor's ``InferenceExecutor/inlineThreshold``; the latency admission
///   learns includes the wait for a thread, so a replica whose executor is saturated lowers its limit, and the
///   service time (on the thread) tells it how jittery the model is. With no executor (`nil`) every query runs
///   inline on the calling task, on the cooperative pool: only to measure what the hop costs.
public struct ReplicaModelSource: ModelSource {
    /// Authorizes a call and returns the version to serve (`nil`: the newest ready one).
    public typealias Resolver = @Sendable (_ model: String, _ selector: VersionSelector?, _ context: ServerContext) async throws -> UInt32?

    let store: ReplicaStore
    let resolve: Resolver
    let fallback: (any ModelSource)?
    let protection: Bool
    let executor: InferenceExecutor?

    /// Creates a source over `store`; `protection: false` skips admission control (for overload benchmarks only).
    public init(
        store: ReplicaStore, fallback: (any ModelSource)? = nil, protection: Bool = true,
        executor: InferenceExecutor? = .shared, resolve: @escaping Resolver
    ) {
        self.store = store
        self.fallback = fallback
        self.protection = protection
        self.executor = executor
        self.resolve = resolve
    }

    public func withModel<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) async throws -> T {
        guard !model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        let version = try await resolve(model, selector, context)
        guard let entry = store.begin(model: model, version: version), let recommender = entry.recommender else {
            if let fallback { return try await fallback.withModel(model, selector, context: context, body) }
            let which = version.map { " version \($0)" } ?? ""
            let worker = store.workerID.isEmpty ? "this worker" : "worker \(store.workerID)"
            throw RPCError(code: .unavailable, message: "no ready replica of model '\(model)'\(which) on \(worker)")
        }
        defer { store.finish(entry.id) }
        let served = ServedModel(
            recommender: recommender,
            servedBy: ServedBy(workerId: store.workerID, replicaId: entry.id, version: entry.version)
        )
        let deadline = context.deadline
        guard protection else { return try await run(deadline: deadline, entry: entry) { try body(served) }.0 }
        let admission = entry.admission
        let ticket: AdmissionTicket
        let decision = admission.admit(
            priority: Self.priority(context.requestMetadata),
            deadline: context.deadline.map(MonotonicTime.seconds),
            now: MonotonicTime.now()
        )
        switch decision {
        case .admitted(let admitted):
            ticket = admitted
        case .queued(let handle):
            do {
                ticket = try await admission.wait(for: handle)
            } catch let error as AdmissionError {
                throw Self.rpcError(error)
            }
        case .rejected(let code, let retryAfter):
            throw Self.rpcError(AdmissionError(code: code, retryAfter: retryAfter))
        }
        let start = MonotonicTime.now()
        do {
            // The service time (on the thread, without the wait for it) tells admission how jittery the model is.
            let (result, service) = try await run(deadline: deadline, entry: entry) { try body(served) }
            let end = MonotonicTime.now()
            admission.release(ticket, latency: end - start, serviceTime: service, now: end)
            return result
        } catch {
            let end = MonotonicTime.now()
            admission.release(ticket, latency: end - start, now: end)
            throw error
        }
    }

    /// Runs the query on the executor (inline when the replica's model is cheap, or without an executor); returns
    /// the result and the service time.
    private func run<T: Sendable>(
        deadline: ContinuousClock.Instant?,
        entry: ReplicaStore.Entry,
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> (T, service: Double) {
        guard let executor else { return try timed(work) }
        return try await executor.run(deadline: deadline, measuring: entry.serviceTime, work)
    }

    /// The priority class named by the `priority` metadata: 0 batch, 1 normal (default), 2 critical.
    public static func priority(_ metadata: Metadata) -> Int {
        guard let text = metadata.firstString(forKey: "priority")?.lowercased() else { return 1 }
        switch text {
        case "batch", "0", "low": return 0
        case "critical", "2", "high": return 2
        default: return 1
        }
    }

    /// The gRPC status of an admission rejection, with the `retry-after-ms` trailer.
    public static func rpcError(_ error: AdmissionError) -> RPCError {
        if error.code == .deadlineExceeded {
            return RPCError(code: .deadlineExceeded, message: error.code.description)
        }
        if error.code == .cancelled {
            return RPCError(code: .cancelled, message: error.code.description)
        }
        let seconds = error.retryAfter.isFinite ? min(max(error.retryAfter, 0), 60) : 1
        let millis = max(1, Int((seconds * 1000).rounded(.up)))
        return RPCError(
            code: .resourceExhausted,
            message: error.code.description,
            metadata: ["retry-after-ms": .string(String(millis))]
        )
    }
}
