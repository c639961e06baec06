extension SchedulerState {
    /// Drains a worker: it is cordoned (no new placements), each of its replicas is re-placed elsewhere first and
    /// stopped only once enough replacements are ready (the deployment never has fewer ready replicas than
    /// before); once no live replica is left on it, ``SchedulerAction/drainWorker(_:reason:)`` tells it to drain.
    ///
    /// When the rest of the pool has no room for a replacement, the replica stays on the cordoned worker and its
    /// deployment's reason says so; `force` stops every replica on the worker at once instead (in-flight calls
    /// finish; the deployment may run with fewer ready replicas until replacements are ready elsewhere).
    /// Draining a worker that is already draining updates the reason and may add `force`.
    ///
    /// ```swift
    /// var actions = try pool.drain("w1", reason: "kernel upgrade", now: now)
    /// // actions: [.place(m@1#3, on: w2)]; once m@1#3 is ready: [.remove(m@1#1, from: w1, drain: true),
    /// //          .drainWorker(w1, reason: "kernel upgrade")]
    /// ```
    /// - Throws: `notFound` for a worker not in the pool.
    public mutating func drain(
        _ id: WorkerID,
        reason: String,
        force: Bool = false,
        now: Double
    ) throws(SchedulerError) -> [SchedulerAction] {
        guard workers[id] != nil else { throw notFound("worker \(id)") }
        workers[id]?.cordoned = true
        workers[id]?.drainReason = reason.isEmpty ? "drained by an operator" : reason
        var actions: [SchedulerAction] = []
        for replica in replicas.values.sorted(by: { $0.id < $1.id }) where replica.workerID == id && replica.state.isLive {
            if force {
                stop(replica.id, now: now, into: &actions)
            } else {
                replicas[replica.id]?.evacuating = true
            }
        }
        // Nominations to this worker would place replicas on it once preemption victims drain: drop them.
        for (rid, replica) in replicas where replica.nominatedWorker == id { replicas[rid]?.nominatedWorker = nil }
        return actions + reconcile(now: now)
    }

    /// Undoes ``drain(_:reason:force:now:)``: the worker takes new placements again, and its replicas still
    /// waiting for a replacement count again (the now extra replacements are stopped).
    ///
    /// - Throws: `notFound` for a worker not in the pool.
    public mutating func uncordon(_ id: WorkerID, now: Double) throws(SchedulerError) -> [SchedulerAction] {
        guard workers[id] != nil else { throw notFound("worker \(id)") }
        workers[id]?.cordoned = false
        workers[id]?.drainReason = ""
        workers[id]?.drained = false
        for (rid, replica) in replicas where replica.workerID == id && replica.evacuating {
            replicas[rid]?.evacuating = false
        }
        return reconcile(now: now)
    }

    /// Sends `Drain` to each draining worker that has no live replica left.
    mutating func finishDrains(into actions: inout [SchedulerAction]) {
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) where worker.cordoned && !worker.drained {
            guard !replicas.values.contains(where: { $0.workerID == id && $0.state.isLive }) else { continue }
            workers[id]?.drained = true
            actions.append(.drainWorker(id, reason: worker.drainReason))
        }
    }

    /// Whether new replicas may go to the worker (it is in the pool and not cordoned).
    func isSchedulable(_ id: WorkerID) -> Bool {
        workers[id].map { !$0.cordoned } ?? false
    }
}
