import Metrics
import SchedulerCore

/// The `aimass_` metrics of one model version served here, labelled `model` and `version`, made once when a replica
/// is added (swift-metrics returns the same series for the same labels, so replicas of one version share them):
/// a call only touches counters it already holds.
///
/// - `aimass_inference_calls_total{model,version,outcome}`: `ok`, `error` (the model failed), `shed` (admission
///   rejected it), `deadline` (its deadline passed or it was cancelled while queued)
/// - `aimass_inference_duration_seconds{model,version}`: from admission to the answer (waits for a thread included)
/// - `aimass_admission_admitted_total`, `aimass_admission_queued_total`, `aimass_admission_shed_total{…,reason}`,
///   `aimass_admission_queue_seconds`, `aimass_admission_limit`
public final class ReplicaMetrics: Sendable {
    /// The version as a label value, made once (also the access log's `version`).
    public let versionLabel: String
    let ok: Counter
    let failed: Counter
    let shedCalls: Counter
    let deadline: Counter
    let duration: Timer
    let admitted: Counter
    let queued: Counter
    let shedQueueFull: Counter
    let shedDeadlineTooShort: Counter
    let queueTime: Timer
    let limit: Gauge
    /// Whether a metrics backend is bootstrapped: reading the limit takes a lock, done only when someone looks.
    let active: Bool

    /// The metrics of `model` at `version`, made by `factory` (the process's by default).
    public init(model: String, version: UInt32, factory: any MetricsFactory = MetricsSystem.factory) {
        let versionLabel = String(version)
        self.versionLabel = versionLabel
        active = !(factory is NOOPMetricsHandler)
        let labels = [("model", model), ("version", versionLabel)]
        func calls(_ outcome: String) -> Counter {
            Counter(label: "aimass_inference_calls_total", dimensions: labels + [("outcome", outcome)], factory: factory)
        }
        func shed(_ reason: String) -> Counter {
            Counter(label: "aimass_admission_shed_total", dimensions: labels + [("reason", reason)], factory: factory)
        }
        ok = calls("ok")
        failed = calls("error")
        shedCalls = calls("shed")
        deadline = calls("deadline")
        duration = Timer(label: "aimass_inference_duration_seconds", dimensions: labels, factory: factory)
        admitted = Counter(label: "aimass_admission_admitted_total", dimensions: labels, factory: factory)
        queued = Counter(label: "aimass_admission_queued_total", dimensions: labels, factory: factory)
        shedQueueFull = shed(GateMetrics.reason(.queueFull))
        shedDeadlineTooShort = shed(GateMetrics.reason(.deadlineTooShort))
        queueTime = Timer(label: "aimass_admission_queue_seconds", dimensions: labels, factory: factory)
        limit = Gauge(label: "aimass_admission_limit", dimensions: labels, factory: factory)
    }

    /// Counts admission's decision on a call.
    func record(_ decision: AdmissionDecision) {
        switch decision {
        case .admitted: admitted.increment()
        case .queued: queued.increment()
        case .rejected(let code, _):
            shedCalls.increment()
            (code == .deadlineTooShort ? shedDeadlineTooShort : shedQueueFull).increment()
        }
    }

    /// A queued call got its turn after `seconds`.
    func admittedFromQueue(after seconds: Double) {
        admitted.increment()
        queueTime.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// One series of `aimass_worker_replicas`: the replicas of a model version held here in one phase.
    struct ReplicaSeries: Hashable, Sendable {
        var model: String
        var version: UInt32
        var phase: ReplicaStore.Phase
    }

    /// Sets `aimass_worker_replicas{model,version,state}` (`loading`, `ready`, `draining`) to these counts.
    static func publishReplicas(_ counts: [ReplicaSeries: Int], factory: any MetricsFactory = MetricsSystem.factory) {
        guard !(factory is NOOPMetricsHandler) else { return }
        for (series, count) in counts {
            let state =
                switch series.phase {
                case .loading: "loading"
                case .ready: "ready"
                case .draining: "draining"
                }
            Gauge(
                label: "aimass_worker_replicas",
                dimensions: [("model", series.model), ("version", String(series.version)), ("state", state)],
                factory: factory
            ).record(count)
        }
    }

    /// A queued call never got its turn.
    func leftQueue(_ error: AdmissionError) {
        switch error.code {
        case .deadlineExceeded, .cancelled: deadline.increment()
        case .deadlineTooShort:
            shedCalls.increment()
            shedDeadlineTooShort.increment()
        default:
            shedCalls.increment()
            shedQueueFull.increment()
        }
    }

    /// An admitted call ended after `seconds` (admission to answer); `succeeded` when the model answered.
    func callEnded(seconds: Double, succeeded: Bool, limit current: @autoclosure () -> Int) {
        guard active else { return }
        duration.recordNanoseconds(Int64(seconds * 1e9))
        (succeeded ? ok : failed).increment()
        limit.record(current())
    }
}
