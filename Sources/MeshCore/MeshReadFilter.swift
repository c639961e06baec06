import SchedulerCore

/// Leaves out of a subscriber's events what it may not read: the deployments, replicas, versions, alias moves and
/// per-replica load figures of models outside `canRead` (`mesh.proto`: "models the caller cannot read are left out").
/// Workers and their totals stay: they are the pool, not a model.
///
/// A load report names replicas by id only, so the filter remembers which replica ids it hid (from snapshots and
/// replica events) to strip their figures.
public struct MeshReadFilter {
    private let canRead: (String) -> Bool
    private var hiddenReplicas: Set<String> = []

    /// - Parameter canRead: Whether the subscriber may read a model (asked per event; cache behind it).
    public init(canRead: @escaping (String) -> Bool) {
        self.canRead = canRead
    }

    /// The event as the subscriber may see it; `nil` when nothing of it is visible.
    public mutating func visible(_ event: MeshEvent) -> MeshEvent? {
        var event = event
        switch event.payload {
        case .snapshot(var snapshot):
            snapshot.deployments.removeAll { !canRead($0.model) }
            snapshot.replicas.removeAll { replica in
                if canRead(replica.model) { return false }
                hiddenReplicas.insert(replica.id.rawValue)
                return true
            }
            for index in snapshot.workers.indices { snapshot.workers[index].load?.replicas.removeAll(where: isHidden) }
            event.payload = .snapshot(snapshot)
        case .replicaPlaced(let replica), .replicaReady(let replica), .replicaDraining(let replica),
            .replicaRemoved(let replica):
            guard canRead(replica.model) else {
                hiddenReplicas.insert(replica.id.rawValue)
                return nil
            }
        case .deploymentScaled, .versionPublished, .aliasMoved:
            guard let model = event.payload.model, canRead(model) else { return nil }
        case .loadReported(var report):
            report.replicas.removeAll(where: isHidden)
            event.payload = .loadReported(report)
        case .workerJoined(var worker):
            worker.load?.replicas.removeAll(where: isHidden)
            event.payload = .workerJoined(worker)
        case .workerLeft, .healthChanged, .heartbeat:
            break
        }
        return event
    }

    private func isHidden(_ load: Load) -> Bool { hiddenReplicas.contains(load.replicaId) }
}
