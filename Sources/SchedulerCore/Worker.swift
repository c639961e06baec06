/// A worker of the pool as reported by `GetPool`.
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
    /// When it joined.
    public var joinedAt: Double
    /// When the scheduler last heard from it.
    public var lastSeen: Double

    /// Capacity minus allocation.
    public var free: Capacity { capacity.minus(allocated) }
}

struct WorkerRecord: Sendable {
    var id: WorkerID
    var address: String
    var capacity: Capacity
    var joinedAt: Double
    var lastSeen: Double
}

/// What the caller of ``SchedulerState`` must do: send an instruction down a worker's Join stream, or publish a
/// pool event.
public enum SchedulerAction: Hashable, Sendable {
    /// Send `PlaceReplica` to the worker.
    case place(Replica, on: WorkerID)
    /// Send `RemoveReplica` to the worker; with `drain`, in-flight calls finish first.
    case remove(ReplicaID, from: WorkerID, drain: Bool)
    /// The worker's lease expired or it left: close its stream; these replicas were on it and are gone.
    case workerLost(WorkerID, replicas: [ReplicaID])
    /// An undeployed deployment has no replica left and was forgotten.
    case deploymentRemoved(DeploymentID)
}
