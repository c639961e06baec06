import AIMassAPI
import MeshCore
import RPCCore
import SchedulerCore

extension SchedulerController {
    /// The pool as `GetPool` reports it: every worker with capacity, allocation, health, replicas and latest load.
    public var pool: [AIMassAPI.Worker] {
        state.withLock { s in s.core.pool.map(apiWorker) }
    }

    /// One worker of the pool as `GetPool` reports it, or `nil`.
    public func worker(_ id: WorkerID) -> AIMassAPI.Worker? {
        state.withLock { s in s.core.pool.first { $0.id == id }.map(apiWorker) }
    }

    /// A deployment as the API reports it, with its replicas.
    public func apiDeployment(_ d: SchedulerCore.Deployment) -> AIMassAPI.Deployment {
        AIMassAPI.Deployment(published(d))
    }

    private func apiWorker(_ worker: SchedulerCore.Worker) -> AIMassAPI.Worker {
        var published = worker
        published.joinedAt += clockOffset
        published.lastSeen += clockOffset
        published.replicas = worker.replicas.map { $0.with(updatedAt: $0.updatedAt + clockOffset) }
        return AIMassAPI.Worker(published)
    }

    /// The deployment with its times (and its replicas' times) on the Unix clock.
    private func published(_ deployment: SchedulerCore.Deployment) -> SchedulerCore.Deployment {
        var published = deployment
        published.createdAt += clockOffset
        published.updatedAt += clockOffset
        published.replicas = deployment.replicas.map { $0.with(updatedAt: $0.updatedAt + clockOffset) }
        return published
    }

    // MARK: Mesh

    /// Publishes to the mesh what changed since the last call (called under the lock after every event).
    func publishChanges(_ s: inout State) {
        var view = s.core.view(clockOffset: clockOffset)
        PoolMetrics.publish(view)
        // While a restarted control plane (or a new leader) waits for the workers known before, what the Mesh was
        // told about them stays: they keep serving their replicas, so clients keep routing to them. Those not back
        // when the hold ends leave then.
        if s.core.isHoldingAfterRestart(now: MonotonicTime.now()) {
            for id in s.core.awaitedWorkers where view.workers[id] == nil {
                guard let worker = s.published.workers[id] else { continue }
                view.workers[id] = worker
                for replica in s.published.replicas.values where replica.workerID == id && view.replicas[replica.id] == nil {
                    view.replicas[replica.id] = replica
                }
            }
        }
        for change in view.changes(since: s.published, departures: s.departures) {
            _ = try? mesh.publish(MeshEvent.Payload(change))
        }
        s.departures = [:]
        s.published = view
    }
}
