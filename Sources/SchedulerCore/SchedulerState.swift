/// The scheduler's pool state: workers, deployments and replicas, as a pure state machine.
///
/// Every event is a mutating method that takes `now` (seconds on a monotonic clock the caller chooses) and returns
/// the ``SchedulerAction``s the caller must carry out; the struct itself does no I/O and reads no clock, so tests
/// drive it with a fake clock.
///
/// ```swift
/// var pool = SchedulerState()
/// _ = try pool.join("w1", address: "10.0.0.1:7000", capacity: Capacity(cpuMillis: 4000, memoryBytes: 8 << 30, replicaSlots: 8), now: 0)
/// let actions = try pool.deploy(DeploymentSpec(id: "movies@production", model: "movies", version: 3, minReplicas: 2), now: 0)
/// // actions: [.place(movies@production#1, on: w1), ...]
/// ```
public struct SchedulerState: Sendable {
    /// Tunables of the scheduler.
    public struct Configuration: Hashable, Sendable {
        /// A worker not heard from for this long (seconds) is declared gone by ``SchedulerState/tick(now:)``.
        public var lease: Double
        /// After this many failures in a row with no ready replica, a deployment is FAILED and stops retrying
        /// until its spec changes.
        public var maxConsecutiveFailures: Int

        /// Creates a configuration.
        public init(lease: Double, maxConsecutiveFailures: Int) {
            self.lease = lease
            self.maxConsecutiveFailures = maxConsecutiveFailures
        }

        /// A 5 s lease and 5 failures.
        public static var defaults: Self { Self(lease: 5, maxConsecutiveFailures: 5) }
    }

    /// The tunables.
    public let configuration: Configuration
    /// The fencing epoch: the control plane's incarnation (persisted by the caller, greater after every restart).
    /// Every placement carries it; a worker refuses assignments of an older epoch than it has seen, and lists the
    /// epoch of each replica it holds when it rejoins, so that this control plane adopts (re-stamps) or removes each.
    public var epoch: UInt64 = 0
    var workers: [WorkerID: WorkerRecord] = [:]
    var deployments: [DeploymentID: DeploymentRecord] = [:]
    var replicas: [ReplicaID: Replica] = [:]
    var nextSerial: UInt64 = 1
    /// After a restart: the workers still awaited and until when placement is held (see ``restore(_:holdUntil:now:)``).
    var restart: RestartHold?

    /// Creates an empty pool.
    public init(configuration: Configuration = .defaults) {
        self.configuration = configuration
    }

    // MARK: Workers

    /// A worker joins the pool with its capacity; pending replicas may now be placed on it.
    ///
    /// - Throws: `invalidArgument` for a capacity without room for one replica, `alreadyExists` for a joined id (a
    ///   worker coming back with its id uses ``rejoin(_:address:capacity:holding:now:)``).
    public mutating func join(
        _ id: WorkerID,
        address: String,
        capacity: Capacity,
        now: Double
    ) throws(SchedulerError) -> [SchedulerAction] {
        try Self.check(capacity, of: id)
        guard workers[id] == nil else {
            throw SchedulerError(code: .alreadyExists, message: "worker \(id) is already in the pool: use rejoin")
        }
        workers[id] = WorkerRecord(id: id, address: address, capacity: capacity, joinedAt: now, lastSeen: now)
        arrived(id)
        return reconcile(now: now)
    }

    static func check(_ capacity: Capacity, of id: WorkerID) throws(SchedulerError) {
        guard capacity.cpuMillis > 0, capacity.memoryBytes > 0, capacity.replicaSlots > 0 else {
            throw SchedulerError(code: .invalidArgument, message: "worker \(id): every capacity field must be > 0")
        }
    }

    /// Renews a worker's lease (a load report or any message from it), keeping its load report if it sent one
    /// (the autoscaler reads it).
    ///
    /// - Throws: `notFound` if the worker is not in the pool (its lease already expired: it must join again).
    public mutating func heartbeat(_ id: WorkerID, load: LoadReport? = nil, now: Double) throws(SchedulerError) {
        guard let worker = workers[id] else { throw notFound("worker \(id)") }
        workers[id]?.lastSeen = max(worker.lastSeen, now)
        if let load { workers[id]?.load = load }
    }

    /// A worker's stream broke: it is NOT_SERVING and keeps its replicas until its lease expires or it rejoins.
    public mutating func streamLost(_ id: WorkerID) {
        workers[id]?.connected = false
    }

    /// A worker leaves (its stream ended): its replicas are gone and are placed elsewhere.
    public mutating func leave(_ id: WorkerID, now: Double) throws(SchedulerError) -> [SchedulerAction] {
        guard workers[id] != nil else { throw notFound("worker \(id)") }
        var actions = [forget(worker: id, reason: .left)]
        actions += reconcile(now: now)
        return actions
    }

    /// Expires the leases of silent workers (their replicas are re-placed) and retries pending placements.
    public mutating func tick(now: Double) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        for (id, worker) in workers.sorted(by: { $0.key < $1.key })
        where now - worker.lastSeen > configuration.lease {
            actions.append(forget(worker: id, reason: .leaseExpired(silence: now - worker.lastSeen)))
        }
        return actions + reconcile(now: now)
    }

    /// The control plane could not listen for `seconds` up to `now` (a slow store write held its lock, or the
    /// process was paused): the workers' messages could not be processed meanwhile, so their leases do not run for
    /// that time, and no worker is declared gone because the control plane itself was not listening.
    public mutating func creditStall(_ seconds: Double, now: Double) {
        guard seconds > 0 else { return }
        for id in workers.keys {
            guard let seen = workers[id]?.lastSeen else { continue }
            workers[id]?.lastSeen = min(seen + seconds, max(seen, now))
        }
    }

    private mutating func forget(worker id: WorkerID, reason: WorkerLossReason) -> SchedulerAction {
        workers[id] = nil
        let lost = replicas.values.filter { $0.workerID == id }.map(\.id).sorted()
        for replica in lost { replicas[replica] = nil }
        for (rid, replica) in replicas where replica.nominatedWorker == id { replicas[rid]?.nominatedWorker = nil }
        return .workerLost(id, replicas: lost, reason: reason)
    }

    // MARK: Deployments

    /// Creates a deployment and starts placing its `minReplicas` replicas.
    ///
    /// A lack of capacity is not an error: the deployment stays pending with the shortfall in its reason.
    /// - Throws: `invalidArgument` for a bad spec, `alreadyExists` for a known id.
    public mutating func deploy(_ spec: DeploymentSpec, now: Double) throws(SchedulerError) -> [SchedulerAction] {
        try spec.validate()
        guard deployments[spec.id] == nil else {
            throw SchedulerError(code: .alreadyExists, message: "deployment \(spec.id) already exists")
        }
        deployments[spec.id] = DeploymentRecord(spec: spec, desired: spec.minReplicas, createdAt: now, updatedAt: now)
        return reconcile(now: now)
    }

    /// Undeploys: every replica drains and is removed; the deployment is forgotten once none is left.
    public mutating func undeploy(_ id: DeploymentID, now: Double) throws(SchedulerError) -> [SchedulerAction] {
        guard deployments[id] != nil else { throw notFound("deployment \(id)") }
        deployments[id]?.deleting = true
        return reconcile(now: now)
    }

    /// Changes the replica bounds and/or the desired count (the autoscaler calls it with `desiredReplicas`).
    ///
    /// `nil` leaves a field unchanged; the desired count is clamped into [min, max].
    /// - Throws: `notFound`, `invalidArgument` (min < 1 or min > max), `failedPrecondition` (deleting).
    public mutating func scale(
        _ id: DeploymentID,
        minReplicas: Int? = nil,
        maxReplicas: Int? = nil,
        desiredReplicas: Int? = nil,
        now: Double
    ) throws(SchedulerError) -> [SchedulerAction] {
        guard var record = deployments[id] else { throw notFound("deployment \(id)") }
        guard !record.deleting else {
            throw SchedulerError(code: .failedPrecondition, message: "deployment \(id) is being deleted")
        }
        record.spec.minReplicas = minReplicas ?? record.spec.minReplicas
        record.spec.maxReplicas = maxReplicas ?? record.spec.maxReplicas
        try record.spec.validate()
        let desired = desiredReplicas ?? record.desired
        record.desired = min(max(desired, record.spec.minReplicas), record.spec.maxReplicas)
        record.consecutiveFailures = 0
        record.updatedAt = now
        deployments[id] = record
        return reconcile(now: now)
    }

    /// Rolls a deployment to a new version (its alias moved): new replicas are placed first, and old ones drain
    /// one by one as new ones become ready, so the ready count never drops to zero.
    public mutating func roll(_ id: DeploymentID, to version: UInt32, now: Double) throws(SchedulerError) -> [SchedulerAction] {
        guard deployments[id] != nil else { throw notFound("deployment \(id)") }
        deployments[id]?.spec.version = version
        deployments[id]?.consecutiveFailures = 0
        deployments[id]?.updatedAt = now
        return reconcile(now: now)
    }

    /// A worker reports a replica's new state (it also renews the worker's lease).
    ///
    /// Repeats and stale reports (a state at or before the current one) are ignored.
    /// - Throws: `notFound` for an unknown replica, `invalidArgument` for `pending`.
    public mutating func replicaStatus(
        _ id: ReplicaID,
        _ state: ReplicaState,
        error: String = "",
        now: Double
    ) throws(SchedulerError) -> [SchedulerAction] {
        guard var replica = replicas[id] else { throw notFound("replica \(id)") }
        if state == .pending {
            throw SchedulerError(code: .invalidArgument, message: "replica \(id): a worker cannot report PENDING")
        }
        if let worker = replica.workerID, let seen = workers[worker]?.lastSeen { workers[worker]?.lastSeen = max(seen, now) }
        switch state {
        case .removed:
            replicas[id] = nil
        case .failed:
            replicas[id] = nil
            deployments[replica.deploymentID]?.consecutiveFailures += 1
            deployments[replica.deploymentID]?.lastError = "replica \(id) failed: \(error)"
        default:
            guard state.rawValue > replica.state.rawValue else { return [] }
            if state == .ready { deployments[replica.deploymentID]?.consecutiveFailures = 0 }
            replica.state = state
            replica.error = error
            replica.updatedAt = now
            replicas[id] = replica
        }
        return reconcile(now: now)
    }

    // MARK: Queries

    /// One deployment with its replicas, or `nil`.
    public func deployment(_ id: DeploymentID) -> Deployment? {
        guard let record = deployments[id] else { return nil }
        let mine = replicas.values.filter { $0.deploymentID == id }.sorted { $0.id < $1.id }
        return Deployment(
            spec: record.spec,
            desiredReplicas: record.desired,
            readyReplicas: mine.count { $0.state == .ready },
            state: record.state,
            reason: record.reason,
            lacksCapacity: record.lacksCapacity && [.pending, .progressing, .degraded].contains(record.state),
            replicas: mine,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }

    /// Every deployment, ordered by id.
    public var allDeployments: [Deployment] {
        deployments.keys.sorted().compactMap { deployment($0) }
    }

    /// Every worker of the pool with its allocation and replicas, ordered by id.
    public var pool: [Worker] {
        workers.values.sorted { $0.id < $1.id }.map { record in
            let mine = replicas.values.filter { $0.workerID == record.id }.sorted { $0.id < $1.id }
            var allocated = Capacity.zero
            for replica in mine { allocated.add(replica.resources) }
            return Worker(
                id: record.id, address: record.address, capacity: record.capacity, allocated: allocated,
                replicas: mine, joinedAt: record.joinedAt, lastSeen: record.lastSeen, cordoned: record.cordoned,
                drainReason: record.drainReason, drained: record.drained, health: record.health, load: record.load
            )
        }
    }

    func notFound(_ what: String) -> SchedulerError {
        SchedulerError(code: .notFound, message: "\(what) not found")
    }
}
