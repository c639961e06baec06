import AIMassAPI
import MeshCore
import RPCCore
import SchedulerCore

// The way back from the wire to the Mesh's values, for a journal that records Mesh events as aimass.v1 messages
// (``MeshJournal``, the high-availability control plane's etcd journal), and the framing of a journal checkpoint.
// Fields the wire does not carry (a replica's resources and concurrency limit) come back as their defaults: the
// restored state is what watchers were told, which is all the Mesh needs.

/// Unix seconds of Unix milliseconds.
private func unixSeconds(_ milliseconds: Int64) -> Double { Double(milliseconds) / 1000 }

extension SchedulerCore.HealthStatus {
    /// The health a message carries (UNSPECIFIED for a number this build does not know).
    init(_ status: AIMassAPI.HealthStatus) {
        self = SchedulerCore.HealthStatus(rawValue: Int(status.rawValue)) ?? .unspecified
    }
}

extension SchedulerCore.Worker {
    /// The Mesh's worker of a message (times in Unix seconds; no replicas).
    public init(_ worker: AIMassAPI.Worker) {
        self.init(
            id: WorkerID(worker.id), address: worker.address,
            capacity: worker.capacity.map { SchedulerCore.Capacity($0) } ?? .zero,
            allocated: worker.allocated.map { SchedulerCore.Capacity($0) } ?? .zero,
            joinedAt: unixSeconds(worker.joinedAtMs), lastSeen: unixSeconds(worker.lastSeenAtMs),
            cordoned: worker.cordoned, drainReason: worker.drainReason, health: SchedulerCore.HealthStatus(worker.health),
            load: worker.load.map { SchedulerCore.LoadReport($0) })
    }
}

extension SchedulerCore.Replica {
    /// The Mesh's replica of a message (time in Unix seconds; default resources, which the wire does not carry).
    public init(_ replica: AIMassAPI.Replica) {
        self.init(
            id: ReplicaID(replica.id), deploymentID: DeploymentID(replica.deploymentId), model: replica.model,
            version: replica.version, workerID: replica.workerId.isEmpty ? nil : WorkerID(replica.workerId),
            state: SchedulerCore.ReplicaState(replica.state) ?? .pending, error: replica.error,
            updatedAt: unixSeconds(replica.updatedAtMs), epoch: replica.epoch)
    }
}

extension SchedulerCore.Deployment {
    /// The Mesh's deployment of a message (times in Unix seconds; no replicas).
    public init(_ deployment: AIMassAPI.Deployment) {
        let resources = deployment.resources.map {
            SchedulerCore.Resources(cpuMillis: $0.cpuMillis, memoryBytes: $0.memoryBytes)
        }
        let spec = DeploymentSpec(
            id: DeploymentID(deployment.id), model: deployment.model, version: deployment.resolvedVersion,
            minReplicas: Int(deployment.minReplicas), maxReplicas: Int(deployment.maxReplicas),
            resources: resources ?? .defaults, priority: Int(deployment.priority),
            targetConcurrency: Int(deployment.targetConcurrency),
            selector: deployment.version.map { DeploymentSpec.Selector($0) })
        self.init(
            spec: spec, desiredReplicas: Int(deployment.desiredReplicas), readyReplicas: Int(deployment.readyReplicas),
            state: SchedulerCore.DeploymentState(rawValue: Int(deployment.state.rawValue)) ?? .pending,
            reason: deployment.reason, lacksCapacity: deployment.pendingCode != 0,
            createdAt: unixSeconds(deployment.createdAtMs), updatedAt: unixSeconds(deployment.updatedAtMs))
    }
}

extension MeshCore.Snapshot {
    /// The Mesh's snapshot of a message.
    public init(_ snapshot: AIMassAPI.Snapshot) {
        self.init(
            reset: snapshot.reset, workers: snapshot.workers.map { SchedulerCore.Worker($0) },
            deployments: snapshot.deployments.map { SchedulerCore.Deployment($0) },
            replicas: snapshot.replicas.map { SchedulerCore.Replica($0) })
    }
}

extension MeshCore.MeshEvent {
    /// The Mesh's event of a message.
    ///
    /// - Throws: ``RPCError`` `INTERNAL` for a message without a payload.
    public init(_ event: AIMassAPI.MeshEvent) throws(RPCError) {
        let payload: MeshCore.MeshEvent.Payload
        switch event.payload {
        case .snapshot(let value): payload = .snapshot(MeshCore.Snapshot(value))
        case .workerJoined(let value): payload = .workerJoined(SchedulerCore.Worker(value))
        case .workerLeft(let value): payload = .workerLeft(MeshCore.WorkerLeft(workerId: value.workerId, reason: value.reason))
        case .healthChanged(let value):
            payload = .healthChanged(
                MeshCore.HealthChanged(
                    workerId: value.workerId, previous: SchedulerCore.HealthStatus(value.previous),
                    health: SchedulerCore.HealthStatus(value.health), reason: value.reason))
        case .loadReported(let value): payload = .loadReported(SchedulerCore.LoadReport(value))
        case .replicaPlaced(let value): payload = .replicaPlaced(SchedulerCore.Replica(value))
        case .replicaReady(let value): payload = .replicaReady(SchedulerCore.Replica(value))
        case .replicaDraining(let value): payload = .replicaDraining(SchedulerCore.Replica(value))
        case .replicaRemoved(let value): payload = .replicaRemoved(SchedulerCore.Replica(value))
        case .deploymentScaled(let value): payload = .deploymentScaled(SchedulerCore.Deployment(value))
        case .versionPublished(let value): payload = .versionPublished(MeshCore.ModelVersion(value))
        case .aliasMoved(let value): payload = .aliasMoved(MeshCore.AliasChange(value))
        case .heartbeat: payload = .heartbeat
        case nil: throw RPCError(code: .internalError, message: "mesh event \(event.revision) has no payload")
        }
        self.init(revision: event.revision, occurredAtMs: event.occurredAtMs, payload: payload)
    }
}

/// A Mesh state as bytes, for a journal's checkpoint: length-prefixed `aimass.v1.MeshEvent` messages, a SNAPSHOT at
/// the state's revision (workers, deployments, replicas), then a VERSION_PUBLISHED per published version and an
/// ALIAS_MOVED per alias.
public enum MeshCheckpoint {
    /// Encodes `state`.
    public static func encode(_ state: MeshState) -> [UInt8] {
        var events = [MeshCore.MeshEvent(revision: state.revision, occurredAtMs: 0, payload: .snapshot(state.snapshot()))]
        for (model, numbers) in state.versions.sorted(by: { $0.key < $1.key }) {
            for number in numbers.sorted() {
                events.append(.init(revision: state.revision, occurredAtMs: 0, payload: .versionPublished(.init(model: model, number: number))))
            }
        }
        for (model, aliases) in state.aliases.sorted(by: { $0.key < $1.key }) {
            for (alias, version) in aliases.sorted(by: { $0.key < $1.key }) {
                events.append(
                    .init(revision: state.revision, occurredAtMs: 0, payload: .aliasMoved(.init(model: model, alias: alias, version: version))))
            }
        }
        var bytes: [UInt8] = []
        for event in events {
            let message = AIMassAPI.MeshEvent(event).wireBytes()
            let length = UInt32(message.count)
            bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
            bytes += message
        }
        return bytes
    }

    /// Decodes what ``encode(_:)`` made.
    ///
    /// - Throws: ``RPCError`` `INTERNAL` for bytes that are not a checkpoint.
    public static func decode(_ bytes: [UInt8]) throws(RPCError) -> MeshState {
        var offset = 0
        var snapshot: MeshCore.Snapshot?
        var revision: UInt64 = 0
        var versions: [String: Set<UInt32>] = [:]
        var aliases: [String: [String: UInt32]] = [:]
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { throw RPCError(code: .internalError, message: "truncated mesh checkpoint") }
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard offset + length <= bytes.count else { throw RPCError(code: .internalError, message: "truncated mesh checkpoint") }
            let event = try MeshCore.MeshEvent(AIMassAPI.MeshEvent(wireBytes: Array(bytes[offset..<offset + length])))
            offset += length
            switch event.payload {
            case .snapshot(let value):
                snapshot = value
                revision = event.revision
            case .versionPublished(let version): versions[version.model, default: []].insert(version.number)
            case .aliasMoved(let change): aliases[change.model, default: [:]][change.alias] = change.version
            default: throw RPCError(code: .internalError, message: "unexpected \(event.kind) in a mesh checkpoint")
            }
        }
        guard let snapshot else { throw RPCError(code: .internalError, message: "mesh checkpoint without a snapshot") }
        return MeshState(restoring: snapshot, versions: versions, aliases: aliases, revision: revision)
    }
}
