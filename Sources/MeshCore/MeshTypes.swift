import SchedulerCore

// The Mesh's own payloads. The pool's workers, deployments, replicas and load reports are SchedulerCore's types (the
// one pool model); only what the registry publishes and the events' own shapes are declared here.

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
