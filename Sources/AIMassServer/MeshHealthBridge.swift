import Logging
import MeshCore
import RPCHealth
import SchedulerCore

/// Keeps `grpc.health.v1` in step with the mesh: `worker/<id>`, `model/<name>` and the overall (`""`) status follow
/// ``MeshHub/health``.
///
/// It subscribes to the worker and replica kinds and re-reads the hub's ``HealthView`` on every event, so a missed
/// or coalesced event never leaves a stale status. A worker that left reads NOT_SERVING (the health service has no
/// removal). Runs until its task is cancelled or the hub shuts down.
struct MeshHealthBridge: Sendable {
    let hub: MeshHub
    let health: HealthService

    static let kinds: Set<EventKind> = [
        .workerJoined, .workerLeft, .healthChanged, .replicaReady, .replicaDraining, .replicaRemoved,
    ]

    func run() async {
        var published: [String: ServingStatus] = [:]
        while !Task.isCancelled {
            let subscription = hub.subscribe(
                fromRevision: 0, filter: MeshFilter(kinds: Self.kinds), heartbeatInterval: .zero)
            do {
                for try await event in subscription where event.kind != .heartbeat {
                    published = apply(hub.health, over: published)
                }
                return  // cancelled
            } catch MeshError.shuttingDown {
                return
            } catch {
                // Too slow: subscribe again; the snapshot makes the view current.
                continue
            }
        }
    }

    /// Sets every status of `view` that differs from `published`; returns what is published now.
    func apply(_ view: HealthView, over published: [String: ServingStatus]) -> [String: ServingStatus] {
        var statuses: [String: ServingStatus] = ["": Self.serving(view.overall)]
        for (id, status) in view.workers { statuses["worker/\(id)"] = Self.serving(status) }
        for (model, status) in view.models { statuses["model/\(model)"] = Self.serving(status) }
        for name in published.keys where statuses[name] == nil { statuses[name] = .notServing }
        for (name, status) in statuses where published[name] != status {
            health.setStatus(status, for: name)
        }
        return statuses
    }

    static func serving(_ status: SchedulerCore.HealthStatus) -> ServingStatus {
        status == .serving ? .serving : .notServing
    }
}
