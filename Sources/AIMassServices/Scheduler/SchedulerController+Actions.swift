import AIMassAPI
import RPCCore
import SchedulerCore

extension SchedulerController {
    /// The periodic pass: expired leases, autoscaling, retried placements.
    func tick() {
        state.withLock { s in
            guard !s.stopped else { return }
            let now = MonotonicTime.now()
            let holding = s.core.isHoldingAfterRestart(now: now)
            var actions = s.core.tick(now: now)
            if holding, !s.core.isHoldingAfterRestart(now: now) {
                logger.info("restart hold over: placing what the rejoined workers do not hold")
            }
            // The autoscaler waits for the workers' load reports after a restart.
            if !holding { actions += autoscale(&s, now: now) }
            persistOrLog(&s)
            perform(actions, &s)
            publishChanges(&s)
        }
    }

    func autoscale(_ s: inout State, now: Double) -> [SchedulerAction] {
        var loads: [String: AIMassAPI.Load] = [:]
        for report in s.loads.values {
            for load in report.replicas { loads[load.replicaId] = load }
        }
        var actions: [SchedulerAction] = []
        for deployment in s.core.allDeployments where deployment.state != .deleting {
            let spec = deployment.spec
            let target = Swift.max(spec.targetConcurrency, 1)
            var scaler =
                s.scalers[spec.id]
                ?? Autoscaler(
                    targetConcurrency: spec.targetConcurrency, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas,
                    configuration: configuration.autoscaler
                )
            scaler.targetConcurrency = Swift.max(spec.targetConcurrency, 1)
            scaler.minReplicas = spec.minReplicas
            scaler.maxReplicas = spec.maxReplicas
            let reported = deployment.replicas.compactMap { loads[$0.id.rawValue] }
            let total = reported.reduce(0.0) { $0 + Self.offeredConcurrency($1, targetConcurrency: target) }
            scaler.record(concurrency: total, at: now)
            scaler.record(
                servedPerSecond: reported.reduce(0) { $0 + $1.servedPerSec },
                rejectedPerSecond: reported.reduce(0) { $0 + $1.rejectedPerSec }, replicas: deployment.readyReplicas, at: now
            )
            var decision = scaler.decide(current: deployment.desiredReplicas, now: now)
            s.scalers[spec.id] = scaler
            decision.desired = Self.holdingScaleDown(
                current: deployment.desiredReplicas, desired: decision.desired, lastScaleUp: s.scaledUp[spec.id], now: now,
                delay: configuration.autoscaler.stableWindow
            )
            if decision.desired > deployment.desiredReplicas { s.scaledUp[spec.id] = now }
            if decision.desired != deployment.desiredReplicas {
                logger.info(
                    "autoscaling",
                    metadata: ["deployment": "\(spec.id)", "from": "\(deployment.desiredReplicas)", "to": "\(decision.desired)"]
                )
                PoolMetrics.autoscaled(
                    model: spec.model, version: spec.version, from: deployment.desiredReplicas, to: decision.desired
                )
                actions += (try? s.core.scale(spec.id, desiredReplicas: decision.desired, now: now)) ?? []
            }
        }
        return actions
    }

    /// `desired`, except that no scale-down happens within `delay` seconds (one stable window) of a scale-up.
    ///
    /// Once new replicas are ready, a deployment that was shedding stops shedding and its signal falls back to
    /// what the replicas serve, often below the target: without this delay it scaled down on the next tick and
    /// up again once shedding resumed (2 -> 1 -> 2 within seconds under steady load).
    static func holdingScaleDown(current: Int, desired: Int, lastScaleUp: Double?, now: Double, delay: Double) -> Int {
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
    static func offeredConcurrency(_ load: AIMassAPI.Load, targetConcurrency: Int) -> Double {
        let observed = Double(load.inFlight) + Double(load.queueDepth)
        guard load.rejectedPerSec > 0 else { return observed }
        let offered = (load.servedPerSec + load.rejectedPerSec) / Swift.max(load.servedPerSec, 1)
        return Swift.max(observed, Double(targetConcurrency)) * Swift.min(offered, 100)
    }

    /// Carries out actions: commands down worker streams, bookkeeping for lost workers and removed deployments.
    func perform(_ actions: [SchedulerAction], _ s: inout State) {
        for action in actions {
            switch action {
            case .place(let replica, let worker):
                let artifact = s.artifacts[Self.key(replica.model, replica.version)]
                let place = PlaceReplica(
                    replicaId: replica.id.rawValue, deploymentId: replica.deploymentID.rawValue, model: replica.model,
                    version: replica.version, sha256: artifact?.sha256 ?? "", sizeBytes: artifact?.sizeBytes ?? 0,
                    manifest: artifact?.manifest ?? [:],
                    resources: AIMassAPI.Resources(cpuMillis: replica.resources.cpuMillis, memoryBytes: replica.resources.memoryBytes),
                    targetConcurrency: UInt32(clamping: replica.targetConcurrency)
                )
                send(.message(JoinResponse(payload: .place(place))), to: worker, &s)
            case .remove(let replica, let worker, let drain):
                send(.message(JoinResponse(payload: .remove(RemoveReplica(replicaId: replica.rawValue, drain: drain)))), to: worker, &s)
            case .workerLost(let worker, let replicas, let reason):
                logger.info(
                    "worker gone from the pool",
                    metadata: ["worker": "\(worker)", "reason": "\(reason)", "replicas": "\(replicas.count)"]
                )
                if let session = s.sessions.removeValue(forKey: worker) {
                    session.outbox.yield(.close(RPCError(code: .unavailable, message: "worker \(worker): \(reason): join again")))
                    session.outbox.finish()
                }
                s.loads[worker] = nil
                s.departures[worker] = reason.description
            case .drainWorker(let worker, let reason):
                logger.info(
                    "worker drained: every replica stopped; sending Drain", metadata: ["worker": "\(worker)", "reason": "\(reason)"]
                )
                send(.message(JoinResponse(payload: .drain(Drain(reason: reason)))), to: worker, &s)
            case .deploymentRemoved(let id):
                s.scalers[id] = nil
                s.scaledUp[id] = nil
                s.selectors[id] = nil
            }
        }
    }

    func send(_ message: Outbound, to worker: WorkerID, _ s: inout State) {
        guard let session = s.sessions[worker], session.connected else { return }
        session.outbox.yield(message)
    }
}
