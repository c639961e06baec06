extension SchedulerState {
    /// Brings every deployment's replica set towards its spec, places pending replicas, and updates statuses.
    ///
    /// After a restart, while workers are awaited (``restore(_:holdUntil:now:)``), only statuses are updated.
    mutating func reconcile(now: Double) -> [SchedulerAction] {
        if holdAfterRestart(now: now) {
            for id in deployments.keys { updateStatus(of: id, now: now) }
            return []
        }
        var actions: [SchedulerAction] = []
        for id in deployments.keys.sorted() { adjustReplicas(of: id, now: now, into: &actions) }
        placePending(now: now, into: &actions)
        finishDrains(into: &actions)
        for id in deployments.keys.sorted() { updateStatus(of: id, now: now) }
        return actions
    }

    /// Creates missing replicas, stops extra ones, and drains old-version replicas as new ones become ready.
    private mutating func adjustReplicas(of id: DeploymentID, now: Double, into actions: inout [SchedulerAction]) {
        guard let record = deployments[id] else { return }
        let mine = replicas.values.filter { $0.deploymentID == id }
        if record.deleting {
            for replica in mine where replica.state.isLive { stop(replica.id, now: now, into: &actions) }
            if replicas.values.allSatisfy({ $0.deploymentID != id }) {
                deployments[id] = nil
                actions.append(.deploymentRemoved(id))
            }
            return
        }
        let version = record.spec.version
        // Replicas on a draining worker count as old ones: replaced first, stopped as replacements become ready.
        let current = mine.filter { $0.version == version && $0.state.isLive && !$0.evacuating }
        let old = mine.filter { ($0.version != version || $0.evacuating) && $0.state.isLive }
        let failing = record.consecutiveFailures >= configuration.maxConsecutiveFailures
        if current.count < record.desired, !failing {
            for _ in current.count..<record.desired { create(for: record.spec, now: now) }
        } else if current.count > record.desired {
            for replica in current.sorted(by: stopOrder).prefix(current.count - record.desired) {
                stop(replica.id, now: now, into: &actions)
            }
        }
        // Rolling and draining: keep one old replica for each new one not yet ready, so the ready count never
        // drops below what it was.
        let readyNew = current.count { $0.state == .ready }
        let keepOld = max(0, record.desired - readyNew)
        if old.count > keepOld {
            for replica in old.sorted(by: stopOrder).prefix(old.count - keepOld) {
                stop(replica.id, now: now, into: &actions)
            }
        }
    }

    /// The order in which extra replicas are stopped: unplaced first, then the least advanced, then the newest.
    private func stopOrder(_ a: Replica, _ b: Replica) -> Bool {
        let aPlaced = a.workerID != nil
        let bPlaced = b.workerID != nil
        if aPlaced != bPlaced { return !aPlaced }
        if a.state != b.state { return a.state.rawValue < b.state.rawValue }
        return b.id < a.id
    }

    private mutating func create(for spec: DeploymentSpec, now: Double) {
        let id = ReplicaID(deployment: spec.id, serial: nextSerial)
        nextSerial += 1
        replicas[id] = Replica(
            id: id, deploymentID: spec.id, model: spec.model, version: spec.version, workerID: nil, state: .pending,
            updatedAt: now, resources: spec.resources, targetConcurrency: spec.targetConcurrency
        )
    }

    /// Stops a live replica: an unplaced one is forgotten; a placed one drains (ready) or is unloaded at once.
    /// It keeps its resources until its worker reports it removed.
    mutating func stop(_ id: ReplicaID, now: Double, into actions: inout [SchedulerAction]) {
        guard let replica = replicas[id], replica.state.isLive else { return }
        guard let worker = replica.workerID else {
            replicas[id] = nil
            return
        }
        actions.append(.remove(id, from: worker, drain: replica.state == .ready))
        replicas[id]?.state = .draining
        replicas[id]?.updatedAt = now
    }

    /// Updates a deployment's state and reason (for ``restore(_:holdUntil:now:)``).
    mutating func refreshStatus(of id: DeploymentID, now: Double) { updateStatus(of: id, now: now) }

    private mutating func updateStatus(of id: DeploymentID, now: Double) {
        guard var record = deployments[id] else { return }
        let mine = replicas.values.filter { $0.deploymentID == id }
        let version = record.spec.version
        let readyAll = mine.count { $0.state == .ready }
        let readyNew = mine.count { $0.state == .ready && $0.version == version }
        let live = mine.filter(\.state.isLive)
        let oldLive = live.count { $0.version != version }
        let evacuating = live.filter { $0.evacuating && $0.version == version }
        let placed = live.count { $0.workerID != nil }
        let state: DeploymentState
        var reason = ""
        if record.deleting {
            state = .deleting
            reason = "undeployed: \(mine.count) replicas draining"
        } else if record.consecutiveFailures >= configuration.maxConsecutiveFailures, readyAll == 0 {
            state = .failed
            reason = "\(record.consecutiveFailures) failures in a row; last: \(record.lastError)"
        } else if readyNew == record.desired, oldLive == 0, evacuating.isEmpty {
            state = .ready
        } else if let shortfall = record.shortfall {
            state = readyAll > 0 ? .degraded : placed > 0 ? .progressing : .pending
            reason = shortfall
            if let kept = evacuating.first?.workerID {
                reason += "; \(evacuating.count) replica(s) kept on draining worker \(kept) until replaced "
                    + "(DrainWorker with force stops them now)"
            }
        } else {
            state = placed > 0 || readyAll > 0 ? .progressing : .pending
            reason = oldLive > 0
                ? "rolling to version \(version): \(readyNew) of \(record.desired) new replicas ready, \(oldLive) old left"
                : !evacuating.isEmpty
                    ? "moving \(evacuating.count) replica(s) off a draining worker: \(readyNew) of \(record.desired) replacements ready"
                    : "\(readyNew) of \(record.desired) replicas ready"
            if !record.lastError.isEmpty, record.consecutiveFailures > 0 { reason += "; last error: \(record.lastError)" }
        }
        if state != record.state || reason != record.reason {
            record.state = state
            record.reason = reason
            record.updatedAt = now
            deployments[id] = record
        }
    }
}
