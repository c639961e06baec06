/// The lifecycle of a replica: pending → downloading → loading → ready → draining → removed, or failed.
public enum ReplicaState: Int, Hashable, Sendable, CaseIterable {
    /// Wanted but not yet on a worker, or sent to a worker that has not acknowledged it.
    case pending
    /// The worker is downloading the artifact.
    case downloading
    /// The worker is building the index.
    case loading
    /// Serving calls.
    case ready
    /// Finishing in-flight calls (or being unloaded); still holds its resources.
    case draining
    /// Gone from the worker (terminal).
    case removed
    /// Could not download or load, or crashed (terminal: the scheduler places a new replica instead).
    case failed

    /// Whether the replica counts towards its deployment's replica count (pending to ready).
    public var isLive: Bool { rawValue <= ReplicaState.ready.rawValue }
    /// Whether the replica is gone for good.
    public var isTerminal: Bool { self == .removed || self == .failed }
}

/// One replica of a deployment, as the scheduler sees it.
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
    /// When `state` last changed (seconds, caller's clock).
    public internal(set) var updatedAt: Double
    /// Worker whose lower-priority replicas are draining to make room for this pending replica.
    var nominatedWorker: WorkerID?
    /// On a worker being drained: it no longer counts towards its deployment, and is stopped once a
    /// replacement elsewhere is ready (like a replica of an old version during a roll).
    public internal(set) var evacuating = false
}
