// Value types of the mesh state. They mirror aimass.v1 (scheduler.proto, registry.proto, common.proto) field by field,
// so the gRPC layer converts them one to one; only what the mesh needs is kept.

/// Serving health of a worker; mirrors `aimass.v1.HealthStatus`.
public enum HealthStatus: Int, Sendable, Hashable, CaseIterable {
    /// Not known yet (the worker has not reported since joining).
    case unspecified = 0
    /// Accepting inference calls.
    case serving = 1
    /// Not accepting calls.
    case notServing = 2
    /// Finishing in-flight calls; route no new calls to it.
    case draining = 3
}

/// What a worker offers or has allocated; mirrors `aimass.v1.Capacity`.
public struct Capacity: Sendable, Hashable {
    /// CPU in millicores.
    public var cpuMillis: Int64
    /// Memory in bytes.
    public var memoryBytes: Int64
    /// Replica slots.
    public var replicaSlots: UInt32

    /// Creates a capacity.
    public init(cpuMillis: Int64 = 0, memoryBytes: Int64 = 0, replicaSlots: UInt32 = 0) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.replicaSlots = replicaSlots
    }
}

/// Compute resources of one replica; mirrors `aimass.v1.Resources`.
public struct Resources: Sendable, Hashable {
    /// CPU in millicores.
    public var cpuMillis: Int64
    /// Memory in bytes.
    public var memoryBytes: Int64

    /// Creates resources.
    public init(cpuMillis: Int64 = 0, memoryBytes: Int64 = 0) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
    }
}

/// A version by number or alias; mirrors `aimass.v1.VersionSelector`.
public struct VersionSelector: Sendable, Hashable {
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

/// Load of one replica or a worker's totals; mirrors `aimass.v1.Load`.
public struct Load: Sendable, Hashable {
    /// Replica id; empty for worker totals.
    public var replicaId: String
    /// Calls being executed now.
    public var inFlight: UInt32
    /// Calls waiting for a slot now.
    public var queueDepth: UInt32
    /// Calls completed per second.
    public var servedPerSec: Double
    /// Calls rejected per second.
    public var rejectedPerSec: Double
    /// EWMA of call latency in microseconds.
    public var latencyEwmaUs: Int64
    /// Busy fraction, 0...1.
    public var utilisation: Double

    /// Creates a load figure.
    public init(
        replicaId: String = "", inFlight: UInt32 = 0, queueDepth: UInt32 = 0, servedPerSec: Double = 0,
        rejectedPerSec: Double = 0, latencyEwmaUs: Int64 = 0, utilisation: Double = 0
    ) {
        self.replicaId = replicaId
        self.inFlight = inFlight
        self.queueDepth = queueDepth
        self.servedPerSec = servedPerSec
        self.rejectedPerSec = rejectedPerSec
        self.latencyEwmaUs = latencyEwmaUs
        self.utilisation = utilisation
    }
}

/// A worker's latest load; mirrors `aimass.v1.LoadReport`.
public struct LoadReport: Sendable, Hashable {
    /// Id of the worker.
    public var workerId: String
    /// When the worker measured it.
    public var reportedAtMs: Int64
    /// Worker totals.
    public var total: Load
    /// Per replica.
    public var replicas: [Load]

    /// Creates a report.
    public init(workerId: String, reportedAtMs: Int64 = 0, total: Load = Load(), replicas: [Load] = []) {
        self.workerId = workerId
        self.reportedAtMs = reportedAtMs
        self.total = total
        self.replicas = replicas
    }
}

/// A worker of the pool; mirrors `aimass.v1.Worker` (its `replicas` stay empty in the mesh).
public struct Worker: Sendable, Hashable {
    /// Id assigned by the control plane.
    public var id: String
    /// `host:port` where the worker serves inference.
    public var address: String
    /// What the worker offers.
    public var capacity: Capacity
    /// What its replicas reserve.
    public var allocated: Capacity
    /// Serving health.
    public var health: HealthStatus
    /// Latest load report; nil before the first.
    public var load: LoadReport?
    /// When it joined.
    public var joinedAtMs: Int64
    /// When the control plane last heard from it.
    public var lastSeenAtMs: Int64

    /// Creates a worker.
    public init(
        id: String, address: String, capacity: Capacity = Capacity(), allocated: Capacity = Capacity(),
        health: HealthStatus = .unspecified, load: LoadReport? = nil, joinedAtMs: Int64 = 0, lastSeenAtMs: Int64 = 0
    ) {
        self.id = id
        self.address = address
        self.capacity = capacity
        self.allocated = allocated
        self.health = health
        self.load = load
        self.joinedAtMs = joinedAtMs
        self.lastSeenAtMs = lastSeenAtMs
    }
}

/// Lifecycle of a replica; mirrors `aimass.v1.ReplicaState`.
public enum ReplicaState: Int, Sendable, Hashable, CaseIterable {
    /// Unknown.
    case unspecified = 0
    /// Placed, not yet started.
    case pending = 1
    /// Fetching the artifact.
    case downloading = 2
    /// Building the index.
    case loading = 3
    /// Serving calls.
    case ready = 4
    /// Taking no new calls.
    case draining = 5
    /// Gone.
    case removed = 6
    /// Failed, see `error`.
    case failed = 7
}

/// One replica of a deployment on a worker; mirrors `aimass.v1.Replica`.
public struct Replica: Sendable, Hashable {
    /// Replica id.
    public var id: String
    /// Deployment it belongs to.
    public var deploymentId: String
    /// Model name.
    public var model: String
    /// Version number it serves.
    public var version: UInt32
    /// Worker it is placed on.
    public var workerId: String
    /// Lifecycle state.
    public var state: ReplicaState
    /// Why it failed; empty otherwise.
    public var error: String
    /// When its state last changed.
    public var updatedAtMs: Int64

    /// Creates a replica.
    public init(
        id: String, deploymentId: String, model: String, version: UInt32, workerId: String,
        state: ReplicaState = .pending, error: String = "", updatedAtMs: Int64 = 0
    ) {
        self.id = id
        self.deploymentId = deploymentId
        self.model = model
        self.version = version
        self.workerId = workerId
        self.state = state
        self.error = error
        self.updatedAtMs = updatedAtMs
    }
}
