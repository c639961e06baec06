/// The lifecycle of a replica: pending → downloading → loading → ready → draining → removed, or failed.
///
/// The raw values are those of `aimass.v1.ReplicaState` (0 is the wire's UNSPECIFIED, which no replica has).
public enum ReplicaState: Int, Hashable, Sendable, CaseIterable {
    /// Wanted but not yet on a worker, or sent to a worker that has not acknowledged it.
    case pending = 1
    /// The worker is downloading the artifact.
    case downloading = 2
    /// The worker is building the index.
    case loading = 3
    /// Serving calls.
    case ready = 4
    /// Finishing in-flight calls (or being unloaded); still holds its resources.
    case draining = 5
    /// Gone from the worker (terminal).
    case removed = 6
    /// Could not download or load, or crashed (terminal: the scheduler places a new replica instead).
    case failed = 7

    /// Whether the replica counts towards its deployment's replica count (pending to ready).
    public var isLive: Bool { rawValue <= ReplicaState.ready.rawValue }
    /// Whether the replica is gone for good.
    public var isTerminal: Bool { self == .removed || self == .failed }
}

/// One replica of a deployment: the scheduler's record of it, and (with ``published``) what the Mesh carries.
public struct Replica: Hashable, Sendable {
    /// Scheduler-assigned id.
    public internal(set) var id: ReplicaID
    /// Deployment it belongs to.
    public internal(set) var deploymentID: DeploymentID
    /// Model it serves.
    public internal(set) var model: String
    /// Version it serves (may lag the deployment's version during a rollout).
    public internal(set) var version: UInt32
    /// Resources it reserves.
    public internal(set) var resources: Resources
    /// Concurrency limit of the replica (the deployment's target concurrency).
    public internal(set) var targetConcurrency: Int
    /// Worker that holds it; `nil` while unplaced.
    public internal(set) var workerID: WorkerID?
    /// Current state.
    public internal(set) var state: ReplicaState
    /// Why it failed, or the last transient error; empty otherwise.
    public internal(set) var error: String
    /// When `state` last changed (seconds, caller's clock; Unix seconds in a ``PoolView``).
    public internal(set) var updatedAt: Double
    /// Worker whose lower-priority replicas are draining to make room for this pending replica.
    var nominatedWorker: WorkerID?
    /// On a worker being drained: it no longer counts towards its deployment, and is stopped once a
    /// replacement elsewhere is ready (like a replica of an old version during a roll).
    public internal(set) var evacuating = false
    /// The epoch of the control plane that placed it, or last confirmed it to its worker (see
    /// ``SchedulerState/epoch``); 0 while unplaced.
    public internal(set) var epoch: UInt64 = 0

    /// Creates a replica as the Mesh and tests see it (the scheduler makes its own through placement).
    public init(
        id: ReplicaID, deploymentID: DeploymentID, model: String, version: UInt32, workerID: WorkerID?,
        state: ReplicaState = .pending, error: String = "", updatedAt: Double = 0,
        resources: Resources = .defaults, targetConcurrency: Int = 4, epoch: UInt64 = 0
    ) {
        self.id = id
        self.deploymentID = deploymentID
        self.model = model
        self.version = version
        self.resources = resources
        self.targetConcurrency = targetConcurrency
        self.workerID = workerID
        self.state = state
        self.error = error
        self.updatedAt = updatedAt
        self.epoch = epoch
    }

    /// The replica as published: without the scheduler's working fields, its time moved to another clock.
    func published(clockOffset: Double) -> Replica {
        var replica = self
        replica.nominatedWorker = nil
        replica.evacuating = false
        replica.updatedAt += clockOffset
        return replica
    }

    /// This replica with its time on another clock.
    public func with(updatedAt: Double) -> Replica {
        var replica = self
        replica.updatedAt = updatedAt
        return replica
    }

    /// This replica in another state (a removed one as the Mesh announces it).
    public func with(state: ReplicaState) -> Replica {
        var replica = self
        replica.state = state
        return replica
    }
}
