import AIMassAPI
import MeshCore
import RPCCore

// One-to-one conversions between the MeshCore value types and the aimass.v1 messages of mesh.proto
// and scheduler.proto. Both modules name their types alike (Worker, Replica, MeshEvent, …), so every
// type here is written with its module.

extension AIMassAPI.HealthStatus {
    /// The wire value of a mesh health status.
    public init(_ status: MeshCore.HealthStatus) {
        self = AIMassAPI.HealthStatus(rawValue: Int32(status.rawValue)) ?? .unspecified
    }
}

extension AIMassAPI.ReplicaState {
    /// The wire value of a mesh replica state.
    public init(_ state: MeshCore.ReplicaState) {
        self = AIMassAPI.ReplicaState(rawValue: Int32(state.rawValue)) ?? .unspecified
    }
}

extension AIMassAPI.DeploymentState {
    /// The wire value of a mesh deployment state.
    public init(_ state: MeshCore.DeploymentState) {
        self = AIMassAPI.DeploymentState(rawValue: Int32(state.rawValue)) ?? .unspecified
    }
}

extension AIMassAPI.EventKind {
    /// The wire value of a mesh event kind.
    public init(_ kind: MeshCore.EventKind) {
        self = AIMassAPI.EventKind(rawValue: Int32(kind.rawValue)) ?? .unspecified
    }
}

extension MeshCore.EventKind {
    /// The mesh kind of a requested wire kind.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` for `EVENT_KIND_UNSPECIFIED` (or a number this build does not know).
    public init(validating kind: AIMassAPI.EventKind) throws(RPCError) {
        guard let value = MeshCore.EventKind(rawValue: Int(kind.rawValue)) else {
            throw RPCError(code: .invalidArgument, message: "kinds: \(kind) is not an event kind")
        }
        self = value
    }
}

extension AIMassAPI.Capacity {
    /// The message of a mesh capacity.
    public init(_ capacity: MeshCore.Capacity) {
        self.init(cpuMillis: capacity.cpuMillis, memoryBytes: capacity.memoryBytes, replicaSlots: capacity.replicaSlots)
    }
}

extension AIMassAPI.Load {
    /// The message of a mesh load figure.
    public init(_ load: MeshCore.Load) {
        self.init(
            replicaId: load.replicaId, inFlight: load.inFlight, queueDepth: load.queueDepth,
            servedPerSec: load.servedPerSec, rejectedPerSec: load.rejectedPerSec,
            latencyEwmaUs: load.latencyEwmaUs, utilisation: load.utilisation)
    }
}

extension AIMassAPI.LoadReport {
    /// The message of a mesh load report.
    public init(_ report: MeshCore.LoadReport) {
        self.init(
            workerId: report.workerId, reportedAtMs: report.reportedAtMs, total: AIMassAPI.Load(report.total),
            replicas: report.replicas.map(AIMassAPI.Load.init))
    }
}

extension AIMassAPI.Worker {
    /// The message of a mesh worker (`replicas` empty, as the mesh stream requires).
    public init(_ worker: MeshCore.Worker) {
        self.init(
            id: worker.id, address: worker.address, capacity: AIMassAPI.Capacity(worker.capacity),
            allocated: AIMassAPI.Capacity(worker.allocated), health: AIMassAPI.HealthStatus(worker.health),
            replicas: [], load: worker.load.map(AIMassAPI.LoadReport.init), joinedAtMs: worker.joinedAtMs,
            lastSeenAtMs: worker.lastSeenAtMs)
    }
}

extension AIMassAPI.Replica {
    /// The message of a mesh replica.
    public init(_ replica: MeshCore.Replica) {
        self.init(
            id: replica.id, deploymentId: replica.deploymentId, model: replica.model, version: replica.version,
            workerId: replica.workerId, state: AIMassAPI.ReplicaState(replica.state), error: replica.error,
            updatedAtMs: replica.updatedAtMs)
    }
}

extension AIMassAPI.Deployment {
    /// The message of a mesh deployment (`replicas` empty, as the mesh stream requires).
    public init(_ deployment: MeshCore.Deployment) {
        self.init(
            id: deployment.id, model: deployment.model,
            version: AIMassAPI.VersionSelector(number: deployment.version.number, alias: deployment.version.alias),
            resolvedVersion: deployment.resolvedVersion, minReplicas: deployment.minReplicas,
            maxReplicas: deployment.maxReplicas, desiredReplicas: deployment.desiredReplicas,
            readyReplicas: deployment.readyReplicas,
            resources: AIMassAPI.Resources(
                cpuMillis: deployment.resources.cpuMillis, memoryBytes: deployment.resources.memoryBytes),
            priority: deployment.priority, targetConcurrency: deployment.targetConcurrency,
            state: AIMassAPI.DeploymentState(deployment.state), reason: deployment.reason, replicas: [],
            createdAtMs: deployment.createdAtMs, updatedAtMs: deployment.updatedAtMs)
    }
}

extension AIMassAPI.Version {
    /// The message of a mesh model version (the fields the mesh carries; the rest stay empty).
    public init(_ version: MeshCore.ModelVersion) {
        self.init(
            model: version.model, number: version.number, createdAtMs: version.createdAtMs, author: version.author,
            description: version.description, sizeBytes: version.sizeBytes, sha256: version.sha256,
            aliases: version.aliases)
    }
}

extension AIMassAPI.AliasChange {
    /// The message of a mesh alias change.
    public init(_ change: MeshCore.AliasChange) {
        self.init(
            model: change.model, alias: change.alias, previousVersion: change.previousVersion,
            version: change.version, principal: change.principal, changedAtMs: change.changedAtMs,
            reason: change.reason)
    }
}

extension AIMassAPI.Snapshot {
    /// The message of a mesh snapshot.
    public init(_ snapshot: MeshCore.Snapshot) {
        self.init(
            reset: snapshot.reset, workers: snapshot.workers.map(AIMassAPI.Worker.init),
            deployments: snapshot.deployments.map(AIMassAPI.Deployment.init),
            replicas: snapshot.replicas.map(AIMassAPI.Replica.init))
    }
}

extension AIMassAPI.MeshEvent {
    /// The message of a mesh event: envelope, kind and payload.
    public init(_ event: MeshCore.MeshEvent) {
        let payload: AIMassAPI.MeshEvent.Payload
        switch event.payload {
        case .snapshot(let value): payload = .snapshot(AIMassAPI.Snapshot(value))
        case .workerJoined(let value): payload = .workerJoined(AIMassAPI.Worker(value))
        case .workerLeft(let value):
            payload = .workerLeft(AIMassAPI.WorkerLeft(workerId: value.workerId, reason: value.reason))
        case .healthChanged(let value):
            payload = .healthChanged(
                AIMassAPI.HealthChanged(
                    workerId: value.workerId, previous: AIMassAPI.HealthStatus(value.previous),
                    health: AIMassAPI.HealthStatus(value.health), reason: value.reason))
        case .loadReported(let value): payload = .loadReported(AIMassAPI.LoadReport(value))
        case .replicaPlaced(let value): payload = .replicaPlaced(AIMassAPI.Replica(value))
        case .replicaReady(let value): payload = .replicaReady(AIMassAPI.Replica(value))
        case .replicaDraining(let value): payload = .replicaDraining(AIMassAPI.Replica(value))
        case .replicaRemoved(let value): payload = .replicaRemoved(AIMassAPI.Replica(value))
        case .deploymentScaled(let value): payload = .deploymentScaled(AIMassAPI.Deployment(value))
        case .versionPublished(let value): payload = .versionPublished(AIMassAPI.Version(value))
        case .aliasMoved(let value): payload = .aliasMoved(AIMassAPI.AliasChange(value))
        case .heartbeat: payload = .heartbeat(AIMassAPI.Heartbeat())
        }
        self.init(
            revision: event.revision, occurredAtMs: event.occurredAtMs, kind: AIMassAPI.EventKind(event.kind),
            payload: payload)
    }
}

extension MeshError: RPCErrorConvertible {
    /// The status a mesh error ends a Watch stream with; the last delivered revision is in the message and in the
    /// trailing metadata `aimass-last-revision`, so the client resumes from it.
    public var rpcError: RPCError {
        switch self {
        case .subscriberTooSlow(let revision):
            return RPCError(
                code: .resourceExhausted,
                message: "subscriber too slow: fell behind its buffer; resume from revision \(revision)",
                metadata: [MeshService.lastRevisionKey: .string(String(revision))])
        case .shuttingDown(let revision):
            return RPCError(
                code: .unavailable, message: "control plane shutting down; resume from revision \(revision)",
                metadata: [MeshService.lastRevisionKey: .string(String(revision))])
        case .notPublishable(let kind):
            return RPCError(code: .invalidArgument, message: "\(kind) events are made by the hub, not published")
        }
    }
}

extension MeshCore.ModelVersion {
    /// The mesh's view of a published version.
    public init(_ version: AIMassAPI.Version) {
        self.init(
            model: version.model, number: version.number, createdAtMs: version.createdAtMs, author: version.author,
            description: version.description, sizeBytes: version.sizeBytes, sha256: version.sha256,
            aliases: version.aliases)
    }
}

extension MeshCore.AliasChange {
    /// The mesh's view of an alias move.
    public init(_ change: AIMassAPI.AliasChange) {
        self.init(
            model: change.model, alias: change.alias, previousVersion: change.previousVersion, version: change.version,
            principal: change.principal, changedAtMs: change.changedAtMs, reason: change.reason)
    }
}
