// Deployments, versions and aliases: the scheduler's and registry's shapes as the mesh sees them.

/// Lifecycle of a deployment; mirrors `aimass.v1.DeploymentState`.
public enum DeploymentState: Int, Sendable, Hashable, CaseIterable {
    /// Unknown.
    case unspecified = 0
    /// Accepted, nothing placed yet.
    case pending = 1
    /// Replicas being placed or loaded.
    case progressing = 2
    /// At least `minReplicas` ready.
    case ready = 3
    /// Fewer ready replicas than wanted.
    case degraded = 4
    /// Cannot be placed or loaded.
    case failed = 5
    /// Being removed; clients forget it.
    case deleting = 6
}

/// A deployment of one model; mirrors `aimass.v1.Deployment` (its `replicas` stay empty in the mesh).
public struct Deployment: Sendable, Hashable {
    /// Deployment id.
    public var id: String
    /// Model name.
    public var model: String
    /// Version asked for.
    public var version: VersionSelector
    /// Version the selector resolved to.
    public var resolvedVersion: UInt32
    /// Lower bound of replicas.
    public var minReplicas: UInt32
    /// Upper bound of replicas.
    public var maxReplicas: UInt32
    /// Replicas wanted now.
    public var desiredReplicas: UInt32
    /// Replicas ready now.
    public var readyReplicas: UInt32
    /// Resources per replica.
    public var resources: Resources
    /// Placement priority.
    public var priority: Int32
    /// Concurrent calls per replica.
    public var targetConcurrency: UInt32
    /// Lifecycle state.
    public var state: DeploymentState
    /// Why it is in its state.
    public var reason: String
    /// When it was created.
    public var createdAtMs: Int64
    /// When it last changed.
    public var updatedAtMs: Int64

    /// Creates a deployment.
    public init(
        id: String, model: String, version: VersionSelector = VersionSelector(), resolvedVersion: UInt32 = 0,
        minReplicas: UInt32 = 1, maxReplicas: UInt32 = 1, desiredReplicas: UInt32 = 1, readyReplicas: UInt32 = 0,
        resources: Resources = Resources(), priority: Int32 = 0, targetConcurrency: UInt32 = 0,
        state: DeploymentState = .pending, reason: String = "", createdAtMs: Int64 = 0, updatedAtMs: Int64 = 0
    ) {
        self.id = id
        self.model = model
        self.version = version
        self.resolvedVersion = resolvedVersion
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
        self.resources = resources
        self.priority = priority
        self.targetConcurrency = targetConcurrency
        self.state = state
        self.reason = reason
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }
}

/// A published model version, as much of `aimass.v1.Version` as the mesh carries.
public struct ModelVersion: Sendable, Hashable {
    /// Model name.
    public var model: String
    /// Version number.
    public var number: UInt32
    /// When it was published.
    public var createdAtMs: Int64
    /// Who uploaded it.
    public var author: String
    /// What changed.
    public var description: String
    /// Artifact size in bytes.
    public var sizeBytes: Int64
    /// SHA-256 of the artifact, lowercase hex.
    public var sha256: String
    /// Aliases pointing at it.
    public var aliases: [String]

    /// Creates a version.
    public init(
        model: String, number: UInt32, createdAtMs: Int64 = 0, author: String = "", description: String = "",
        sizeBytes: Int64 = 0, sha256: String = "", aliases: [String] = []
    ) {
        self.model = model
        self.number = number
        self.createdAtMs = createdAtMs
        self.author = author
        self.description = description
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.aliases = aliases
    }
}

/// An alias created, moved or deleted; mirrors `aimass.v1.AliasChange`.
public struct AliasChange: Sendable, Hashable {
    /// Model name.
    public var model: String
    /// The alias.
    public var alias: String
    /// Version before; 0 = created.
    public var previousVersion: UInt32
    /// Version now; 0 = deleted.
    public var version: UInt32
    /// Who moved it.
    public var principal: String
    /// When it moved.
    public var changedAtMs: Int64
    /// Reason given; may be empty.
    public var reason: String

    /// Creates an alias change.
    public init(
        model: String, alias: String, previousVersion: UInt32 = 0, version: UInt32, principal: String = "",
        changedAtMs: Int64 = 0, reason: String = ""
    ) {
        self.model = model
        self.alias = alias
        self.previousVersion = previousVersion
        self.version = version
        self.principal = principal
        self.changedAtMs = changedAtMs
        self.reason = reason
    }
}

/// A worker left; mirrors `aimass.v1.WorkerLeft`.
public struct WorkerLeft: Sendable, Hashable {
    /// Id of the worker.
    public var workerId: String
    /// Why, e.g. `drained`, `lease expired`.
    public var reason: String

    /// Creates the payload.
    public init(workerId: String, reason: String = "") {
        self.workerId = workerId
        self.reason = reason
    }
}

/// A worker's health changed; mirrors `aimass.v1.HealthChanged`.
public struct HealthChanged: Sendable, Hashable {
    /// Id of the worker.
    public var workerId: String
    /// Health before; the hub fills it from its state when publishing.
    public var previous: HealthStatus
    /// Health now.
    public var health: HealthStatus
    /// Why.
    public var reason: String

    /// Creates the payload.
    public init(workerId: String, previous: HealthStatus = .unspecified, health: HealthStatus, reason: String = "") {
        self.workerId = workerId
        self.previous = previous
        self.health = health
        self.reason = reason
    }
}
