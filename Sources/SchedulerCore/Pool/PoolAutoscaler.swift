/// The autoscaling of every deployment of the pool: one ``Autoscaler`` per deployment fed from the workers' load
/// reports, and the scale-down hold after each scale-up. Pure: time is passed in.
///
/// ```swift
/// var autoscaling = PoolAutoscaler(configuration: .defaults)
/// for change in autoscaling.evaluate(state.allDeployments, loads: state.replicaLoads, now: now) {
///     actions += try state.scale(change.deployment, desiredReplicas: change.to, now: now)
/// }
/// ```
public struct PoolAutoscaler: Sendable {
    /// A deployment's desired count should change.
    public struct ScaleChange: Hashable, Sendable {
        /// The deployment.
        public var deployment: DeploymentID
        /// Its desired count now.
        public var from: Int
        /// The count to set.
        public var to: Int
    }

    /// Windows and thresholds of every deployment's autoscaler.
    public let configuration: Autoscaler.Configuration
    /// Each deployment's autoscaler with its history.
    public private(set) var scalers: [DeploymentID: Autoscaler] = [:]
    /// Each deployment's latest decision (what it wanted before the scale-down hold), for gauges.
    public private(set) var lastDecisions: [DeploymentID: Autoscaler.Decision] = [:]
    /// When the autoscaler last scaled each deployment up: scale-downs wait one stable window after it.
    public private(set) var lastScaleUp: [DeploymentID: Double] = [:]

    /// Creates the autoscaling of an empty pool.
    public init(configuration: Autoscaler.Configuration = .defaults) {
        self.configuration = configuration
    }

    /// No scale-down of `deployment` for one stable window from `now` (a restarted control plane has no history).
    public mutating func holdScaleDown(_ deployment: DeploymentID, now: Double) {
        lastScaleUp[deployment] = now
    }

    /// Forgets a deployment that is gone.
    public mutating func forget(_ deployment: DeploymentID) {
        scalers[deployment] = nil
        lastDecisions[deployment] = nil
        lastScaleUp[deployment] = nil
    }

    /// One autoscaling pass: records each deployment's offered concurrency and throughput from its replicas'
    /// `loads` (by replica id), and returns the deployments whose desired count should change.
    public mutating func evaluate(_ deployments: [Deployment], loads: [String: Load], now: Double) -> [ScaleChange] {
        var changes: [ScaleChange] = []
        for deployment in deployments where deployment.state != .deleting {
            let spec = deployment.spec
            let target = max(spec.targetConcurrency, 1)
            var scaler =
                scalers[spec.id]
                ?? Autoscaler(
                    targetConcurrency: spec.targetConcurrency, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas,
                    configuration: configuration
                )
            scaler.targetConcurrency = target
            scaler.minReplicas = spec.minReplicas
            scaler.maxReplicas = spec.maxReplicas
            let reported = deployment.replicas.compactMap { loads[$0.id.rawValue] }
            let total = reported.reduce(0.0) { $0 + Self.offeredConcurrency($1, targetConcurrency: target) }
            scaler.record(concurrency: total, at: now)
            scaler.record(
                servedPerSecond: reported.reduce(0) { $0 + $1.servedPerSec },
                rejectedPerSecond: reported.reduce(0) { $0 + $1.rejectedPerSec }, replicas: deployment.readyReplicas, at: now
            )
            let decision = scaler.decide(current: deployment.desiredReplicas, now: now)
            scalers[spec.id] = scaler
            lastDecisions[spec.id] = decision
            let desired = Self.holdingScaleDown(
                current: deployment.desiredReplicas, desired: decision.desired, lastScaleUp: lastScaleUp[spec.id], now: now,
                delay: configuration.stableWindow
            )
            if desired > deployment.desiredReplicas { lastScaleUp[spec.id] = now }
            if desired != deployment.desiredReplicas {
                changes.append(ScaleChange(deployment: spec.id, from: deployment.desiredReplicas, to: desired))
            }
        }
        return changes
    }

    /// `desired`, except that no scale-down happens within `delay` seconds (one stable window) of a scale-up.
    ///
    /// Once new replicas are ready, a deployment that was shedding stops shedding and its signal falls back to
    /// what the replicas serve, often below the target: without this delay it scaled down on the next tick and
    /// up again once shedding resumed (2 -> 1 -> 2 within seconds under steady load).
    public static func holdingScaleDown(current: Int, desired: Int, lastScaleUp: Double?, now: Double, delay: Double) -> Int {
        guard desired < current, let lastScaleUp, now - lastScaleUp < delay else { return desired }
        return current
    }

    /// The concurrency a replica's load report stands for, as the autoscaler sees it: its in-flight plus queued
    /// calls, and, when it shed calls since its previous report, the demand it turned away too.
    ///
    /// Admission control caps what a busy replica can report: its adaptive limit (which shrinks under
    /// congestion, often below the target) plus a queue bounded to about one service time. Everything beyond is
    /// rejected at once and never shows up as in-flight or queued, so a replica shedding most of its callers
    /// reported about the target concurrency and the deployment never scaled up. A shedding replica is full:
    /// its concurrency counts as at least the target, scaled by offered over served calls.
    public static func offeredConcurrency(_ load: Load, targetConcurrency: Int) -> Double {
        let observed = Double(load.inFlight) + Double(load.queueDepth)
        guard load.rejectedPerSec > 0 else { return observed }
        let offered = (load.servedPerSec + load.rejectedPerSec) / max(load.servedPerSec, 1)
        return max(observed, Double(targetConcurrency)) * min(offered, 100)
    }
}

extension SchedulerState {
    /// The latest load figure of every replica, by replica id, from the workers' load reports.
    public var replicaLoads: [String: Load] {
        var loads: [String: Load] = [:]
        for worker in workers.values {
            for load in worker.load?.replicas ?? [] { loads[load.replicaId] = load }
        }
        return loads
    }
}
