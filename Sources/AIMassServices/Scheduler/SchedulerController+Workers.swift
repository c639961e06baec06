import AIMassAPI
import MeshCore
import RPCCore
import SchedulerCore

/// A worker's Join stream as the controller sees it: the worker's id and the messages to send down.
public struct WorkerSession: Sendable {
    /// The worker's id (assigned, or the one it rejoined with).
    public let workerID: WorkerID
    let serial: UInt64
    /// Messages for the worker, the Welcome first; ends after a ``SchedulerController/Outbound/close(_:)``.
    public let outbox: AsyncStream<SchedulerController.Outbound>
}

extension SchedulerController {
    /// A worker said hello: it joins the pool (or rejoins with the replicas it still holds) and gets its Welcome
    /// as the first outbound message.
    ///
    /// A hello with an id rejoins (``SchedulerState/rejoin(_:address:capacity:holding:now:)``): within its lease the
    /// worker keeps the replicas placed there that it still holds; any other replica it lists is adopted when its
    /// deployment still wants it, else removed. A control plane restarted on its data directory restored its
    /// deployments (``restore()``), so it adopts the replicas they still want under the same ids.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` (bad address or capacity), `ALREADY_EXISTS` (the id is connected on
    ///   another stream), `UNAVAILABLE` (shutting down).
    public func attach(_ hello: WorkerHello) throws -> WorkerSession {
        guard Self.isHostPort(hello.address) else {
            throw RPCError(code: .invalidArgument, message: "hello.address must be HOST:PORT, got '\(hello.address)'")
        }
        guard let capacity = hello.capacity, capacity.cpuMillis > 0, capacity.memoryBytes > 0, capacity.replicaSlots > 0 else {
            throw RPCError(code: .invalidArgument, message: "hello.capacity: cpu_millis, memory_bytes and replica_slots must be > 0")
        }
        let (stream, continuation) = AsyncStream<Outbound>.makeStream()
        let lease = Int64(configuration.lease * 1000)
        let id: WorkerID = try state.withLock { s in
            guard !s.stopped else {
                throw RPCError(code: .unavailable, message: "control plane shutting down: reconnect later")
            }
            let now = MonotonicTime.now()
            let id = hello.workerId.isEmpty ? Self.newWorkerID(&s) : WorkerID(hello.workerId)
            if let session = s.sessions[id], session.connected {
                throw RPCError(code: .alreadyExists, message: "worker \(id) is connected on another stream")
            }
            s.sessions[id]?.outbox.finish()
            let serial = s.nextSession
            s.nextSession += 1
            s.sessions[id] = Session(serial: serial, outbox: continuation, connected: true)
            let welcome = Welcome(workerId: id.rawValue, leaseMs: lease, epoch: s.core.epoch)
            continuation.yield(.message(JoinResponse(payload: .welcome(welcome))))
            if let grants = s.grants { continuation.yield(.message(JoinResponse(payload: .grants(grants)))) }
            let offered = SchedulerCore.Capacity(capacity)
            let actions: [SchedulerAction]
            do {
                if hello.workerId.isEmpty {
                    actions = try s.core.join(id, address: hello.address, capacity: offered, now: now)
                } else {
                    actions = try s.core.rejoin(
                        id, address: hello.address, capacity: offered, holding: hello.replicas.compactMap(Self.held),
                        seenEpoch: hello.epoch, now: now
                    )
                }
            } catch {
                s.sessions[id] = nil
                throw error
            }
            persistOrLog(&s)
            perform(actions, &s)
            publishChanges(&s)
            return id
        }
        logger.info("worker joined", metadata: ["worker": "\(id)", "address": "\(hello.address)"])
        guard let serial = state.withLock({ $0.sessions[id]?.serial }) else {
            throw RPCError(code: .unavailable, message: "worker \(id) left while joining")
        }
        return WorkerSession(workerID: id, serial: serial, outbox: stream)
    }

    /// New access rules (from ``AccessGrantsPublisher``): sent down every connected Join stream now, and to each
    /// worker that joins later right after its Welcome. Identical rules are not sent again. Their A/B splits decide
    /// which challengers the deployments hold (``applySplits(_:)``).
    public func publishGrants(_ grants: AccessGrants) {
        state.withLock { s in
            guard s.grants != grants else { return }
            s.grants = grants
            for (id, _) in s.sessions { send(.message(JoinResponse(payload: .grants(grants))), to: id, &s) }
        }
        applySplits(grants)
    }

    /// A message from a worker after its hello: a load report (renews the lease) or a replica status.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` (a second hello, an empty message, an unspecified or PENDING
    ///   state), `UNAVAILABLE` (the worker's lease expired or its session was replaced: join again).
    public func receive(_ request: JoinRequest, from session: WorkerSession) throws {
        try mutate { s, now in
            let id = session.workerID
            guard s.sessions[id]?.serial == session.serial else {
                throw RPCError(code: .unavailable, message: "worker \(id): this stream was replaced or expired; join again")
            }
            switch request.payload {
            case nil:
                throw RPCError(code: .invalidArgument, message: "empty JoinRequest: set hello, load or status")
            case .hello:
                throw RPCError(code: .invalidArgument, message: "hello may be sent only once, first")
            case .load(var report):
                report.workerId = id.rawValue
                let load = SchedulerCore.LoadReport(report)
                do {
                    try s.core.heartbeat(id, load: load, now: now)
                } catch {
                    throw RPCError(code: .unavailable, message: "worker \(id) is no longer in the pool (lease expired): join again")
                }
                _ = try? mesh.publish(.loadReported(load))
                PoolMetrics.loadReported(worker: id.rawValue, utilisation: load.total.utilisation)
                return []
            case .status(let status):
                guard let state = SchedulerCore.ReplicaState(status.state) else {
                    throw RPCError(code: .invalidArgument, message: "replica \(status.replicaId): state must be set")
                }
                do {
                    return try s.core.replicaStatus(ReplicaID(status.replicaId), state, error: status.error, now: now)
                } catch let error as SchedulerError where error.code == .notFound {
                    if !state.isTerminal {
                        let remove = RemoveReplica(replicaId: status.replicaId, drain: false)
                        send(.message(JoinResponse(payload: .remove(remove))), to: id, &s)
                    }
                    return []
                }
            }
        }
    }

    /// The worker's stream ended. A clean end (the worker closed its side) means it left; a broken stream starts
    /// the lease: the worker is NOT_SERVING and keeps its replicas until the lease expires or it rejoins.
    public func detach(_ session: WorkerSession, clean: Bool) {
        try? mutate { s, now in
            let id = session.workerID
            guard let current = s.sessions[id], current.serial == session.serial else { return [] }
            current.outbox.finish()
            if clean {
                s.sessions[id] = nil
                logger.info("worker left the pool (its stream ended)", metadata: ["worker": "\(id)"])
                return (try? s.core.leave(id, now: now)) ?? []
            }
            s.sessions[id]?.connected = false
            s.core.streamLost(id)
            logger.info("worker stream broken; lease running", metadata: ["worker": "\(id)"])
            return []
        }
    }

    // MARK: Helpers

    static func newWorkerID(_ s: inout State) -> WorkerID {
        let taken = Set(s.core.pool.map(\.id)).union(s.sessions.keys)
        while true {
            let id = WorkerID("worker-\(s.nextWorker)")
            s.nextWorker += 1
            if !taken.contains(id) { return id }
        }
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
            let port = Int(text[text.index(after: colon)...]), port > 0, port < 65536
        else { return false }
        return true
    }

    /// A replica listed in a hello, or `nil` when its state is unset.
    static func held(_ status: ReplicaStatus) -> HeldReplica? {
        guard let state = SchedulerCore.ReplicaState(status.state) else { return nil }
        return HeldReplica(
            id: ReplicaID(status.replicaId), deploymentID: DeploymentID(status.deploymentId), version: status.version,
            state: state, error: status.error, epoch: status.epoch
        )
    }

    /// DrainWorker: cordons the worker, re-places its replicas elsewhere before stopping them (all at once with
    /// `force`), then sends it `Drain`. Returns the worker as GetPool shows it.
    ///
    /// - Throws: ``SchedulerError`` `notFound`.
    public func drain(_ id: WorkerID, reason: String, force: Bool) throws -> AIMassAPI.Worker {
        try mutate(strict: true) { s, now in try s.core.drain(id, reason: reason, force: force, now: now) }
        logger.info("draining worker", metadata: ["worker": "\(id)", "reason": "\(reason)", "force": "\(force)"])
        return try existingWorker(id)
    }

    /// UncordonWorker: the worker takes new replicas again. Returns the worker as GetPool shows it.
    ///
    /// - Throws: ``SchedulerError`` `notFound`.
    public func uncordon(_ id: WorkerID) throws -> AIMassAPI.Worker {
        try mutate(strict: true) { s, now in try s.core.uncordon(id, now: now) }
        logger.info("worker uncordoned", metadata: ["worker": "\(id)"])
        return try existingWorker(id)
    }

    private func existingWorker(_ id: WorkerID) throws -> AIMassAPI.Worker {
        guard let worker = worker(id) else { throw SchedulerError(code: .notFound, message: "worker \(id) not found") }
        return worker
    }
}
