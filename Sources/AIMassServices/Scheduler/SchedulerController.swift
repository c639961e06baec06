import AIMassAPI
import Logging
import MeshCore
import ModelRegistry
import RPCCore
import SchedulerCore
import Synchronization

/// The control plane's scheduler: the pool's pure state (`SchedulerCore.SchedulerState` and its
/// `PoolAutoscaler`) behind a lock, driven by the gRPC service (deploy, scale, worker streams) and by a periodic
/// tick (lease expiry, autoscaling, retried placements).
///
/// Every event turns into `SchedulerAction`s that are carried out at once: placements and removals go down the
/// worker's Join stream (its ``WorkerSession`` outbox), and the changes of the pool's published view
/// (`PoolView.changes(since:departures:)`) are published to the ``MeshHub`` (WORKER_JOINED/LEFT, HEALTH_CHANGED,
/// LOAD_REPORTED, REPLICA_PLACED/READY/DRAINING/REMOVED, DEPLOYMENT_SCALED). Nothing here suspends while holding
/// the lock.
public final class SchedulerController: Sendable {
    /// Tunables of the control plane.
    public struct Configuration: Sendable {
        /// Seconds without a message from a worker before it is declared gone (default 5).
        public var lease: Double
        /// How often leases, autoscaling and pending placements are re-examined (default 500 ms).
        public var tickInterval: Duration
        /// Failures in a row after which a deployment is FAILED (default 5).
        public var maxConsecutiveFailures: Int
        /// Autoscaler windows and thresholds (Knative defaults).
        public var autoscaler: Autoscaler.Configuration
        /// After a restart with persisted desired state: the longest placement waits for the workers known before
        /// to rejoin (seconds, default 10; it ends as soon as all of them are back).
        public var restartGrace: Double

        /// Creates a configuration.
        public init(
            lease: Double = 5, tickInterval: Duration = .milliseconds(500), maxConsecutiveFailures: Int = 5,
            autoscaler: Autoscaler.Configuration = .defaults, restartGrace: Double = 10
        ) {
            self.lease = lease
            self.tickInterval = tickInterval
            self.maxConsecutiveFailures = maxConsecutiveFailures
            self.autoscaler = autoscaler
            self.restartGrace = restartGrace
        }

        /// Creates a configuration with the default autoscaler thresholds but its own stable and panic windows in
        /// seconds (`aimass serve --autoscale-stable-ms/--autoscale-panic-ms`, for demos and tests).
        public init(
            lease: Double = 5, tickInterval: Duration = .milliseconds(500), maxConsecutiveFailures: Int = 5,
            autoscalerStableWindow: Double, autoscalerPanicWindow: Double
        ) {
            var autoscaler = Autoscaler.Configuration.defaults
            autoscaler.stableWindow = autoscalerStableWindow
            autoscaler.panicWindow = autoscalerPanicWindow
            self.init(
                lease: lease, tickInterval: tickInterval, maxConsecutiveFailures: maxConsecutiveFailures, autoscaler: autoscaler
            )
        }

        /// A 5 s lease, a 500 ms tick, 5 failures, Knative autoscaler windows.
        public static var defaults: Self { Self() }
    }

    /// What a worker needs to fetch and check a version's artifact.
    public struct ArtifactInfo: Sendable, Hashable {
        /// SHA-256 of the artifact, lowercase hex.
        public var sha256: String
        /// Size in bytes.
        public var sizeBytes: Int64
        /// The version's effective manifest.
        public var manifest: [String: String]

        /// Creates the description of an artifact.
        public init(sha256: String, sizeBytes: Int64, manifest: [String: String]) {
            self.sha256 = sha256
            self.sizeBytes = sizeBytes
            self.manifest = manifest
        }
    }

    /// Finds the artifact of a model version (used when an alias moves).
    public typealias ArtifactLookup = @Sendable (_ model: String, _ version: UInt32) throws -> ArtifactInfo

    /// A message for a worker's Join stream, or the end of the stream.
    public enum Outbound: Sendable {
        /// Send this message.
        case message(JoinResponse)
        /// End the stream with this status.
        case close(RPCError)
    }

    struct Session: Sendable {
        let serial: UInt64
        let outbox: AsyncStream<Outbound>.Continuation
        var connected: Bool
    }

    struct State: Sendable {
        var core: SchedulerState
        var autoscaling: PoolAutoscaler
        var artifacts: [String: ArtifactInfo] = [:]
        var sessions: [WorkerID: Session] = [:]
        /// Why each worker gone since the last publication left (for its WORKER_LEFT event).
        var departures: [WorkerID: WorkerLossReason] = [:]
        /// What the Mesh was last told.
        var published = PoolView()
        var nextWorker = 1
        var nextSession: UInt64 = 1
        var stopped = false
        /// When the last tick ran (monotonic seconds): a much later tick means the controller was stalled.
        var lastTick: Double?
        /// What the store holds (see ``persist(_:)``).
        var persisted = Durable()
        /// The access rules workers authorize with (``publishGrants(_:)``); nil before the first.
        var grants: AccessGrants?
    }

    let state: Mutex<State>
    /// The hub the pool's changes are published to.
    public let mesh: MeshHub
    /// The tunables.
    public let configuration: Configuration
    let lookup: ArtifactLookup
    /// Where deployments, drains and cordons are persisted; nil keeps them in memory only.
    let store: (any DesiredStateStore)?
    let logger: Logger
    /// Seconds from the monotonic clock to Unix time (the published view's clock).
    let clockOffset: Double
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    /// Creates a controller; call ``restore()`` (with a `store`) and then ``start()`` to run its periodic tick.
    ///
    /// With a `store`, every change of deployments, drains and cordons is written to it before it takes effect.
    public init(
        configuration: Configuration = .defaults, mesh: MeshHub, store: (any DesiredStateStore)? = nil,
        logger: Logger = Logger(label: "aimass.scheduler"), lookup: @escaping ArtifactLookup
    ) {
        self.configuration = configuration
        self.store = store
        self.mesh = mesh
        self.lookup = lookup
        self.logger = logger
        self.clockOffset = Double(MeshHub.unixMilliseconds()) / 1000 - MonotonicTime.now()
        var core = SchedulerState(
            configuration: .init(lease: configuration.lease, maxConsecutiveFailures: configuration.maxConsecutiveFailures)
        )
        // The start time (Unix ms): greater after a restart unless the clock went back; ``restore()`` raises it above
        // the store's persisted counter.
        core.epoch = UInt64(max(MeshHub.unixMilliseconds(), 1))
        var state = State(core: core, autoscaling: PoolAutoscaler(configuration: configuration.autoscaler))
        // A hub restored from a previous leader's journal already tells watchers about the pool: changes are
        // published relative to that (empty for a new hub).
        state.published = PoolView(mesh.state)
        self.state = Mutex(state)
    }

    /// Starts the periodic tick.
    public func start() {
        let interval = configuration.tickInterval
        // On the blocking executor, not Swift's cooperative pool: a tick persists through the store, which with etcd
        // may wait out a silent member for seconds, holding the thread it runs on.
        let task = Task(executorPreference: BlockingTaskExecutor.shared) { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                self.tick()
            }
        }
        ticker.withLock { $0 = task }
    }

    /// Stops the tick and ends every worker stream with `UNAVAILABLE` (workers reconnect later).
    public func shutdown() {
        ticker.withLock { $0?.cancel() }
        let sessions = state.withLock { s -> [Session] in
            s.stopped = true
            defer { s.sessions = [:] }
            return Array(s.sessions.values)
        }
        for session in sessions {
            session.outbox.yield(.close(RPCError(code: .unavailable, message: "control plane shutting down: reconnect later")))
            session.outbox.finish()
        }
    }

    // MARK: Deployments

    /// Creates a deployment (its replicas are placed as capacity allows; a shortfall leaves it PENDING).
    public func deploy(_ spec: DeploymentSpec, selector: AIMassAPI.VersionSelector, artifact: ArtifactInfo) throws -> SchedulerCore.Deployment {
        var spec = spec
        spec.selector = DeploymentSpec.Selector(selector)
        try mutate(strict: true) { s, now in
            let actions = try s.core.deploy(spec, now: now)
            s.artifacts[Self.key(spec.model, spec.version)] = artifact
            return actions
        }
        // A deployment of an alias that already has an A/B split holds its challenger from the start.
        if !spec.selector.alias.isEmpty, let grants = state.withLock({ $0.grants }) { applySplits(grants) }
        return try existing(spec.id)
    }

    /// Undeploys: replicas drain and are removed; returns the deployment in state DELETING.
    public func undeploy(_ id: DeploymentID) throws -> SchedulerCore.Deployment {
        var before = try existing(id)
        try mutate(strict: true) { s, now in try s.core.undeploy(id, now: now) }
        before = deployment(id) ?? before
        before.state = .deleting
        return before
    }

    /// Changes the bounds and/or the desired count (`nil` = unchanged).
    public func scale(_ id: DeploymentID, min: Int?, max: Int?, desired: Int?) throws -> SchedulerCore.Deployment {
        try mutate(strict: true) { s, now in
            try s.core.scale(id, minReplicas: min, maxReplicas: max, desiredReplicas: desired, now: now)
        }
        return try existing(id)
    }

    /// An alias moved: every deployment following it rolls to `version` (new replicas first, then old ones drain).
    ///
    /// - Returns: the ids of the deployments that roll.
    @discardableResult
    public func aliasMoved(model: String, alias: String, version: UInt32) -> [DeploymentID] {
        let following = state.withLock { s in
            s.core.allDeployments.filter {
                $0.spec.model == model && $0.spec.selector.alias == alias && $0.spec.version != version
                    && $0.state != .deleting
            }.map(\.spec.id)
        }
        guard !following.isEmpty, version > 0 else { return [] }
        let artifact: ArtifactInfo
        do {
            artifact = try lookup(model, version)
        } catch {
            logger.warning("alias moved but the version cannot be read", metadata: ["model": "\(model)", "error": "\(error)"])
            return []
        }
        var rolled: [DeploymentID] = []
        for id in following {
            do {
                try mutate(strict: true) { s, now in
                    s.artifacts[Self.key(model, version)] = artifact
                    return try s.core.roll(id, to: version, now: now)
                }
                rolled.append(id)
            } catch {
                logger.warning("roll failed", metadata: ["deployment": "\(id)", "error": "\(error)"])
            }
        }
        return rolled
    }

    /// The first deployment (not being deleted) whose version, or one of whose replicas, is `version` of `model`
    /// (any version for 0), described for an error message; nil when none uses it.
    public func deploymentServing(model: String, version: UInt32) -> String? {
        let user = state.withLock { s in
            s.core.allDeployments.first {
                $0.spec.model == model && $0.state != .deleting
                    && (version == 0 || $0.spec.version == version || $0.replicas.contains { $0.version == version })
            }
        }
        return user.map { "deployment \($0.spec.id)" }
    }

    /// One deployment with its replicas.
    public func deployment(_ id: DeploymentID) -> SchedulerCore.Deployment? {
        state.withLock { $0.core.deployment(id) }
    }

    /// Every deployment, ordered by id.
    public var deployments: [SchedulerCore.Deployment] { state.withLock { $0.core.allDeployments } }

    /// The fencing epoch every placement of this control plane carries (see `SchedulerState.epoch`).
    public var epoch: UInt64 { state.withLock { $0.core.epoch } }

    /// The selector a deployment was made with (a pinned number or a followed alias).
    public func selector(of id: DeploymentID) -> AIMassAPI.VersionSelector? {
        deployment(id).map { AIMassAPI.VersionSelector($0.spec.selector) }
    }

    // MARK: Internals

    func existing(_ id: DeploymentID) throws -> SchedulerCore.Deployment {
        guard let deployment = deployment(id) else {
            throw SchedulerError(code: .notFound, message: "deployment \(id) not found")
        }
        return deployment
    }

    /// Runs one event under the lock, persists the desired state it changed, then carries out its actions and
    /// publishes what changed.
    ///
    /// With `strict` (operator requests), a change that cannot be persisted is refused (`UNAVAILABLE`) and leaves
    /// the state as it was; otherwise (worker streams) the failure is logged and the write retried later.
    func mutate(strict: Bool = false, _ body: (inout State, Double) throws -> [SchedulerAction]) throws {
        try state.withLock { s in
            let now = MonotonicTime.now()
            var next = s
            let actions = try body(&next, now)
            if strict { try persist(&next) } else { persistOrLog(&next) }
            s = next
            perform(actions, &s)
            publishChanges(&s)
        }
    }

    static func key(_ model: String, _ version: UInt32) -> String { "\(model)@\(version)" }
}

extension SchedulerError: RPCErrorConvertible {
    /// The gRPC status a scheduler error is reported as.
    public var rpcError: RPCError {
        let status: StatusCode =
            switch code {
            case .invalidArgument: .invalidArgument
            case .notFound: .notFound
            case .alreadyExists: .alreadyExists
            case .failedPrecondition: .failedPrecondition
            default: .internalError
            }
        return RPCError(code: status, message: message)
    }
}
