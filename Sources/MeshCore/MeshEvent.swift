import SchedulerCore

// The events of the Mesh/Watch stream; mirrors aimass.v1.MeshEvent, EventKind and Snapshot.

/// Kind of a ``MeshEvent``; mirrors `aimass.v1.EventKind` (raw values are the wire numbers).
public enum EventKind: Int, Sendable, Hashable, CaseIterable {
    /// The whole state.
    case snapshot = 1
    /// A worker joined or rejoined.
    case workerJoined = 2
    /// A worker left.
    case workerLeft = 3
    /// A worker's health changed.
    case healthChanged = 4
    /// A worker's load (ephemeral: carries the current revision, never replayed).
    case loadReported = 5
    /// A replica was placed.
    case replicaPlaced = 6
    /// A replica serves calls.
    case replicaReady = 7
    /// A replica takes no new calls.
    case replicaDraining = 8
    /// A replica is gone.
    case replicaRemoved = 9
    /// A deployment was created, changed or is being deleted.
    case deploymentScaled = 10
    /// A model version was published.
    case versionPublished = 11
    /// An alias was created, moved or deleted.
    case aliasMoved = 12
    /// Nothing happened for a while (ephemeral).
    case heartbeat = 13

    /// Whether events of this kind change the state and take a revision of their own.
    public var isStateChange: Bool {
        switch self {
        case .snapshot, .loadReported, .heartbeat: false
        default: true
        }
    }
}

/// The whole state at one revision; mirrors `aimass.v1.Snapshot`.
public struct Snapshot: Sendable, Hashable {
    /// True when the subscriber asked to resume from a revision the hub no longer holds: drop the old view.
    public var reset: Bool
    /// Every worker, sorted by id.
    public var workers: [Worker]
    /// Every deployment (of the watched models), sorted by id.
    public var deployments: [Deployment]
    /// Every replica not removed (of the watched models), sorted by id.
    public var replicas: [Replica]

    /// Creates a snapshot.
    public init(reset: Bool = false, workers: [Worker] = [], deployments: [Deployment] = [], replicas: [Replica] = []) {
        self.reset = reset
        self.workers = workers
        self.deployments = deployments
        self.replicas = replicas
    }
}

/// One message of the stream; mirrors `aimass.v1.MeshEvent`.
///
/// The payload is stored indirectly, so a copy of an event (one per subscriber buffer) costs one reference.
public struct MeshEvent: Sendable, Hashable {
    /// The payload; its case names the kind.
    public indirect enum Payload: Sendable, Hashable {
        /// `SNAPSHOT`.
        case snapshot(Snapshot)
        /// `WORKER_JOINED`.
        case workerJoined(Worker)
        /// `WORKER_LEFT`.
        case workerLeft(WorkerLeft)
        /// `HEALTH_CHANGED`.
        case healthChanged(HealthChanged)
        /// `LOAD_REPORTED`.
        case loadReported(LoadReport)
        /// `REPLICA_PLACED`.
        case replicaPlaced(Replica)
        /// `REPLICA_READY`.
        case replicaReady(Replica)
        /// `REPLICA_DRAINING`.
        case replicaDraining(Replica)
        /// `REPLICA_REMOVED`.
        case replicaRemoved(Replica)
        /// `DEPLOYMENT_SCALED`.
        case deploymentScaled(Deployment)
        /// `VERSION_PUBLISHED`.
        case versionPublished(ModelVersion)
        /// `ALIAS_MOVED`.
        case aliasMoved(AliasChange)
        /// `HEARTBEAT`.
        case heartbeat

        /// The kind this payload names.
        public var kind: EventKind {
            switch self {
            case .snapshot: .snapshot
            case .workerJoined: .workerJoined
            case .workerLeft: .workerLeft
            case .healthChanged: .healthChanged
            case .loadReported: .loadReported
            case .replicaPlaced: .replicaPlaced
            case .replicaReady: .replicaReady
            case .replicaDraining: .replicaDraining
            case .replicaRemoved: .replicaRemoved
            case .deploymentScaled: .deploymentScaled
            case .versionPublished: .versionPublished
            case .aliasMoved: .aliasMoved
            case .heartbeat: .heartbeat
            }
        }

        /// The model the event is about; nil for worker events, snapshots and heartbeats.
        public var model: String? {
            switch self {
            case .replicaPlaced(let r), .replicaReady(let r), .replicaDraining(let r), .replicaRemoved(let r): r.model
            case .deploymentScaled(let d): d.model
            case .versionPublished(let v): v.model
            case .aliasMoved(let a): a.model
            case .snapshot, .workerJoined, .workerLeft, .healthChanged, .loadReported, .heartbeat: nil
            }
        }
    }

    /// Revision after this change; for a snapshot the revision it reflects; for load reports and heartbeats the
    /// current revision as far as this subscriber knows.
    public var revision: UInt64
    /// When it happened (control-plane clock, Unix ms); for a snapshot or heartbeat, when it was sent.
    public var occurredAtMs: Int64
    /// What happened.
    public var payload: Payload

    /// Creates an event.
    public init(revision: UInt64, occurredAtMs: Int64, payload: Payload) {
        self.revision = revision
        self.occurredAtMs = occurredAtMs
        self.payload = payload
    }

    /// The kind of the payload.
    public var kind: EventKind { self.payload.kind }
}

/// Which events a subscriber wants; mirrors `WatchRequest.models` and `.kinds`.
public struct MeshFilter: Sendable, Hashable {
    /// Only events about these models; empty = all. Worker events always pass.
    public var models: Set<String>
    /// Only these kinds; empty = all. Snapshots and heartbeats always pass.
    public var kinds: Set<EventKind>

    /// Creates a filter; the default lets everything through.
    public init(models: Set<String> = [], kinds: Set<EventKind> = []) {
        self.models = models
        self.kinds = kinds
    }

    /// Lets everything through.
    public static let all = MeshFilter()

    /// Whether a subscriber with this filter receives the payload.
    public func matches(_ payload: MeshEvent.Payload) -> Bool {
        let kind = payload.kind
        if kind == .snapshot || kind == .heartbeat { return true }
        if !self.kinds.isEmpty && !self.kinds.contains(kind) { return false }
        guard !self.models.isEmpty, let model = payload.model else { return true }
        return self.models.contains(model)
    }

    /// Whether the model passes the model filter.
    public func matches(model: String) -> Bool {
        self.models.isEmpty || self.models.contains(model)
    }
}

extension MeshEvent.Payload {
    /// The event that announces a change of the pool's published view.
    public init(_ change: PoolChange) {
        switch change {
        case .workerJoined(let worker):
            self = .workerJoined(worker)
        case .healthChanged(let worker, let previous, let health, let reason):
            self = .healthChanged(HealthChanged(workerId: worker.rawValue, previous: previous, health: health, reason: reason))
        case .replicaChanged(let replica):
            switch replica.state {
            case .ready: self = .replicaReady(replica)
            case .draining: self = .replicaDraining(replica)
            case .removed: self = .replicaRemoved(replica)
            default: self = .replicaPlaced(replica)
            }
        case .deploymentChanged(let deployment):
            self = .deploymentScaled(deployment)
        case .workerLeft(let worker, let reason):
            self = .workerLeft(WorkerLeft(workerId: worker.rawValue, reason: reason))
        }
    }
}
