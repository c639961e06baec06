import Metrics
import SchedulerCore

/// The server-wide call gate's metrics (``AdmissionCallGate``), unlabelled but for the shed reason: the gate sees a
/// call before its request is decoded, so it knows no model.
///
/// `aimass_gate_admitted_total`, `aimass_gate_queued_total`, `aimass_gate_shed_total{reason}`,
/// `aimass_gate_queue_seconds`, `aimass_gate_limit`, `aimass_gate_in_flight`.
final class GateMetrics: Sendable {
    let admitted: Counter
    let queued: Counter
    let shedQueueFull: Counter
    let shedDeadlineTooShort: Counter
    let shedQueueTimeout: Counter
    let shedDeadlineExceeded: Counter
    let queueTime: Timer
    let limit: Gauge
    /// Moved by one on each admission and end (atomic adds): recording the new count instead left the gauge at
    /// whichever of two concurrent ends recorded last, not at the count.
    let inFlight: Meter
    /// Whether a metrics backend is bootstrapped (reading the limit takes a lock: done only then).
    let active: Bool

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        func shed(_ reason: String) -> Counter {
            Counter(label: "aimass_gate_shed_total", dimensions: [("reason", reason)], factory: factory)
        }
        admitted = Counter(label: "aimass_gate_admitted_total", factory: factory)
        queued = Counter(label: "aimass_gate_queued_total", factory: factory)
        shedQueueFull = shed(Self.reason(.queueFull))
        shedDeadlineTooShort = shed(Self.reason(.deadlineTooShort))
        shedQueueTimeout = shed("queue_timeout")
        shedDeadlineExceeded = shed(Self.reason(.deadlineExceeded))
        queueTime = Timer(label: "aimass_gate_queue_seconds", factory: factory)
        limit = Gauge(label: "aimass_gate_limit", factory: factory)
        inFlight = Meter(label: "aimass_gate_in_flight", factory: factory)
        active = !(factory is NOOPMetricsHandler)
    }

    /// The `reason` label of an admission rejection.
    static func reason(_ code: AdmissionError.Code) -> String {
        switch code {
        case .queueFull: "queue_full"
        case .deadlineTooShort: "deadline_too_short"
        case .deadlineExceeded: "deadline_exceeded"
        case .cancelled: "cancelled"
        default: "other"
        }
    }

    /// Counts a shed by its admission code.
    func shed(_ code: AdmissionError.Code) {
        (code == .deadlineTooShort ? shedDeadlineTooShort : shedQueueFull).increment()
    }
}
