/// Serving health of a worker (raw values of `aimass.v1.HealthStatus`).
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

/// A worker of the pool: what `GetPool` reports (with its replicas) and what the Mesh carries (without).
public struct Worker: Hashable, Sendable {
    /// Id assigned at Join.
    public var id: WorkerID
    /// `host:port` where the worker serves inference.
    public var address: String
    /// What the worker offers.
    public var capacity: Capacity
    /// What its replicas reserve, draining ones included.
    public var allocated: Capacity
    /// Replicas on this worker, oldest first.
    public var replicas: [Replica]
    /// When it joined (seconds, caller's clock; Unix seconds in a ``PoolView``).
    public var joinedAt: Double
    /// When the scheduler last heard from it (same clock as `joinedAt`).
    public var lastSeen: Double
    /// Whether new replicas are kept off it (``SchedulerState/drain(_:reason:force:now:)``).
    public var cordoned: Bool = false
    /// Why it is being drained; empty when it is not.
    public var drainReason: String = ""
    /// Whether the worker was told to drain (`Drain` sent): no live replica is left on it.
    public var drained: Bool = false
    /// Serving health: NOT_SERVING while its stream is down, DRAINING once told to drain, SERVING otherwise.
    public var health: HealthStatus = .unspecified
    /// Its latest load report; nil before the first.
    public var load: LoadReport?

    /// Creates a worker as the Mesh and tests see it (the scheduler builds its own from its records).
    public init(
        id: WorkerID, address: String, capacity: Capacity = .zero, allocated: Capacity = .zero, replicas: [Replica] = [],
        joinedAt: Double = 0, lastSeen: Double = 0, cordoned: Bool = false, drainReason: String = "",
        drained: Bool = false, health: HealthStatus = .unspecified, load: LoadReport? = nil
    ) {
        self.id = id
        self.address = address
        self.capacity = capacity
        self.allocated = allocated
        self.replicas = replicas
        self.joinedAt = joinedAt
        self.lastSeen = lastSeen
        self.cordoned = cordoned
        self.drainReason = drainReason
        self.drained = drained
        self.health = health
        self.load = load
    }

    /// Capacity minus allocation.
    public var free: Capacity { capacity.minus(allocated) }
}

struct WorkerRecord: Sendable {
    var id: WorkerID
    var address: String
    var capacity: Capacity
    var joinedAt: Double
    var lastSeen: Double
    /// No new placements (drain requested).
    var cordoned = false
    var drainReason = ""
    /// `Drain` was sent: every replica on it had been stopped.
    var drained = false
    /// Whether its Join stream is up (a broken stream leaves it in the pool until its lease expires).
    var connected = true
    /// Its latest load report.
    var load: LoadReport?

    /// NOT_SERVING while its stream is down, DRAINING once told to drain, SERVING otherwise.
    var health: HealthStatus {
        guard connected else { return .notServing }
        return drained ? .draining : .serving
    }
}

/// Why a worker left the pool.
public enum WorkerLossReason: Hashable, Sendable, CustomStringConvertible {
    /// Its Join stream ended cleanly: it left.
    case left
    /// Nothing arrived from it for longer than the lease; `silence` is how long (seconds).
    case leaseExpired(silence: Double)

    /// `left the pool`, or `lease expired after 5200 ms`.
    public var description: String {
        switch self {
        case .left: "left the pool"
        case .leaseExpired(let silence): "lease expired after \(Int((silence * 1000).rounded())) ms"
        }
    }
}

/// What the caller of ``SchedulerState`` must do: send an instruction down a worker's Join stream, or publish a
/// pool event.
public enum SchedulerAction: Hashable, Sendable {
    /// Send `PlaceReplica` to the worker.
    case place(Replica, on: WorkerID)
    /// Send `PlaceReplica` again for a replica the worker already holds, with the current epoch: the control plane
    /// adopted it (the worker held it under an older epoch) and the worker re-stamps it.
    case confirm(Replica, on: WorkerID)
    /// Send `RemoveReplica` to the worker; with `drain`, in-flight calls finish first.
    case remove(ReplicaID, from: WorkerID, drain: Bool)
    /// The worker's lease expired or it left: close its stream; these replicas were on it and are gone.
    case workerLost(WorkerID, replicas: [ReplicaID], reason: WorkerLossReason)
    /// Send `Drain` to the worker: it was drained (cordoned, every replica re-placed elsewhere and stopped there).
    case drainWorker(WorkerID, reason: String)
    /// An undeployed deployment has no replica left and was forgotten.
    case deploymentRemoved(DeploymentID)
}
