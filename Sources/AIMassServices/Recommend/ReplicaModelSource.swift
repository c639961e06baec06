import AIMassAPI
import AIMassTracing
import RPCCore
import RecommendCore
import SchedulerCore
import Tracing

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

    /// What a resolver knows without waiting: the version to serve (`nil`: the newest ready one), or that it has to
    /// ask (for example the control plane, on a worker whose cache has no answer for this caller yet).
    public enum Resolution: Sendable, Hashable {
        /// The caller may read the model; serve this version (`nil`: the newest ready one).
        case version(UInt32?)
        /// Only ``Resolver`` can tell: the call continues as a task.
        case needsLookup
    }

    /// Authorizes a call and chooses its version without blocking, on the I/O thread.
    public typealias InlineResolver = @Sendable (_ model: String, _ selector: VersionSelector?, _ context: ServerContext) throws -> Resolution

    let store: ReplicaStore
    let resolve: Resolver
    let resolveNow: InlineResolver?
    let fallback: (any ModelSource)?
    let protection: Bool
    let executor: InferenceExecutor?

    /// Creates a source over `store`; `protection: false` skips admission control (for overload benchmarks only).
    ///
    /// - Parameters:
    ///   - resolveNow: Answers from memory when it can (a cache); without it every call starts as a task.
    ///   - resolve: The full answer, which may wait.
    public init(
        store: ReplicaStore, fallback: (any ModelSource)? = nil, protection: Bool = true,
        executor: InferenceExecutor? = .shared, resolveNow: InlineResolver? = nil, resolve: @escaping Resolver
    ) {
        self.store = store
        self.fallback = fallback
        self.protection = protection
        self.executor = executor
        self.resolveNow = resolveNow
        self.resolve = resolve
    }

    public func withModel<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) async throws -> T {
        guard !model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        let version = try await context.withAsyncSpan("authorize") { span in
            span?.attributes["aimass.model"] = model
            return try await resolve(model, selector, context)
        }
        guard let entry = store.begin(model: model, version: version), let recommender = entry.recommender else {
            if let fallback { return try await fallback.withModel(model, selector, context: context, body) }
            throw noReplica(model, version)
        }
        defer { store.finish(entry.id) }
        let served = servedModel(entry, recommender)
        guard protection else { return try await run(deadline: context.deadline, entry: entry) { try body(served) }.0 }
        let ticket: AdmissionTicket
        switch admit(entry, context: context) {
        case .admitted(let admitted):
            ticket = admitted
        case .queued(let handle):
            ticket = try await waitForTurn(handle, entry: entry, context: context)
        case .rejected(let code, let retryAfter):
            throw Self.rpcError(AdmissionError(code: code, retryAfter: retryAfter))
        }
        return try await runAdmitted(ticket, entry: entry, deadline: context.deadline) { try body(served) }
    }

    /// Serves on the I/O thread when the caller's answer is known (``InlineResolver``), a ready replica's model is
    /// cheap (its measured service time under the executor's ``InferenceExecutor/inlineThreshold``) and admission
    /// admits the call at once; a queued call, a heavy model or an unknown caller continues as a task (the first
    /// two keep the replica picked here).
    public func startServing<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) throws(RPCError) -> UnaryOutcome<T> {
        guard !model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        let resolution: Resolution
        do {
            resolution = try context.withSpan("authorize") { span in
                span?.attributes["aimass.model"] = model
                return try resolveNow?(model, selector, context) ?? .needsLookup
            }
        } catch {
            throw RPCError(mapping: error)
        }
        guard case .version(let version) = resolution else {
            return .continueAsync { try await withModel(model, selector, context: context, body) }
        }
        guard let entry = store.begin(model: model, version: version), let recommender = entry.recommender else {
            if let fallback { return try fallback.startServing(model, selector, context: context, body) }
            throw noReplica(model, version)
        }
        let served = servedModel(entry, recommender)
        let store = self.store
        let cheap = executor.map { entry.serviceTime.seconds < $0.inlineThreshold } ?? false
        guard protection else {
            guard cheap else {
                return .continueAsync {
                    defer { store.finish(entry.id) }
                    return try await run(deadline: context.deadline, entry: entry) { try body(served) }.0
                }
            }
            defer { store.finish(entry.id) }
            return .response(try runInline(entry) { try body(served) }.0)
        }
        switch admit(entry, context: context) {
        case .admitted(let ticket) where cheap:
            defer { store.finish(entry.id) }
            let start = MonotonicTime.now()
            do throws(RPCError) {
                let (result, service) = try runInline(entry) { try body(served) }
                let end = MonotonicTime.now()
                entry.admission.release(ticket, latency: end - start, serviceTime: service, now: end)
                entry.metrics.callEnded(seconds: end - start, succeeded: true, limit: entry.admission.limit)
                return .response(result)
            } catch {
                let end = MonotonicTime.now()
                entry.admission.release(ticket, latency: end - start, now: end)
                entry.metrics.callEnded(seconds: end - start, succeeded: false, limit: entry.admission.limit)
                throw error
            }
        case .admitted(let ticket):
            return .continueAsync {
                defer { store.finish(entry.id) }
                return try await runAdmitted(ticket, entry: entry, deadline: context.deadline) { try body(served) }
            }
        case .queued(let handle):
            return .continueAsync {
                defer { store.finish(entry.id) }
                let ticket = try await waitForTurn(handle, entry: entry, context: context)
                return try await runAdmitted(ticket, entry: entry, deadline: context.deadline) { try body(served) }
            }
        case .rejected(let code, let retryAfter):
            store.finish(entry.id)
            throw Self.rpcError(AdmissionError(code: code, retryAfter: retryAfter))
        }
    }

    private func servedModel(_ entry: ReplicaStore.Entry, _ recommender: Recommender) -> ServedModel {
        ServedModel(recommender: recommender, servedBy: ServedBy(workerId: store.workerID, replicaId: entry.id, version: entry.version))
    }

    private func noReplica(_ model: String, _ version: UInt32?) -> RPCError {
        let which = version.map { " version \($0)" } ?? ""
        let worker = store.workerID.isEmpty ? "this worker" : "worker \(store.workerID)"
        return RPCError(code: .unavailable, message: "no ready replica of model '\(model)'\(which) on \(worker)")
    }

    /// Admission's decision on a call to a replica, counted in its metrics; the call is annotated with the model and
    /// version for its access-log line.
    private func admit(_ entry: ReplicaStore.Entry, context: ServerContext) -> AdmissionDecision {
        context.annotate("model", entry.model)
        context.annotate("version", entry.metrics.versionLabel)
        let decision = entry.admission.admit(
            priority: Self.priority(context.requestMetadata),
            deadline: context.deadline.map(MonotonicTime.seconds),
            now: MonotonicTime.now()
        )
        entry.metrics.record(decision)
        return decision
    }

    private func waitForTurn(
        _ handle: AdmissionWaitHandle, entry: ReplicaStore.Entry, context: ServerContext
    ) async throws -> AdmissionTicket {
        let queuedAt = MonotonicTime.now()
        do {
            let ticket = try await context.withAsyncSpan("admission.wait") { span in
                span?.attributes["aimass.model"] = entry.model
                span?.attributes["aimass.version"] = Int64(entry.version)
                return try await entry.admission.wait(for: handle)
            }
            entry.metrics.admittedFromQueue(after: MonotonicTime.now() - queuedAt)
            return ticket
        } catch let error as AdmissionError {
            entry.metrics.leftQueue(error)
            throw Self.rpcError(error)
        }
    }

    /// Runs an admitted call's query (inline or on the executor) and hands its ticket back with what it took.
    private func runAdmitted<T: Sendable>(
        _ ticket: AdmissionTicket, entry: ReplicaStore.Entry, deadline: ContinuousClock.Instant?,
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let start = MonotonicTime.now()
        do {
            // The service time (on the thread, without the wait for it) tells admission how jittery the model is.
            let (result, service) = try await run(deadline: deadline, entry: entry, work)
            let end = MonotonicTime.now()
            entry.admission.release(ticket, latency: end - start, serviceTime: service, now: end)
            entry.metrics.callEnded(seconds: end - start, succeeded: true, limit: entry.admission.limit)
            return result
        } catch {
            let end = MonotonicTime.now()
            entry.admission.release(ticket, latency: end - start, now: end)
            entry.metrics.callEnded(seconds: end - start, succeeded: false, limit: entry.admission.limit)
            throw error
        }
    }

    /// Runs a cheap query on the calling thread, recording its service time; errors as gRPC statuses.
    private func runInline<T>(_ entry: ReplicaStore.Entry, _ work: () throws -> T) throws(RPCError) -> (T, service: Double) {
        do {
            let outcome = try timed(work)
            entry.serviceTime.record(outcome.service)
            return outcome
        } catch {
            throw RPCError(mapping: error)
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
