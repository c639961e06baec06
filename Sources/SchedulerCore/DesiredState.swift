/// The part of the pool's state that must survive a control-plane restart: what users asked for (deployments,
/// drains and cordons) and the counters whose reuse would confuse workers (replica serials).
///
/// Replicas and worker addresses are not in it: they are the workers' to report when they rejoin
/// (``SchedulerState/rejoin(_:address:capacity:holding:now:)`` adopts what they hold).
public struct DesiredState: Hashable, Sendable {
    /// A deployment as asked for, with the count the autoscaler or `Scale` last set.
    public struct DeploymentEntry: Hashable, Sendable {
        /// The spec (its version is the one the selector resolved to last).
        public var spec: DeploymentSpec
        /// The desired replica count, within [min, max].
        public var desired: Int
        /// Undeployed, replicas still draining.
        public var deleting: Bool

        /// Creates an entry.
        public init(spec: DeploymentSpec, desired: Int, deleting: Bool = false) {
            self.spec = spec
            self.desired = desired
            self.deleting = deleting
        }
    }

    /// A worker the pool knew, with its drain state (so a cordon outlives a restart).
    public struct WorkerEntry: Hashable, Sendable {
        /// The worker's id.
        public var id: WorkerID
        /// No new placements on it.
        public var cordoned: Bool
        /// Why it is drained; empty when it is not.
        public var drainReason: String
        /// `Drain` was sent to it.
        public var drained: Bool

        /// Creates an entry.
        public init(id: WorkerID, cordoned: Bool = false, drainReason: String = "", drained: Bool = false) {
            self.id = id
            self.cordoned = cordoned
            self.drainReason = drainReason
            self.drained = drained
        }
    }

    /// Deployments by id.
    public var deployments: [DeploymentID: DeploymentEntry]
    /// Workers of the pool (and those still awaited after a restart) by id.
    public var workers: [WorkerID: WorkerEntry]
    /// The serial the next new replica gets.
    public var nextReplicaSerial: UInt64

    /// Creates a desired state (empty by default).
    public init(
        deployments: [DeploymentID: DeploymentEntry] = [:], workers: [WorkerID: WorkerEntry] = [:],
        nextReplicaSerial: UInt64 = 1
    ) {
        self.deployments = deployments
        self.workers = workers
        self.nextReplicaSerial = nextReplicaSerial
    }
}

extension SchedulerState {
    /// The state to persist: every deployment, every worker (joined, or awaited after a restart) and the next replica
    /// serial.
    public var desiredState: DesiredState {
        var result = DesiredState(nextReplicaSerial: nextSerial)
        for (id, record) in deployments {
            result.deployments[id] = .init(spec: record.spec, desired: record.desired, deleting: record.deleting)
        }
        for (id, entry) in restart?.awaited ?? [:] { result.workers[id] = entry }
        for (id, record) in workers {
            result.workers[id] = .init(
                id: id, cordoned: record.cordoned, drainReason: record.drainReason, drained: record.drained
            )
        }
        return result
    }

    /// Starts from persisted desired state after a restart, before any worker joined.
    ///
    /// Placement is held (no replica is created, moved or stopped, no drain finished) until every worker of
    /// `desired` rejoined or `holdUntil` passed, whichever comes first, so the replicas the workers still hold are
    /// adopted (same ids) instead of being replaced. A rejoining worker gets its cordon back. Workers not back when
    /// the hold ends are forgotten, as if their lease had expired.
    ///
    /// - Throws: `failedPrecondition` when the pool is not empty; `invalidArgument` for an invalid spec.
    public mutating func restore(_ desired: DesiredState, holdUntil: Double, now: Double) throws(SchedulerError) {
        guard workers.isEmpty, deployments.isEmpty, replicas.isEmpty else {
            throw SchedulerError(code: .failedPrecondition, message: "restore needs an empty pool")
        }
        for (id, entry) in desired.deployments.sorted(by: { $0.key < $1.key }) {
            try entry.spec.validate()
            guard entry.spec.id == id else {
                throw SchedulerError(code: .invalidArgument, message: "deployment \(id) is stored with spec id \(entry.spec.id)")
            }
            let desiredCount = min(max(entry.desired, entry.spec.minReplicas), entry.spec.maxReplicas)
            deployments[id] = DeploymentRecord(
                spec: entry.spec, desired: desiredCount, createdAt: now, updatedAt: now, deleting: entry.deleting
            )
        }
        nextSerial = max(nextSerial, desired.nextReplicaSerial)
        restart = RestartHold(until: holdUntil, awaited: desired.workers)
        for id in deployments.keys { refreshStatus(of: id, now: now) }
    }

    /// Whether placement is held after a restart (see ``restore(_:holdUntil:now:)``).
    public func isHoldingAfterRestart(now: Double) -> Bool {
        guard let restart else { return false }
        return now < restart.until && !restart.awaited.isEmpty
    }

    /// The workers a restarted control plane still waits for, by id.
    public var awaitedWorkers: [WorkerID] { (restart?.awaited.keys).map { $0.sorted() } ?? [] }

    /// A worker (re)joined: it is no longer awaited, and gets back the cordon it had before the restart.
    mutating func arrived(_ id: WorkerID) {
        guard let entry = restart?.awaited.removeValue(forKey: id) else { return }
        workers[id]?.cordoned = entry.cordoned
        workers[id]?.drainReason = entry.drainReason
        workers[id]?.drained = entry.drained
    }

    /// Ends the hold once it is over; true while it still holds.
    mutating func holdAfterRestart(now: Double) -> Bool {
        guard restart != nil else { return false }
        if isHoldingAfterRestart(now: now) { return true }
        restart = nil
        return false
    }
}

/// The wait for workers after a restart.
struct RestartHold: Sendable {
    /// When placement resumes even if some workers are still missing.
    var until: Double
    /// Workers known before the restart that have not rejoined yet.
    var awaited: [WorkerID: DesiredState.WorkerEntry]
}
