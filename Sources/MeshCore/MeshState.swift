import SchedulerCore

/// The mesh's view of the pool at one revision: a pure value, changed only by ``apply(_:)``.
///
/// Only state changes increase ``revision``; a payload that changes nothing (an unknown worker's health, a replica
/// published twice unchanged) is dropped, so it takes no revision and reaches no subscriber. Load reports update the
/// worker's `load` but keep the revision (they are ephemeral on the stream).
public struct MeshState: Sendable, Hashable {
    /// Revision of the last state change; 0 before the first.
    public private(set) var revision: UInt64
    /// Workers by id (their replica lists stay empty).
    public private(set) var workers: [String: Worker]
    /// Deployments by id (those being deleted are gone; their replica lists stay empty).
    public private(set) var deployments: [String: Deployment]
    /// Replicas not removed, by id.
    public private(set) var replicas: [String: Replica]
    /// Published version numbers by model.
    public private(set) var versions: [String: Set<UInt32>]
    /// Aliases by model, alias → version.
    public private(set) var aliases: [String: [String: UInt32]]

    /// An empty state at revision 0.
    public init() {
        self.revision = 0
        self.workers = [:]
        self.deployments = [:]
        self.replicas = [:]
        self.versions = [:]
        self.aliases = [:]
    }

    /// An empty state at `revision`: a restarted control plane continues the revisions of its previous run (see
    /// ``MeshHub/RevisionReservation``), so a watcher's old revision never names a state of the new run.
    public init(revision: UInt64) {
        self.init()
        self.revision = revision
    }

    /// The state a journal recorded (``MeshJournal``): the snapshot's workers, deployments and replicas, the published
    /// versions and aliases, at `revision`.
    public init(restoring snapshot: Snapshot, versions: [String: Set<UInt32>], aliases: [String: [String: UInt32]], revision: UInt64) {
        self.revision = revision
        self.workers = Dictionary(snapshot.workers.map { ($0.id.rawValue, $0) }, uniquingKeysWith: { $1 })
        self.deployments = Dictionary(snapshot.deployments.map { ($0.id.rawValue, $0) }, uniquingKeysWith: { $1 })
        self.replicas = Dictionary(snapshot.replicas.map { ($0.id.rawValue, $0) }, uniquingKeysWith: { $1 })
        self.versions = versions
        self.aliases = aliases
    }

    /// Applies a change.
    ///
    /// - Returns: the payload to broadcast (normalised: `HealthChanged.previous` and `AliasChange.previousVersion`
    ///   come from the state) or nil when nothing changed. ``revision`` grows by one for every non-nil result except
    ///   a load report.
    /// - Throws: ``MeshError/notPublishable(_:)`` for snapshots and heartbeats.
    public mutating func apply(_ payload: MeshEvent.Payload) throws(MeshError) -> MeshEvent.Payload? {
        guard let applied = try self.change(payload) else { return nil }
        if applied.kind.isStateChange {
            self.revision += 1
        }
        return applied
    }

    private mutating func change(_ payload: MeshEvent.Payload) throws(MeshError) -> MeshEvent.Payload? {
        switch payload {
        case .snapshot, .heartbeat:
            throw MeshError.notPublishable(payload.kind)
        case .workerJoined(let worker):
            guard self.workers[worker.id.rawValue] != worker else { return nil }
            self.workers[worker.id.rawValue] = worker
            return payload
        case .workerLeft(let left):
            guard self.workers.removeValue(forKey: left.workerId) != nil else { return nil }
            self.replicas = self.replicas.filter { $0.value.workerID?.rawValue != left.workerId }
            return payload
        case .healthChanged(var change):
            guard let current = self.workers[change.workerId]?.health, current != change.health else { return nil }
            change.previous = current
            self.workers[change.workerId]?.health = change.health
            return .healthChanged(change)
        case .loadReported(let report):
            guard var worker = self.workers[report.workerId] else { return nil }
            worker.load = report
            worker.lastSeen = max(worker.lastSeen, Double(report.reportedAtMs) / 1000)
            self.workers[report.workerId] = worker
            return payload
        case .replicaPlaced(let replica), .replicaReady(let replica), .replicaDraining(let replica):
            guard self.replicas[replica.id.rawValue] != replica else { return nil }
            self.replicas[replica.id.rawValue] = replica
            return payload
        case .replicaRemoved(let replica):
            guard self.replicas.removeValue(forKey: replica.id.rawValue) != nil else { return nil }
            return payload
        case .deploymentScaled(let deployment):
            if deployment.state == .deleting {
                guard self.deployments.removeValue(forKey: deployment.id.rawValue) != nil else { return nil }
            } else {
                guard self.deployments[deployment.id.rawValue] != deployment else { return nil }
                self.deployments[deployment.id.rawValue] = deployment
            }
            return payload
        case .versionPublished(let version):
            guard self.versions[version.model, default: []].insert(version.number).inserted else { return nil }
            return payload
        case .aliasMoved(var change):
            let previous = self.aliases[change.model]?[change.alias] ?? 0
            guard previous != change.version else { return nil }
            change.previousVersion = previous
            self.aliases[change.model, default: [:]][change.alias] = change.version == 0 ? nil : change.version
            return .aliasMoved(change)
        }
    }

    /// The state as a snapshot: every worker, and the deployments and replicas of the models the filter lets
    /// through, each sorted by id.
    public func snapshot(filter: MeshFilter = .all, reset: Bool = false) -> Snapshot {
        Snapshot(
            reset: reset,
            workers: self.workers.sorted { $0.key < $1.key }.map(\.value),
            deployments: self.deployments.sorted { $0.key < $1.key }.map(\.value).filter { filter.matches(model: $0.model) },
            replicas: self.replicas.sorted { $0.key < $1.key }.map(\.value).filter { filter.matches(model: $0.model) }
        )
    }
}

extension PoolView {
    /// The pool as `state` tells it (without load reports): what a control plane that takes over from a previous
    /// leader's Mesh (``MeshJournal``) starts from, so that it publishes only what differs from what watchers know.
    public init(_ state: MeshState) {
        var workers: [WorkerID: Worker] = [:]
        for var worker in state.workers.values {
            worker.load = nil
            workers[worker.id] = worker
        }
        self.init(
            workers: workers,
            deployments: Dictionary(state.deployments.values.map { ($0.id, $0) }, uniquingKeysWith: { $1 }),
            replicas: Dictionary(state.replicas.values.map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
    }
}
