import AIMassAPI
import MeshCore
import RPCCore
import SchedulerCore

/// What the mesh was last told about the pool, to publish only the differences.
struct PublishedView: Sendable {
    var workers: [String: MeshCore.Worker] = [:]
    var replicas: [String: MeshCore.Replica] = [:]
    var deployments: [String: MeshCore.Deployment] = [:]
}

extension SchedulerController {
    /// The pool as `GetPool` reports it: every worker with capacity, allocation, health, replicas and latest load.
    public var pool: [AIMassAPI.Worker] {
        state.withLock { s in
            s.core.pool.map { apiWorker($0, s) }
        }
    }

    /// One worker of the pool as `GetPool` reports it, or `nil`.
    public func worker(_ id: WorkerID) -> AIMassAPI.Worker? {
        state.withLock { s in s.core.pool.first { $0.id == id }.map { apiWorker($0, s) } }
    }

    func apiWorker(_ worker: SchedulerCore.Worker, _ s: State) -> AIMassAPI.Worker {
        AIMassAPI.Worker(
            id: worker.id.rawValue, address: worker.address, capacity: Self.apiCapacity(worker.capacity),
            allocated: Self.apiCapacity(worker.allocated), health: Self.apiHealth(worker, s),
            replicas: worker.replicas.map(apiReplica), load: s.loads[worker.id],
            joinedAtMs: wallMs(worker.joinedAt), lastSeenAtMs: wallMs(worker.lastSeen), cordoned: worker.cordoned,
            drainReason: worker.drainReason
        )
    }

    /// NOT_SERVING while its stream is down, DRAINING once told to drain, SERVING otherwise.
    static func apiHealth(_ worker: SchedulerCore.Worker, _ s: State) -> AIMassAPI.HealthStatus {
        guard s.sessions[worker.id]?.connected == true else { return .notServing }
        return worker.drained ? .draining : .serving
    }

    /// A deployment as the API reports it, with its replicas.
    public func apiDeployment(_ d: SchedulerCore.Deployment) -> AIMassAPI.Deployment {
        apiDeployment(d, selector: selector(of: d.spec.id))
    }

    func apiReplica(_ r: SchedulerCore.Replica) -> AIMassAPI.Replica {
        AIMassAPI.Replica(
            id: r.id.rawValue, deploymentId: r.deploymentID.rawValue, model: r.model, version: r.version,
            workerId: r.workerID?.rawValue ?? "", state: AIMassAPI.ReplicaState(rawValue: Int32(r.state.rawValue) + 1) ?? .unspecified,
            error: r.error, updatedAtMs: wallMs(r.updatedAt)
        )
    }

    static func apiCapacity(_ c: SchedulerCore.Capacity) -> AIMassAPI.Capacity {
        AIMassAPI.Capacity(cpuMillis: c.cpuMillis, memoryBytes: c.memoryBytes, replicaSlots: UInt32(clamping: c.replicaSlots))
    }

    static func apiState(_ state: SchedulerCore.DeploymentState) -> AIMassAPI.DeploymentState {
        switch state {
        case .pending: .pending
        case .progressing: .progressing
        case .ready: .ready
        case .degraded: .degraded
        case .failed: .failed
        case .deleting: .deleting
        }
    }

    // MARK: Mesh

    /// Publishes to the mesh what changed since the last call (called under the lock after every event).
    func publishChanges(_ s: inout State) {
        var workers: [String: MeshCore.Worker] = [:]
        var drainReasons: [String: String] = [:]
        for worker in s.core.pool {
            drainReasons[worker.id.rawValue] = worker.drainReason
            workers[worker.id.rawValue] = MeshCore.Worker(
                id: worker.id.rawValue, address: worker.address, capacity: Self.meshCapacity(worker.capacity),
                allocated: Self.meshCapacity(worker.allocated),
                health: MeshCore.HealthStatus(rawValue: Int(Self.apiHealth(worker, s).rawValue)) ?? .unspecified,
                joinedAtMs: wallMs(worker.joinedAt), lastSeenAtMs: wallMs(worker.lastSeen)
            )
        }
        var replicas: [String: MeshCore.Replica] = [:]
        var deployments: [String: MeshCore.Deployment] = [:]
        for d in s.core.allDeployments {
            let api = apiDeployment(d, selector: s.selectors[d.spec.id])
            deployments[api.id] = Self.meshDeployment(api)
            for r in api.replicas { replicas[r.id] = Self.meshReplica(r) }
        }
        PoolMetrics.publish(workers: workers, replicas: replicas, deployments: deployments)
        let old = s.published
        func publish(_ payload: MeshCore.MeshEvent.Payload) { _ = try? mesh.publish(payload) }
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) {
            if let previous = old.workers[id] {
                if previous.health != worker.health {
                    let reason =
                        switch worker.health {
                        case .serving: previous.health == .draining ? "uncordoned" : "stream connected"
                        case .draining: "drained: \(drainReasons[id] ?? "")"
                        default: "stream lost: lease running"
                        }
                    publish(.healthChanged(HealthChanged(workerId: id, health: worker.health, reason: reason)))
                }
            } else {
                publish(.workerJoined(worker))
            }
        }
        for (id, replica) in replicas.sorted(by: { $0.key < $1.key }) where old.replicas[id] != replica {
            switch replica.state {
            case .ready: publish(.replicaReady(replica))
            case .draining: publish(.replicaDraining(replica))
            default: publish(.replicaPlaced(replica))
            }
        }
        for (id, replica) in old.replicas.sorted(by: { $0.key < $1.key }) where replicas[id] == nil {
            var gone = replica
            gone.state = .removed
            publish(.replicaRemoved(gone))
        }
        for (id, deployment) in deployments.sorted(by: { $0.key < $1.key }) where old.deployments[id] != deployment {
            publish(.deploymentScaled(deployment))
        }
        for (id, deployment) in old.deployments.sorted(by: { $0.key < $1.key }) where deployments[id] == nil {
            var gone = deployment
            gone.state = .deleting
            publish(.deploymentScaled(gone))
        }
        for id in old.workers.keys.sorted() where workers[id] == nil {
            let reason = s.departures[WorkerID(id)] ?? WorkerLossReason.left.description
            publish(.workerLeft(WorkerLeft(workerId: id, reason: reason)))
        }
        s.departures = [:]
        s.published = PublishedView(workers: workers, replicas: replicas, deployments: deployments)
    }

    private func apiDeployment(_ d: SchedulerCore.Deployment, selector: AIMassAPI.VersionSelector?) -> AIMassAPI.Deployment {
        var api = apiDeploymentWithoutLock(d)
        api.version = selector ?? AIMassAPI.VersionSelector(number: d.spec.version)
        return api
    }

    /// ``apiDeployment(_:)`` without reading the selector (which takes the lock).
    private func apiDeploymentWithoutLock(_ d: SchedulerCore.Deployment) -> AIMassAPI.Deployment {
        let spec = d.spec
        return AIMassAPI.Deployment(
            id: spec.id.rawValue, model: spec.model, version: nil, resolvedVersion: spec.version,
            minReplicas: UInt32(clamping: spec.minReplicas), maxReplicas: UInt32(clamping: spec.maxReplicas),
            desiredReplicas: UInt32(clamping: d.desiredReplicas), readyReplicas: UInt32(clamping: d.readyReplicas),
            resources: AIMassAPI.Resources(cpuMillis: spec.resources.cpuMillis, memoryBytes: spec.resources.memoryBytes),
            priority: Int32(clamping: spec.priority), targetConcurrency: UInt32(clamping: spec.targetConcurrency),
            state: Self.apiState(d.state), reason: d.reason, replicas: d.replicas.map(apiReplica),
            createdAtMs: wallMs(d.createdAt), updatedAtMs: wallMs(d.updatedAt),
            pendingCode: d.lacksCapacity ? Int32(StatusCode.resourceExhausted.rawValue) : 0
        )
    }

    static func meshCapacity(_ c: SchedulerCore.Capacity) -> MeshCore.Capacity {
        MeshCore.Capacity(cpuMillis: c.cpuMillis, memoryBytes: c.memoryBytes, replicaSlots: UInt32(clamping: c.replicaSlots))
    }

    static func meshReplica(_ r: AIMassAPI.Replica) -> MeshCore.Replica {
        MeshCore.Replica(
            id: r.id, deploymentId: r.deploymentId, model: r.model, version: r.version, workerId: r.workerId,
            state: MeshCore.ReplicaState(rawValue: Int(r.state.rawValue)) ?? .unspecified, error: r.error,
            updatedAtMs: r.updatedAtMs
        )
    }

    static func meshDeployment(_ d: AIMassAPI.Deployment) -> MeshCore.Deployment {
        MeshCore.Deployment(
            id: d.id, model: d.model,
            version: MeshCore.VersionSelector(number: d.version?.number ?? 0, alias: d.version?.alias ?? ""),
            resolvedVersion: d.resolvedVersion, minReplicas: d.minReplicas, maxReplicas: d.maxReplicas,
            desiredReplicas: d.desiredReplicas, readyReplicas: d.readyReplicas,
            resources: MeshCore.Resources(cpuMillis: d.resources?.cpuMillis ?? 0, memoryBytes: d.resources?.memoryBytes ?? 0),
            priority: d.priority, targetConcurrency: d.targetConcurrency,
            state: MeshCore.DeploymentState(rawValue: Int(d.state.rawValue)) ?? .unspecified, reason: d.reason,
            createdAtMs: d.createdAtMs, updatedAtMs: d.updatedAtMs
        )
    }

    static func meshLoad(_ l: AIMassAPI.Load?) -> MeshCore.Load {
        guard let l else { return MeshCore.Load() }
        return MeshCore.Load(
            replicaId: l.replicaId, inFlight: l.inFlight, queueDepth: l.queueDepth, servedPerSec: l.servedPerSec,
            rejectedPerSec: l.rejectedPerSec, latencyEwmaUs: l.latencyEwmaUs, utilisation: l.utilisation
        )
    }

    static func meshLoadReport(_ r: AIMassAPI.LoadReport) -> MeshCore.LoadReport {
        MeshCore.LoadReport(
            workerId: r.workerId, reportedAtMs: r.reportedAtMs, total: meshLoad(r.total), replicas: r.replicas.map { meshLoad($0) }
        )
    }
}
