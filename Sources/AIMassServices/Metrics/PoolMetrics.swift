import Metrics
import SchedulerCore
import Synchronization

/// The control plane's view of the pool as gauges, set where ``SchedulerController`` publishes that view to the mesh
/// (one call per change, not per inference call), and the autoscaler's decisions as counters.
///
/// - `aimass_replicas{model,version,state}`: replicas by state (`pending`, `downloading`, `loading`, `ready`,
///   `draining`, `failed`)
/// - `aimass_deployment_replicas_desired{model,version}` and `aimass_deployment_replicas_ready{model,version}`: what
///   the autoscaler (or the operator) asks for, and what serves
/// - `aimass_autoscaler_decisions_total{model,version,direction}`: the autoscaler changed the desired count (`up`,
///   `down`)
/// - `aimass_worker_capacity{worker,resource}` and `aimass_worker_allocated{worker,resource}` (`cpu_millis`,
///   `memory_bytes`, `replica_slots`), `aimass_worker_utilisation{worker}` (busy fraction from its load report)
///
/// A series that leaves the view (a deployment removed, a worker gone) is set to 0 once, so no stale value remains.
enum PoolMetrics {
    /// The gauge series set last time, to zero those that disappear.
    private static let lastSeries = Mutex<Set<GaugeSeries>>([])

    struct GaugeSeries: Hashable {
        var name: String
        var labels: [String]
    }

    private static var active: Bool { !(MetricsSystem.factory is NOOPMetricsHandler) }

    /// Sets the pool's gauges from the view being published.
    static func publish(_ view: PoolView) {
        guard active else { return }
        var values: [GaugeSeries: Double] = [:]
        func set(_ name: String, _ labels: [(String, String)], _ value: Double) {
            values[GaugeSeries(name: name, labels: labels.flatMap { [$0.0, $0.1] }), default: 0] += value
        }
        for replica in view.replicas.values {
            set("aimass_replicas", [("model", replica.model), ("version", String(replica.version)),
                                    ("state", stateLabel(replica.state))], 1)
        }
        for deployment in view.deployments.values {
            let labels = [("model", deployment.spec.model), ("version", String(deployment.spec.version))]
            set("aimass_deployment_replicas_desired", labels, Double(deployment.desiredReplicas))
            set("aimass_deployment_replicas_ready", labels, Double(deployment.readyReplicas))
        }
        for worker in view.workers.values {
            for (resource, capacity, allocated) in [
                ("cpu_millis", Double(worker.capacity.cpuMillis), Double(worker.allocated.cpuMillis)),
                ("memory_bytes", Double(worker.capacity.memoryBytes), Double(worker.allocated.memoryBytes)),
                ("replica_slots", Double(worker.capacity.replicaSlots), Double(worker.allocated.replicaSlots)),
            ] {
                set("aimass_worker_capacity", [("worker", worker.id.rawValue), ("resource", resource)], capacity)
                set("aimass_worker_allocated", [("worker", worker.id.rawValue), ("resource", resource)], allocated)
            }
        }
        // Utilisation comes from load reports: kept while its worker is in the pool.
        write(values, keeping: { $0.name == "aimass_worker_utilisation" && view.workers[WorkerID($0.labels[1])] != nil })
    }

    /// Sets `aimass_worker_utilisation{worker}` from a worker's load report.
    static func loadReported(worker: String, utilisation: Double) {
        guard active else { return }
        write([GaugeSeries(name: "aimass_worker_utilisation", labels: ["worker", worker]): utilisation], keeping: { _ in true })
    }

    /// Counts an autoscaler decision that changed a deployment's desired replicas from `from` to `to`.
    static func autoscaled(model: String, version: UInt32, from: Int, to: Int) {
        guard active, from != to else { return }
        Counter(
            label: "aimass_autoscaler_decisions_total",
            dimensions: [("model", model), ("version", String(version)), ("direction", to > from ? "up" : "down")]
        ).increment()
    }

    /// Records `values`; series set last time and absent now go to 0, unless `keeping` says they are managed
    /// elsewhere (set by another call).
    private static func write(_ values: [GaugeSeries: Double], keeping: (GaugeSeries) -> Bool) {
        lastSeries.withLock { last in
            var zeroed: [GaugeSeries] = []
            for series in last where values[series] == nil && !keeping(series) { zeroed.append(series) }
            for series in zeroed { gauge(series).record(0) }
            for (series, value) in values { gauge(series).record(value) }
            last.subtract(zeroed)
            last.formUnion(values.keys)
        }
    }

    private static func gauge(_ series: GaugeSeries) -> Gauge {
        var dimensions: [(String, String)] = []
        var index = 0
        while index + 1 < series.labels.count {
            dimensions.append((series.labels[index], series.labels[index + 1]))
            index += 2
        }
        return Gauge(label: series.name, dimensions: dimensions)
    }

    static func stateLabel(_ state: ReplicaState) -> String {
        switch state {
        case .pending: "pending"
        case .downloading: "downloading"
        case .loading: "loading"
        case .ready: "ready"
        case .draining: "draining"
        case .removed: "removed"
        case .failed: "failed"
        }
    }
}
