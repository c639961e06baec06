/// A replica a rejoining worker says it holds (from its `hello`).
public struct HeldReplica: Hashable, Sendable {
    /// Replica id from the `PlaceReplica` that created it.
    public var id: ReplicaID
    /// Deployment it was placed for.
    public var deploymentID: DeploymentID
    /// Version it serves.
    public var version: UInt32
    /// Its state on the worker.
    public var state: ReplicaState
    /// Error text when failed.
    public var error: String
    /// The epoch of the control plane that placed (or last confirmed) it; 0 from a worker that knows no epochs.
    public var epoch: UInt64

    /// Creates the description of a held replica.
    public init(
        id: ReplicaID, deploymentID: DeploymentID, version: UInt32, state: ReplicaState, error: String = "", epoch: UInt64 = 0
    ) {
        self.id = id
        self.deploymentID = deploymentID
        self.version = version
        self.state = state
        self.error = error
        self.epoch = epoch
    }
}

extension SchedulerState {
    /// A worker comes back with the id it had (its stream broke, or the control plane restarted) and lists the
    /// replicas it still holds.
    ///
    /// - A worker still in the pool (within its lease) keeps its record: each replica the scheduler placed there
    ///   and the worker still holds is kept with the worker's state; one it no longer holds is forgotten and
    ///   replaced (no failure counted), except one never acknowledged, whose `place` is sent again; one being
    ///   stopped gets its `remove` again; a drained worker gets its `Drain` again.
    /// - Any other replica it holds is *adopted* when still wanted: its deployment exists and is not being
    ///   deleted, it is of the deployment's current version, the worker is not draining, and it fits. Adopted
    ///   replicas count towards the deployment (an extra one is trimmed as usual: unplaced, least advanced and
    ///   newest first, so a ready adopted replica wins over a replacement still loading). The rest are removed.
    /// - A worker not in the pool (its lease expired, or this is a restarted control plane that remembers
    ///   nothing) joins afresh with that id, then adoption applies. A restarted control plane that restored its
    ///   deployments (``restore(_:holdUntil:now:)``) adopts the replicas they still want; one that restored nothing
    ///   removes every held replica. New replica ids skip past every reported one.
    ///
    /// Fencing: a replica held under an older ``epoch`` that is kept or adopted is confirmed to the worker
    /// (``SchedulerAction/confirm(_:on:)``) with this epoch. A worker that has seen a newer epoch than this one
    /// (`seenEpoch`, or one of its replicas) was commanded by a newer control plane: this one is stale and refuses it.
    ///
    /// - Throws: `invalidArgument` for a capacity without room for one replica, `failedPrecondition` when the worker
    ///   has seen a newer epoch.
    public mutating func rejoin(
        _ id: WorkerID,
        address: String,
        capacity: Capacity,
        holding held: [HeldReplica],
        seenEpoch: UInt64 = 0,
        now: Double
    ) throws(SchedulerError) -> [SchedulerAction] {
        try Self.check(capacity, of: id)
        let newest = held.map(\.epoch).reduce(seenEpoch, max)
        guard newest <= epoch else {
            throw SchedulerError(
                code: .failedPrecondition,
                message: "worker \(id) was placed by a newer control plane (epoch \(newest) > \(epoch)): this one is stale"
            )
        }
        var actions: [SchedulerAction] = []
        var foreign = held
        if var record = workers[id] {
            record.address = address
            record.capacity = capacity
            record.lastSeen = max(record.lastSeen, now)
            record.connected = true
            workers[id] = record
            // Told to drain while its stream was down, perhaps: tell it again.
            if record.drained { actions.append(.drainWorker(id, reason: record.drainReason)) }
            let byID = Dictionary(held.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            foreign = held.filter { replicas[$0.id]?.workerID != id }
            for replica in replicas.values.sorted(by: { $0.id < $1.id }) where replica.workerID == id {
                resume(replica, as: byID[replica.id], now: now, into: &actions)
            }
        } else {
            workers[id] = WorkerRecord(id: id, address: address, capacity: capacity, joinedAt: now, lastSeen: now)
            arrived(id)
        }
        for replica in held { nextSerial = max(nextSerial, replica.id.serial + 1) }
        for replica in foreign.sorted(by: { $0.id < $1.id }) { adoptOrRemove(replica, on: id, now: now, into: &actions) }
        return actions + reconcile(now: now)
    }

    /// A replica the scheduler had on a rejoining worker, as the worker now reports it (`nil`: not held).
    private mutating func resume(_ replica: Replica, as report: HeldReplica?, now: Double, into actions: inout [SchedulerAction]) {
        guard let worker = replica.workerID else { return }
        guard let report else {
            if replica.state == .pending {
                actions.append(.place(replica, on: worker))  // the place was lost with the stream
            } else {
                replicas[replica.id] = nil
            }
            return
        }
        switch report.state {
        case .removed, .failed:
            replicas[replica.id] = nil
            if report.state == .failed {
                deployments[replica.deploymentID]?.consecutiveFailures += 1
                deployments[replica.deploymentID]?.lastError = "replica \(replica.id) failed: \(report.error)"
            }
        default:
            if replica.state == .draining {
                actions.append(.remove(replica.id, from: worker, drain: report.state == .ready))
            } else if report.state.rawValue > replica.state.rawValue {
                replicas[replica.id]?.state = report.state
                replicas[replica.id]?.updatedAt = now
            }
            // Held under an older incarnation's placement (0: a worker that reports no epochs) — confirm it.
            if replica.state != .draining, report.epoch != 0, report.epoch < epoch {
                replicas[replica.id]?.epoch = epoch
                if let confirmed = replicas[replica.id] { actions.append(.confirm(confirmed, on: worker)) }
            }
        }
    }

    /// Adopts a replica the scheduler does not know on this worker if its deployment still wants it, else
    /// removes it from the worker.
    private mutating func adoptOrRemove(_ held: HeldReplica, on worker: WorkerID, now: Double, into actions: inout [SchedulerAction]) {
        guard !held.state.isTerminal else { return }
        let remove = SchedulerAction.remove(held.id, from: worker, drain: held.state == .ready)
        // A cordoned worker (drained before a restart) keeps what it holds until replacements elsewhere are ready.
        guard replicas[held.id] == nil, held.state.isLive, held.state != .pending,
            let host = workers[worker], !host.drained,
            let record = deployments[held.deploymentID], !record.deleting, record.spec.serves(held.version),
            freeCapacity()[worker]?.fits(record.spec.resources) == true
        else {
            actions.append(remove)
            return
        }
        let spec = record.spec
        var adopted = Replica(
            id: held.id, deploymentID: spec.id, model: spec.model, version: held.version, workerID: worker,
            state: held.state, updatedAt: now, resources: spec.resources, targetConcurrency: spec.targetConcurrency
        )
        adopted.evacuating = host.cordoned
        adopted.epoch = epoch
        replicas[held.id] = adopted
        if held.epoch != epoch { actions.append(.confirm(adopted, on: worker)) }
    }
}
