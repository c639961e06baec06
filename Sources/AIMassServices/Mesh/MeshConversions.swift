import AIMassAPI
import MeshCore
import RPCCore
import SchedulerCore

// One-to-one conversions between the Mesh's own value types (events, versions, alias moves) and the aimass.v1
// messages of mesh.proto; the pool's workers, replicas and deployments convert in PoolConversions.swift. Both
// modules name their types alike (MeshEvent, Snapshot, …), so every type here is written with its module.

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
