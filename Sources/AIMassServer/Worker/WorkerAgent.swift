import AIMassAPI
import AIMassServices
import Logging
import RPCCore
import RPCHTTP2
import SchedulerCore
import Synchronization

/// A worker's membership of the pool: it opens `Scheduler/Join` on the control plane, says hello (id, the address
/// where it serves inference, capacity), sends a load report every second, and carries out placements and
/// removals on its ``ReplicaStore`` (download with sha256 check, build, serve; drain, remove). A broken stream is
/// re-opened with backoff, rejoining with the same id and the replicas still held.
///
/// ```swift
/// let agent = WorkerAgent(configuration: .init(controlPlaneHost: "127.0.0.1", controlPlanePort: 50051,
///                                              advertisedAddress: "127.0.0.1:7001", capacity: capacity, token: token))
/// agent.start()
/// ```
public final class WorkerAgent: Sendable {
    /// Where the control plane is and what this worker offers.
    public struct Configuration: Sendable {
        /// Control plane host.
        public var controlPlaneHost: String
        /// Control plane port.
        public var controlPlanePort: Int
        /// `host:port` where this worker serves `aimass.v1.Recommend`.
        public var advertisedAddress: String
        /// What this worker offers.
        public var capacity: AIMassAPI.Capacity
        /// Bearer token (an admin token) for Join and artifact downloads.
        public var token: String
        /// Interval of load reports (default 1 s; the lease is several times longer).
        public var loadInterval: Duration
        /// Keepalive PINGs on the Join stream's connection (default ``ClientConfiguration/Keepalive/streams``): a
        /// silent control plane (a partition without a reset) is noticed within `interval + timeout`, and the worker
        /// says it is cut off and rejoins; nil sends none (then only TCP notices, in minutes).
        public var keepalive: ClientConfiguration.Keepalive?
        /// TLS towards the control plane; `nil`: plaintext.
        public var controlPlaneTLS: ClientTLSConfiguration?
        /// More control planes (`HOST:PORT`) of a highly available pool: after a failed Join the worker tries the
        /// leader a standby names, else the next one.
        public var otherControlPlanes: [(host: String, port: Int)] = []

        /// Creates a configuration.
        public init(
            controlPlaneHost: String, controlPlanePort: Int, advertisedAddress: String, capacity: AIMassAPI.Capacity,
            token: String, loadInterval: Duration = .seconds(1), keepalive: ClientConfiguration.Keepalive? = .streams,
            controlPlaneTLS: ClientTLSConfiguration? = nil
        ) {
            self.keepalive = keepalive
            self.controlPlaneTLS = controlPlaneTLS
            self.controlPlaneHost = controlPlaneHost
            self.controlPlanePort = controlPlanePort
            self.advertisedAddress = advertisedAddress
            self.capacity = capacity
            self.token = token
            self.loadInterval = loadInterval
        }
    }

    typealias JoinCall = ClientCall<JoinRequest, JoinResponse>

    private struct Live: Sendable {
        var loop: Task<Void, Never>?
        var expiry: Task<Void, Never>?
        var call: JoinCall?
        var outbox: AsyncStream<JoinRequest>.Continuation?
        var stopping = false
        /// Joined: the Welcome of the current stream arrived and the stream has not ended.
        var connected = false
        /// When the last Join stream ended (nil while connected or before the first join).
        var cutOffSince: ContinuousClock.Instant?
        /// Which control plane to join (several with `--join A,B,C`: the leader among them).
        var targets = ControlPlaneTargets(addresses: [""])
        /// The epochs seen and held (refuses stale control planes and assignments).
        var fence = WorkerFence()
    }

    /// The `grpc.health.v1` service name under which a worker reports its link to the control plane: SERVING while
    /// joined, NOT_SERVING while cut off (its replicas keep serving `aimass.v1.Recommend` meanwhile).
    public static let controlPlaneHealthName = "aimass.worker.ControlPlane"

    /// The configuration.
    public let configuration: Configuration
    /// The replicas this worker holds.
    public let store: ReplicaStore
    /// The server's call gate, whose sheds count in the load reports (see ``loadReport()``).
    let callGate: AdmissionCallGate?
    /// Told `true` when the control plane drains this worker and `false` when it places a replica here again.
    let onDrainChange: (@Sendable (_ draining: Bool) -> Void)?
    /// Given the access rules the control plane pushes (after the Welcome and on every change).
    let onGrants: (@Sendable (AccessGrants) -> Void)?
    /// Told `true` when the worker joined the control plane and `false` when it is cut off from it.
    let onControlPlaneChange: (@Sendable (_ connected: Bool) -> Void)?
    /// One client per control plane: ``Configuration/controlPlaneHost`` first, then ``Configuration/otherControlPlanes``.
    let clients: [RPCClient]
    let logger: Logger
    private let live = Mutex(Live())

    /// Creates an agent over `store` (the store the worker's Recommend service serves from) and the call gate of
    /// the server that serves it, if any; `onDrainChange` hears when the worker is drained and when it serves again
    /// (for its health service); `onGrants` gets the access rules the control plane pushes (for local
    /// authorization); `onControlPlaneChange` hears when the Join stream is up (`true`, after the Welcome)
    /// and when it broke (`false`: the worker keeps serving what it holds and keeps rejoining). With
    /// `inProcessControlPlane` (a server in this process) the agent joins it over in-process connections instead of
    /// the configured host and port.
    public init(
        configuration: Configuration, store: ReplicaStore = ReplicaStore(), callGate: AdmissionCallGate? = nil,
        logger: Logger = Logger(label: "aimass.worker"), inProcessControlPlane: RPCServer? = nil,
        onGrants: (@Sendable (AccessGrants) -> Void)? = nil,
        onControlPlaneChange: (@Sendable (_ connected: Bool) -> Void)? = nil,
        onDrainChange: (@Sendable (_ draining: Bool) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.store = store
        self.callGate = callGate
        self.onDrainChange = onDrainChange
        self.onControlPlaneChange = onControlPlaneChange
        self.onGrants = onGrants
        self.logger = logger
        let clientConfiguration = ClientConfiguration.defaults {
            $0.initialBackoff = .milliseconds(100)
            $0.maxBackoff = .seconds(1)
            $0.eventLoopThreads = 1
            $0.keepalive = configuration.keepalive
            $0.tls = configuration.controlPlaneTLS
        }
        if let inProcessControlPlane {
            self.clients = [RPCClient(inProcess: inProcessControlPlane, configuration: clientConfiguration)]
        } else {
            let all = [(configuration.controlPlaneHost, configuration.controlPlanePort)] + configuration.otherControlPlanes
            self.clients = all.map { RPCClient(host: $0.0, port: $0.1, configuration: clientConfiguration) }
        }
        let addresses = clients.map { "\($0.host):\($0.port)" }
        live.withLock { $0.targets = ControlPlaneTargets(addresses: addresses) }
    }

    /// The client of the control plane joined (or to join next).
    var client: RPCClient { clients[live.withLock { $0.targets.current }] }

    /// The id the control plane assigned ("" until the first Welcome).
    public var workerID: String { store.workerID }

    /// Whether the worker is joined to the control plane now (its Join stream is up).
    public var isConnected: Bool { live.withLock { $0.connected } }

    /// How long the worker has been cut off from the control plane (nil while joined or before the first join).
    public var cutOffFor: Duration? { live.withLock { $0.cutOffSince.map { $0.duration(to: .now) } } }

    /// Starts joining (and re-joining) the pool.
    public func start() {
        let loop = Task { [self] in await run() }
        let expiry = Task { [store] in
            while !Task.isCancelled {
                let now = MonotonicTime.now()
                for entry in store.entries { entry.admission.expire(now: now) }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        live.withLock {
            $0.loop = loop
            $0.expiry = expiry
        }
    }

    /// Leaves the pool (half-closes the Join stream so the control plane re-places the replicas at once) and stops.
    public func stop() async {
        let (loop, expiry, call) = live.withLock { live in
            live.stopping = true
            return (live.loop, live.expiry, live.call)
        }
        call?.finishSending()
        if let loop {
            let timeout = Task {
                try? await Task.sleep(for: .seconds(2))
                loop.cancel()
            }
            await loop.value
            timeout.cancel()
        }
        expiry?.cancel()
        for client in clients { await client.close() }
    }

    // MARK: The Join stream

    private var authorization: Metadata { ["authorization": .string("Bearer \(configuration.token)")] }

    /// Joins, and rejoins with backoff (100 ms doubling to 2 s) whenever the stream ends; the replicas held keep
    /// serving meanwhile.
    private func run() async {
        var backoff = 0.1
        while !Task.isCancelled, !live.withLock({ $0.stopping }) {
            do {
                try await session()
                backoff = 0.1
            } catch {
                if live.withLock({ $0.stopping }) { break }
                live.withLock { $0.targets.failed(with: error) }
                logger.info(
                    "join stream ended; serving what this worker holds and rejoining",
                    metadata: ["error": "\(error)", "replicas": "\(store.entries.count)", "retry_s": "\(backoff)"]
                )
            }
            markCutOff()
            if live.withLock({ $0.stopping }) { break }
            try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
            backoff = min(backoff * 2, 2)
        }
    }

    /// One Join stream, from hello to its end.
    private func session() async throws {
        let call: JoinCall = try await client.makeCall(
            SchedulerMethods.join, options: CallOptions(metadata: authorization)
        )
        defer { call.cancel() }
        // With their deployment and version, so that a control plane that lost track of them can adopt them.
        // With the epoch each was placed under, so that the control plane confirms or removes every one.
        let fence = live.withLock { $0.fence }
        let held = store.entries.map {
            ReplicaStatus(
                replicaId: $0.id, state: Self.apiState($0.phase), deploymentId: $0.deploymentID, version: $0.version,
                epoch: fence.epoch(of: $0.id)
            )
        }
        let hello = WorkerHello(
            workerId: store.workerID, address: configuration.advertisedAddress, capacity: configuration.capacity,
            replicas: held, epoch: fence.highest
        )
        try await call.send(JoinRequest(payload: .hello(hello)))
        guard let first = try await call.next(), case .welcome(let welcome)? = first.payload else {
            throw RPCError(code: .internalError, message: "the control plane did not answer hello with welcome")
        }
        guard live.withLock({ $0.fence.welcome(welcome.epoch) }) else {
            logger.error(
                "refusing a stale control plane: its epoch is older than one this worker was placed by",
                metadata: ["epoch": "\(welcome.epoch)", "seen": "\(fence.highest)"]
            )
            throw RPCError(
                code: .failedPrecondition,
                message: "control plane epoch \(welcome.epoch) is older than \(fence.highest): a stale control plane"
            )
        }
        store.workerID = welcome.workerId
        let cutOff = live.withLock { live -> Duration? in
            defer {
                live.connected = true
                live.cutOffSince = nil
            }
            return live.cutOffSince.map { $0.duration(to: .now) }
        }
        onControlPlaneChange?(true)
        logger.info(
            "joined the pool",
            metadata: [
                "worker": "\(welcome.workerId)", "lease_ms": "\(welcome.leaseMs)", "epoch": "\(welcome.epoch)",
                "cut_off_for": "\(cutOff.map { "\($0)" } ?? "-")", "replicas_held": "\(held.count)",
            ]
        )
        let (outgoing, outbox) = AsyncStream<JoinRequest>.makeStream()
        live.withLock {
            $0.call = call
            $0.outbox = outbox
        }
        defer {
            live.withLock {
                $0.call = nil
                $0.outbox = nil
            }
            outbox.finish()
        }
        let interval = configuration.loadInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in outgoing { try await call.send(message) }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    outbox.yield(JoinRequest(payload: .load(loadReport())))
                    try await Task.sleep(for: interval)
                }
            }
            group.addTask { [self] in
                while let response = try await call.next() { handle(response) }
                if live.withLock({ $0.stopping }) { return }
                throw RPCError(code: .unavailable, message: "the control plane ended the Join stream")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The Join stream is down: say so once (health), and start counting how long.
    private func markCutOff() {
        let changed = live.withLock { live -> Bool in
            let wasConnected = live.connected
            live.connected = false
            if live.cutOffSince == nil { live.cutOffSince = .now }
            return wasConnected
        }
        if changed { onControlPlaneChange?(false) }
    }

    private func handle(_ response: JoinResponse) {
        switch response.payload {
        case .place(let place)?:
            guard live.withLock({ $0.fence.place(place.replicaId, epoch: place.epoch) }) else {
                refuseStale("placement", replica: place.replicaId, epoch: place.epoch)
                report(place.replicaId, .failed, error: "stale placement: epoch \(place.epoch) is older than this worker's")
                return
            }
            onDrainChange?(false)
            Task { [self] in await self.place(place) }
        case .remove(let remove)?:
            guard live.withLock({ $0.fence.accepts(remove.epoch) }) else {
                refuseStale("removal", replica: remove.replicaId, epoch: remove.epoch)
                return
            }
            Task { [self] in await self.remove(remove) }
        case .drain(let drain)?:
            // Sent once the control plane stopped every replica here; anything left finishes its calls and goes.
            logger.info("drain requested", metadata: ["reason": "\(drain.reason)"])
            onDrainChange?(true)
            for entry in store.entries {
                Task { [self] in await self.remove(RemoveReplica(replicaId: entry.id, drain: true)) }
            }
        case .grants(let grants)?:
            onGrants?(grants)
        case .welcome?, nil:
            break
        }
    }

    private func refuseStale(_ what: String, replica: String, epoch: UInt64) {
        let highest = live.withLock { $0.fence.highest }
        logger.warning(
            "refusing a stale \(what)", metadata: ["replica": "\(replica)", "epoch": "\(epoch)", "seen": "\(highest)"]
        )
    }

    /// The replica is gone from this worker: it no longer has an epoch to report.
    func forgetEpoch(of replica: String) {
        live.withLock { $0.fence.forget(replica) }
    }

    /// Sends a replica status if the stream is up (otherwise the next hello carries the state).
    func report(_ replica: String, _ state: AIMassAPI.ReplicaState, error: String = "") {
        let message = JoinRequest(payload: .status(ReplicaStatus(replicaId: replica, state: state, error: error)))
        _ = live.withLock { $0.outbox?.yield(message) }
    }

    static func apiState(_ phase: ReplicaStore.Phase) -> AIMassAPI.ReplicaState {
        switch phase {
        case .loading: .loading
        case .ready: .ready
        case .draining: .draining
        }
    }
}
