/// What the Mesh is told about the pool: every worker and deployment (without their replica lists) and every
/// replica, with times in Unix seconds. ``changes(since:departures:)`` turns two views into the events that lead
/// from one to the other.
public struct PoolView: Hashable, Sendable {
    /// Workers by id (no replicas, no load: load reports travel on their own).
    public var workers: [WorkerID: Worker]
    /// Deployments by id (no replicas).
    public var deployments: [DeploymentID: Deployment]
    /// Replicas not gone, placed or not, by id.
    public var replicas: [ReplicaID: Replica]

    /// Creates a view (empty by default: nothing published yet).
    public init(workers: [WorkerID: Worker] = [:], deployments: [DeploymentID: Deployment] = [:], replicas: [ReplicaID: Replica] = [:]) {
        self.workers = workers
        self.deployments = deployments
        self.replicas = replicas
    }

    /// The events that turn `old` into this view, in the order subscribers need them: workers joined or changed
    /// health, replicas changed, replicas removed, deployments changed, deployments removed, workers left (each
    /// group ordered by id). `departures` says why each worker that is gone left (default: it left the pool).
    public func changes(since old: PoolView, departures: [WorkerID: WorkerLossReason] = [:]) -> [PoolChange] {
        var changes: [PoolChange] = []
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) {
            guard let previous = old.workers[id] else {
                changes.append(.workerJoined(worker))
                continue
            }
            guard previous.health != worker.health else { continue }
            let reason =
                switch worker.health {
                case .serving: previous.health == .draining ? "uncordoned" : "stream connected"
                case .draining: "drained: \(worker.drainReason)"
                default: "stream lost: lease running"
                }
            changes.append(.healthChanged(id, from: previous.health, to: worker.health, reason: reason))
        }
        for (id, replica) in Self.byName(replicas) where old.replicas[id] != replica {
            changes.append(.replicaChanged(replica))
        }
        for (id, replica) in Self.byName(old.replicas) where replicas[id] == nil {
            changes.append(.replicaChanged(replica.with(state: .removed)))
        }
        for (id, deployment) in deployments.sorted(by: { $0.key < $1.key }) where old.deployments[id] != deployment {
            changes.append(.deploymentChanged(deployment))
        }
        for (id, deployment) in old.deployments.sorted(by: { $0.key < $1.key }) where deployments[id] == nil {
            var gone = deployment
            gone.state = .deleting
            changes.append(.deploymentChanged(gone))
        }
        for id in old.workers.keys.sorted() where workers[id] == nil {
            changes.append(.workerLeft(id, reason: (departures[id] ?? .left).description))
        }
        return changes
    }

    /// Replicas ordered by their id's text (as the Mesh has always announced them).
    private static func byName(_ replicas: [ReplicaID: Replica]) -> [(key: ReplicaID, value: Replica)] {
        replicas.sorted { $0.key.rawValue < $1.key.rawValue }
    }
}

/// One change of the published pool (``PoolView/changes(since:departures:)``); the Mesh event kind follows from it.
public enum PoolChange: Hashable, Sendable {
    /// A worker joined (WORKER_JOINED).
    case workerJoined(Worker)
    /// A worker's health changed (HEALTH_CHANGED).
    case healthChanged(WorkerID, from: HealthStatus, to: HealthStatus, reason: String)
    /// A replica was placed or changed state (REPLICA_PLACED, _READY, _DRAINING, or _REMOVED for `.removed`).
    case replicaChanged(Replica)
    /// A deployment changed; one in state `.deleting` is gone (DEPLOYMENT_SCALED).
    case deploymentChanged(Deployment)
    /// A worker left the pool (WORKER_LEFT).
    case workerLeft(WorkerID, reason: String)
}

extension SchedulerState {
    /// The pool as the Mesh sees it now, times moved by `clockOffset` seconds (from the caller's clock to Unix
    /// seconds).
    public func view(clockOffset: Double) -> PoolView {
        var view = PoolView()
        for var worker in pool {
            worker.replicas = []
            worker.load = nil
            worker.joinedAt += clockOffset
            worker.lastSeen += clockOffset
            view.workers[worker.id] = worker
        }
        for var deployment in allDeployments {
            for replica in deployment.replicas { view.replicas[replica.id] = replica.published(clockOffset: clockOffset) }
            deployment.replicas = []
            deployment.createdAt += clockOffset
            deployment.updatedAt += clockOffset
            view.deployments[deployment.id] = deployment
        }
        return view
    }
}
