import AIMassAPI
import RPCCore
import SchedulerCore

extension SchedulerController {
    /// The periodic pass: expired leases, autoscaling, retried placements.
    func tick() {
        state.withLock { s in
            guard !s.stopped else { return }
            let now = MonotonicTime.now()
            // A tick far later than its interval: the controller was stalled (an etcd write waiting out a dead
            // member under this lock, a paused process) and could not hear the workers; their leases do not run
            // for that time (with a 3 s lease, a 5 s etcd attempt would otherwise drop every worker).
            if let last = s.lastTick {
                let interval = Double(configuration.tickInterval.components.seconds)
                    + Double(configuration.tickInterval.components.attoseconds) / 1e18
                let stall = now - last - interval
                if stall > 0.5 { s.core.creditStall(stall, now: now) }
            }
            s.lastTick = now
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
        var actions: [SchedulerAction] = []
        for change in s.autoscaling.evaluate(s.core.allDeployments, loads: s.core.replicaLoads, now: now) {
            logger.info(
                "autoscaling", metadata: ["deployment": "\(change.deployment)", "from": "\(change.from)", "to": "\(change.to)"]
            )
            if let deployment = s.core.deployment(change.deployment) {
                PoolMetrics.autoscaled(
                    model: deployment.spec.model, version: deployment.spec.version, from: change.from, to: change.to)
            }
            actions += (try? s.core.scale(change.deployment, desiredReplicas: change.to, now: now)) ?? []
        }
        return actions
    }

    /// Carries out actions: commands down worker streams, bookkeeping for lost workers and removed deployments.
    func perform(_ actions: [SchedulerAction], _ s: inout State) {
        for action in actions {
            switch action {
            case .place(let replica, let worker), .confirm(let replica, let worker):
                let artifact = s.artifacts[Self.key(replica.model, replica.version)]
                let place = PlaceReplica(
                    replicaId: replica.id.rawValue, deploymentId: replica.deploymentID.rawValue, model: replica.model,
                    version: replica.version, sha256: artifact?.sha256 ?? "", sizeBytes: artifact?.sizeBytes ?? 0,
                    manifest: artifact?.manifest ?? [:],
                    resources: AIMassAPI.Resources(replica.resources),
                    targetConcurrency: UInt32(clamping: replica.targetConcurrency), epoch: replica.epoch
                )
                send(.message(JoinResponse(payload: .place(place))), to: worker, &s)
            case .remove(let replica, let worker, let drain):
                let remove = RemoveReplica(replicaId: replica.rawValue, drain: drain, epoch: s.core.epoch)
                send(.message(JoinResponse(payload: .remove(remove))), to: worker, &s)
            case .workerLost(let worker, let replicas, let reason):
                logger.info(
                    "worker gone from the pool",
                    metadata: ["worker": "\(worker)", "reason": "\(reason)", "replicas": "\(replicas.count)"]
                )
                if let session = s.sessions.removeValue(forKey: worker) {
                    session.outbox.yield(.close(RPCError(code: .unavailable, message: "worker \(worker): \(reason): join again")))
                    session.outbox.finish()
                }
                s.departures[worker] = reason
            case .drainWorker(let worker, let reason):
                logger.info(
                    "worker drained: every replica stopped; sending Drain", metadata: ["worker": "\(worker)", "reason": "\(reason)"]
                )
                send(.message(JoinResponse(payload: .drain(Drain(reason: reason)))), to: worker, &s)
            case .deploymentRemoved(let id):
                s.autoscaling.forget(id)
            }
        }
    }

    func send(_ message: Outbound, to worker: WorkerID, _ s: inout State) {
        guard let session = s.sessions[worker], session.connected else { return }
        session.outbox.yield(message)
    }
}
