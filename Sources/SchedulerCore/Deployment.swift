/// What a user asked for: a model version kept running as replicas on the pool.
public struct DeploymentSpec: Hashable, Sendable {
    /// A version by number or by alias (`aimass.v1.VersionSelector`).
    public struct Selector: Sendable, Hashable {
        /// Version number; 0 = not set.
        public var number: UInt32
        /// Alias; empty = not set.
        public var alias: String

        /// Creates a selector.
        public init(number: UInt32 = 0, alias: String = "") {
            self.number = number
            self.alias = alias
        }
    }

    /// Deployment id (`MODEL@SELECTOR`).
    public var id: DeploymentID
    /// Model name.
    public var model: String
    /// The version the selector resolves to now; new replicas get it.
    public var version: UInt32
    /// What was deployed: a pinned number, or an alias the deployment follows (``SchedulerState/roll(_:to:now:)``).
    public var selector: Selector
    /// Lower bound of the replica count (≥ 1).
    public var minReplicas: Int
    /// Upper bound of the replica count (≥ `minReplicas`).
    public var maxReplicas: Int
    /// Resources reserved per replica.
    public var resources: Resources
    /// Placement priority: higher is placed first and may preempt lower ones above their minimum.
    public var priority: Int
    /// In-flight calls per ready replica the autoscaler aims at; also each replica's concurrency limit.
    public var targetConcurrency: Int
    /// The challenger of the A/B split on the alias the deployment follows; 0 = none. While it is set (and differs
    /// from ``version``) the deployment keeps as many replicas of it as of ``version``, spread the same way, so that
    /// a worker serving the alias can serve either version (``SchedulerState/split(_:challenger:now:)``).
    public var challengerVersion: UInt32 = 0

    /// The challenger replicas are kept for: ``challengerVersion`` unless it is 0 or the deployment's own version
    /// (a promoted challenger is simply the version).
    public var activeChallenger: UInt32? {
        challengerVersion != 0 && challengerVersion != version ? challengerVersion : nil
    }

    /// Whether a replica of `version` is one this deployment wants: its version or its active challenger.
    public func serves(_ version: UInt32) -> Bool {
        version == self.version || version == activeChallenger
    }

    /// Creates a spec; defaults follow `DeployRequest` (min 1, max = min, target concurrency 4, priority 0).
    public init(
        id: DeploymentID,
        model: String,
        version: UInt32,
        minReplicas: Int = 1,
        maxReplicas: Int? = nil,
        resources: Resources = .defaults,
        priority: Int = 0,
        targetConcurrency: Int = 4,
        selector: Selector? = nil
    ) {
        self.id = id
        self.model = model
        self.version = version
        self.selector = selector ?? Selector(number: version)
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas ?? minReplicas
        self.resources = resources
        self.priority = priority
        self.targetConcurrency = targetConcurrency
    }

    func validate() throws(SchedulerError) {
        func bad(_ m: String) -> SchedulerError { SchedulerError(code: .invalidArgument, message: m) }
        if minReplicas < 1 { throw bad("min_replicas must be at least 1, got \(minReplicas)") }
        if maxReplicas < minReplicas { throw bad("max_replicas \(maxReplicas) is below min_replicas \(minReplicas)") }
        if resources.cpuMillis < 0 || resources.memoryBytes < 0 { throw bad("resources must not be negative") }
        if targetConcurrency < 1 { throw bad("target_concurrency must be at least 1") }
    }
}

/// State of a deployment as a whole (raw values of `aimass.v1.DeploymentState`).
public enum DeploymentState: Int, Hashable, Sendable, CaseIterable {
    /// No replica placed yet (see the reason).
    case pending = 1
    /// Moving towards the desired count of ready replicas of the current version.
    case progressing = 2
    /// The desired count of replicas of the current version are ready, and no old one is left.
    case ready = 3
    /// At least one replica is ready but fewer than desired, and progress is stalled (see the reason).
    case degraded = 4
    /// No replica can become ready (replicas keep failing); see the reason. A new spec (scale, version) retries.
    case failed = 5
    /// Undeployed: replicas are draining; the deployment disappears once all are removed.
    case deleting = 6
}

/// A deployment: what `GetDeployment` reports (with its replicas) and what the Mesh carries (without).
public struct Deployment: Hashable, Sendable {
    /// What was asked for.
    public var spec: DeploymentSpec
    /// The replica count the scheduler aims at, within [min, max].
    public var desiredReplicas: Int
    /// Replicas in state ready (any version).
    public var readyReplicas: Int
    /// State of the deployment.
    public var state: DeploymentState
    /// Why it is not ready (for example the capacity shortfall); empty when ready.
    public var reason: String
    /// Whether replicas stay unplaced because no worker has the free capacity (the shortfall is in `reason`).
    public var lacksCapacity: Bool
    /// Every non-terminal replica, oldest first.
    public var replicas: [Replica]
    /// When it was deployed (seconds, caller's clock; Unix seconds in a ``PoolView``).
    public var createdAt: Double
    /// When its spec or state last changed (same clock).
    public var updatedAt: Double

    /// Creates a deployment as the Mesh and tests see it (the scheduler builds its own from its records).
    public init(
        spec: DeploymentSpec, desiredReplicas: Int, readyReplicas: Int = 0, state: DeploymentState = .pending,
        reason: String = "", lacksCapacity: Bool = false, replicas: [Replica] = [], createdAt: Double = 0,
        updatedAt: Double = 0
    ) {
        self.spec = spec
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
        self.state = state
        self.reason = reason
        self.lacksCapacity = lacksCapacity
        self.replicas = replicas
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Model name (of the spec).
    public var model: String { spec.model }
    /// Deployment id (of the spec).
    public var id: DeploymentID { spec.id }
}

struct DeploymentRecord: Sendable {
    var spec: DeploymentSpec
    var desired: Int
    var state: DeploymentState = .pending
    var reason: String = ""
    var createdAt: Double
    var updatedAt: Double
    var deleting = false
    var consecutiveFailures = 0
    var lastError = ""
    /// Capacity shortfall found by the last placement pass, if any replica stayed unplaced.
    var shortfall: String?
    /// Whether that shortfall is a lack of capacity (rather than waiting for preempted replicas).
    var lacksCapacity = false
}
