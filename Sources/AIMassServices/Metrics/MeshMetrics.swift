import MeshCore
import Metrics

/// The mesh's `Watch` streams as the control plane serves them:
///
/// - `aimass_mesh_subscribers`: `Watch` streams open now
/// - `aimass_mesh_events_sent_total`: events written to `Watch` streams (heartbeats and snapshots included)
/// - `aimass_mesh_subscribers_dropped_total{reason}`: streams the hub ended, their queued events dropped:
///   `too_slow` (the subscriber fell more than its buffer behind), `shutdown`
///
/// Made once per process (the service is a value type, copied into its handlers).
final class MeshMetrics: Sendable {
    static let shared = MeshMetrics()

    let subscribers: Meter
    let eventsSent: Counter
    private let droppedTooSlow: Counter
    private let droppedShutdown: Counter

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        subscribers = Meter(label: "aimass_mesh_subscribers", factory: factory)
        eventsSent = Counter(label: "aimass_mesh_events_sent_total", factory: factory)
        droppedTooSlow = Counter(
            label: "aimass_mesh_subscribers_dropped_total", dimensions: [("reason", "too_slow")], factory: factory
        )
        droppedShutdown = Counter(
            label: "aimass_mesh_subscribers_dropped_total", dimensions: [("reason", "shutdown")], factory: factory
        )
    }

    /// Counts a stream the hub ended with `error`.
    func dropped(_ error: MeshError) {
        if case .subscriberTooSlow = error { droppedTooSlow.increment() } else { droppedShutdown.increment() }
    }
}
