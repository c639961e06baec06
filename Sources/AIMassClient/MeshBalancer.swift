import AIMassAPI
import Logging
import RPCCore
import RPCHTTP2
import Synchronization

/// A mesh-aware client load balancer: routes each call for a model to a worker that holds a READY replica of it and
/// is SERVING, as seen by a ``MeshWatcher``.
///
/// - **Power of two choices** between two random eligible workers, on a score from the worker's reported load
///   (queue depth, latency EWMA) and the client's own latency EWMA and outstanding calls.
/// - **Outlier ejection**: after ``Configuration/ejectAfterFailures`` consecutive failures a worker gets no calls
///   for a pause that doubles on each ejection (if every worker is ejected, they are used anyway).
/// - **Draining** or not-serving workers, and workers without a ready replica, get no new calls.
/// - **Retries**: an `UNAVAILABLE` or shed (`RESOURCE_EXHAUSTED`) call of an idempotent method is retried once on
///   another worker, within a retry budget (a token bucket refilled by a fraction of the calls).
/// - **Deadlines**: each attempt carries the time left before the caller's deadline, not the original timeout.
///
/// ```swift
/// let balancer = MeshBalancer(controlPlanes: ["cp:50051"], watcher: .defaults { $0.token = token })
/// Task { await balancer.run() }
/// let reply: RecommendResponse = try await balancer.unary(
///     model: "movies", method: RecommendMethods.recommend, request: request, options: CallOptions(timeout: .seconds(1)))
/// ```
public final class MeshBalancer: Sendable {
    /// Tuning of the balancer.
    public struct Configuration: Sendable {
        /// Consecutive failures that eject a worker.
        public var ejectAfterFailures: Int
        /// First ejection pause; doubles with each further ejection up to ``maxEjection``.
        public var baseEjection: Duration
        /// Longest ejection pause.
        public var maxEjection: Duration
        /// Retry tokens earned per call (0.2 = retries may add 20 % to the calls).
        public var retryBudgetRatio: Double
        /// Most retry tokens kept (and the tokens at start).
        public var retryBudgetCap: Double
        /// Weight of a new latency sample in the client's EWMA.
        public var latencyAlpha: Double
        /// After this long without a sample the client's latency of a worker is no longer trusted over its report.
        public var latencyStaleAfter: Duration
        /// Methods safe to retry (full paths); Recommend and SimilarItems by default.
        public var idempotentMethods: Set<String>
        /// Options of the worker connections.
        public var client: ClientConfiguration

        /// Eject after 3 failures for 1 s … 30 s, a 20 % retry budget capped at 10 tokens, EWMA weight 0.3.
        public static var defaults: Configuration {
            Configuration(
                ejectAfterFailures: 3, baseEjection: .seconds(1), maxEjection: .seconds(30), retryBudgetRatio: 0.2,
                retryBudgetCap: 10, latencyAlpha: 0.3, latencyStaleAfter: .seconds(2),
                idempotentMethods: [RecommendMethods.recommend.path, RecommendMethods.similarItems.path],
                client: .defaults { $0.initialBackoff = .milliseconds(50) })
        }

        /// The defaults, changed by `configure`.
        public static func defaults(configure: (inout Configuration) -> Void) -> Configuration {
            var configuration = Configuration.defaults
            configure(&configuration)
            return configuration
        }

        /// Creates a configuration.
        public init(
            ejectAfterFailures: Int, baseEjection: Duration, maxEjection: Duration, retryBudgetRatio: Double,
            retryBudgetCap: Double, latencyAlpha: Double, latencyStaleAfter: Duration, idempotentMethods: Set<String>,
            client: ClientConfiguration
        ) {
            self.ejectAfterFailures = ejectAfterFailures
            self.baseEjection = baseEjection
            self.maxEjection = maxEjection
            self.retryBudgetRatio = retryBudgetRatio
            self.retryBudgetCap = retryBudgetCap
            self.latencyAlpha = latencyAlpha
            self.latencyStaleAfter = latencyStaleAfter
            self.idempotentMethods = idempotentMethods
            self.client = client
        }
    }

    /// The configuration it was made with.
    public let configuration: Configuration
    /// The watcher whose view it routes on.
    public let watcher: MeshWatcher
    private let state: SharedState
    private let clients: WorkerClients
    private let maintenance: BalancerMaintenance

    /// A balancer on a watcher that someone else runs.
    public convenience init(watcher: MeshWatcher, configuration: Configuration = .defaults, logger: Logger = Logger(label: "aimass.balancer")) {
        self.init(watcher: watcher, owns: false, configuration: configuration, logger: logger)
    }

    /// A balancer with its own watcher on `controlPlanes` (`host:port`); ``run()`` runs it, ``close()`` closes it.
    public convenience init(
        controlPlanes: [String], watcher watcherConfiguration: MeshWatcher.Configuration = .defaults,
        configuration: Configuration = .defaults, logger: Logger = Logger(label: "aimass.balancer")
    ) {
        let watcher = MeshWatcher(controlPlanes: controlPlanes, configuration: watcherConfiguration, logger: logger)
        self.init(watcher: watcher, owns: true, configuration: configuration, logger: logger)
    }

    private init(watcher: MeshWatcher, owns: Bool, configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.watcher = watcher
        let state = SharedState(BalancerState(tokens: configuration.retryBudgetCap))
        self.state = state
        self.clients = WorkerClients(configuration: configuration.client, logger: logger)
        self.maintenance = BalancerMaintenance(
            watcher: watcher, ownsWatcher: owns, clients: clients, subscription: watcher.addSubscriber()
        ) { view in
            state.mutex.withLock { $0.forget(except: Set(view.workers.keys)) }
        }
    }

    /// Follows the mesh (and runs the watcher if it owns it) until ``close()``.
    public func run() async { await maintenance.run() }

    /// Stops: ends ``run()``, closes the worker connections (and its own watcher).
    public func close() async { await maintenance.close() }

    /// The worker the next call for `model` would go to; nil when no serving worker holds a ready replica.
    public func pick(model: String) -> Endpoint? {
        choose(model: model, excluding: [], reserve: false)
    }

    /// Ids of the workers currently ejected.
    public var ejectedWorkers: Set<String> {
        state.mutex.withLock { $0.ejected(now: .now) }
    }

    /// Retry tokens left in the budget.
    public var retryTokens: Double { state.mutex.withLock { $0.tokens } }

    /// A unary call for `model`: pick, call with the time left before the deadline, and retry once on another worker
    /// when the method is idempotent, the failure is `UNAVAILABLE` or `RESOURCE_EXHAUSTED`, and the budget allows.
    ///
    /// - Parameter deadline: when the call must end by; default now + `options.timeout`.
    /// - Throws: ``RPCError``: the call's own (also when a retry finds no other worker), or `UNAVAILABLE` when no
    ///   worker is eligible.
    public func unary<Request: WireMessage, Response: WireMessage>(
        model: String, method: MethodDescriptor, request: Request, options: CallOptions = .defaults,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> Response {
        let deadline = CallDeadline.deadline(deadline, options: options)
        let ratio = configuration.retryBudgetRatio
        let cap = configuration.retryBudgetCap
        state.mutex.withLock { $0.tokens = min(cap, $0.tokens + ratio) }
        var excluded = Set<String>()
        var lastFailure: RPCError?
        while true {
            guard let endpoint = choose(model: model, excluding: excluded, reserve: true) else {
                // No other worker to retry on: the caller gets the failure it had, not a misleading "no worker".
                if let lastFailure { throw lastFailure }
                throw RPCError(code: .unavailable, message: "no serving worker holds a ready replica of \(model)")
            }
            let started = ContinuousClock.now
            do {
                let attemptOptions = try CallDeadline.options(options, deadline: deadline)
                let client = try clients.client(for: endpoint)
                let response: Response = try await client.unary(method, request: request, options: attemptOptions)
                record(endpoint, .success(ContinuousClock.now - started))
                return response
            } catch {
                let failure = RPCError(mapping: error)
                record(endpoint, .failure(failure.code, ContinuousClock.now - started))
                guard excluded.isEmpty, [.unavailable, .resourceExhausted].contains(failure.code),
                    configuration.idempotentMethods.contains(method.path), !Task.isCancelled,
                    deadline.map({ ContinuousClock.now < $0 }) ?? true,
                    state.mutex.withLock({ $0.takeRetryToken() })
                else { throw failure }
                excluded.insert(endpoint.workerId)
                lastFailure = failure
            }
        }
    }

    private func choose(model: String, excluding: Set<String>, reserve: Bool) -> Endpoint? {
        let workers = watcher.withView { $0.eligibleWorkers(model: model) }.filter { !excluding.contains($0.id) }
        guard !workers.isEmpty else { return nil }
        let configuration = self.configuration
        return state.mutex.withLock { state in
            state.choose(among: workers, now: .now, configuration: configuration, reserve: reserve)
        }
    }

    private func record(_ endpoint: Endpoint, _ outcome: BalancerState.Outcome) {
        let configuration = self.configuration
        state.mutex.withLock { $0.record(endpoint.workerId, outcome, now: .now, configuration: configuration) }
    }
}

/// The balancer's state behind a lock, in a reference that the maintenance task shares.
final class SharedState: Sendable {
    let mutex: Mutex<BalancerState>

    init(_ state: BalancerState) {
        self.mutex = Mutex(state)
    }
}
