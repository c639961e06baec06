import SchedulerCore

/// Health of the control plane, each worker and each model at one revision, for `grpc.health.v1`.
public struct HealthView: Sendable, Hashable {
    /// Revision of the state it was read from.
    public var revision: UInt64
    /// The control plane itself: serving, or draining once the hub shuts down. The `""` service.
    public var overall: HealthStatus
    /// Health of each worker by id.
    public var workers: [String: HealthStatus]
    /// Per model: serving when a ready replica sits on a serving worker, else not serving.
    public var models: [String: HealthStatus]

    /// Reads the view from a state.
    public init(state: MeshState, shuttingDown: Bool = false) {
        self.revision = state.revision
        self.overall = shuttingDown ? .draining : .serving
        self.workers = state.workers.mapValues(\.health)
        var models: [String: HealthStatus] = [:]
        for deployment in state.deployments.values {
            models[deployment.model] = .notServing
        }
        for replica in state.replicas.values where replica.state == .ready {
            if let worker = replica.workerID, state.workers[worker.rawValue]?.health == .serving {
                models[replica.model] = .serving
            } else if models[replica.model] == nil {
                models[replica.model] = .notServing
            }
        }
        self.models = models
    }

    /// Status of a `grpc.health.v1` service name: `""` is ``overall``, `worker/<id>` a worker, `model/<name>` a
    /// model; nil for an unknown name (`NOT_FOUND` in Check, `SERVICE_UNKNOWN` in Watch).
    public func status(forService service: String) -> HealthStatus? {
        if service.isEmpty { return self.overall }
        if service.hasPrefix("worker/") { return self.workers[String(service.dropFirst("worker/".count))] }
        if service.hasPrefix("model/") { return self.models[String(service.dropFirst("model/".count))] }
        return nil
    }
}
