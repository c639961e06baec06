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
        let failing = record.consecutiveFailures >= configuration.maxConsecutiveFailures
        let readyNew = converge(record, version: record.spec.version, mine, failing: failing, now: now, into: &actions)
        if let challenger = record.spec.activeChallenger {
            _ = converge(record, version: challenger, mine, failing: failing, now: now, into: &actions)
        }
        // Rolling and draining: keep one old replica (another version, or the own version's on a draining worker)
        // for each new one not yet ready, so the ready count never drops below what it was. A challenger that is no
        // longer one is an old version too: its replicas go once the deployment's own are ready.
        let old = mine.filter {
            $0.state.isLive && (!record.spec.serves($0.version) || ($0.evacuating && $0.version == record.spec.version))
        }
        let keepOld = max(0, record.desired - readyNew)
        if old.count > keepOld {
            for replica in old.sorted(by: stopOrder).prefix(old.count - keepOld) {
                stop(replica.id, now: now, into: &actions)
            }
        }
    }

    /// Brings the replicas of one wanted `version` of a deployment (its own, or its split's challenger) to the
    /// desired count: creates missing ones (unless the deployment keeps failing) and stops extra ones. For the
    /// challenger it also stops its replicas on draining workers as replacements become ready (the own version's
    /// are handled with the old ones).
    ///
    /// - Returns: How many replicas of `version` off draining workers are ready.
    private mutating func converge(
        _ record: DeploymentRecord, version: UInt32, _ mine: [Replica], failing: Bool, now: Double,
        into actions: inout [SchedulerAction]
    ) -> Int {
        // Replicas on a draining worker count as old ones: replaced first, stopped as replacements become ready.
        let current = mine.filter { $0.version == version && $0.state.isLive && !$0.evacuating }
        if current.count < record.desired, !failing {
            for _ in current.count..<record.desired { create(for: record.spec, version: version, now: now) }
        } else if current.count > record.desired {
            for replica in current.sorted(by: stopOrder).prefix(current.count - record.desired) {
                stop(replica.id, now: now, into: &actions)
            }
        }
        let ready = current.count { $0.state == .ready }
        if version != record.spec.version {
            let evacuating = mine.filter { $0.version == version && $0.state.isLive && $0.evacuating }
            let keep = max(0, record.desired - ready)
            for replica in evacuating.sorted(by: stopOrder).prefix(max(0, evacuating.count - keep)) {
                stop(replica.id, now: now, into: &actions)
            }
        }
        return ready
    }

    /// The order in which extra replicas are stopped: unplaced first, then the least advanced, then the newest.
    private func stopOrder(_ a: Replica, _ b: Replica) -> Bool {
        let aPlaced = a.workerID != nil
        let bPlaced = b.workerID != nil
        if aPlaced != bPlaced { return !aPlaced }
        if a.state != b.state { return a.state.rawValue < b.state.rawValue }
        return b.id < a.id
    }

    private mutating func create(for spec: DeploymentSpec, version: UInt32, now: Double) {
        let id = ReplicaID(deployment: spec.id, serial: nextSerial)
        nextSerial += 1
        replicas[id] = Replica(
            id: id, deploymentID: spec.id, model: spec.model, version: version, workerID: nil, state: .pending,
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
        let oldLive = live.count { !record.spec.serves($0.version) }
        let challenger = record.spec.activeChallenger
        let readyChallengers = challenger.map { v in mine.count { $0.state == .ready && $0.version == v && !$0.evacuating } }
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
        } else if readyNew == record.desired, oldLive == 0, evacuating.isEmpty,
            (readyChallengers ?? record.desired) >= record.desired
        {
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
                        + (challenger.map { " (A/B challenger version \($0): \(readyChallengers ?? 0) ready)" } ?? "")
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
