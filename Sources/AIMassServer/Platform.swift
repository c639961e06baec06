import AIMassAPI
import AIMassServices
import Foundation
import Logging
import MeshCore
import ModelRegistry
import NIOCore
import RPCCore
import RPCHTTP2
import RPCHealth
import SchedulerCore

/// The AI Mass control plane in one process: the registry on a data directory, the scheduler, the mesh hub and
/// every service (with the Open Inference Protocol beside `aimass.v1.Recommend`, health and server reflection),
/// served by one ``RPCServer``; in the embedded role also one local worker.
///
/// The local worker is a real ``WorkerAgent``: it joins this server's `Scheduler/Join` over loopback with the
/// admin token and downloads artifacts through `ModelRegistry/DownloadVersion`, so every code path is the one a
/// pool uses. Its replicas serve `aimass.v1.Recommend` on this server's port: a call for a deployed model goes
/// to a ready local replica of the resolved version (through admission control); a call for a model that is not
/// deployed here is served by loading the version lazily, as before deployments existed.
///
/// ```swift
/// let platform = try await Platform.start(configuration: .init(dataDirectory: "./data", port: 0))
/// print(platform.address)
/// await platform.shutdown()
/// ```
public final class Platform: Sendable {
    /// Which parts run in this process.
    public enum Role: String, Sendable {
        /// Control plane plus one local worker (the default).
        case embedded
        /// Control plane only: replicas go to `--role worker` processes.
        case controlPlane = "control-plane"
    }

    /// Where and how the platform runs.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Holds `registry.sqlite`, `artifacts/`, `admin.token`.
        public var dataDirectory: String
        /// Largest model artifact accepted by an upload.
        public var maxArtifactBytes: Int64
        /// Embedded (with a local worker) or control plane only.
        public var role: Role
        /// Scheduler tunables (lease, tick, autoscaler).
        public var scheduler: SchedulerController.Configuration
        /// Capacity of the local worker (default: this machine).
        public var localWorkerCapacity: AIMassAPI.Capacity
        /// History, buffer bounds and heartbeats of the mesh hub behind `Mesh/Watch`.
        public var mesh: MeshHub.Configuration
        /// The longest an inference call over the local worker's limit waits for a slot before it is shed.
        public var queueBudget: QueueBudget
        /// TLS for the listener (mutual when it has a client CA); `nil`: plaintext. The embedded worker joins
        /// through an in-process connection either way.
        public var tls: TLSServerCredentials? = nil
        /// Metrics and access log of the gRPC server.
        public var observability: Observability = .none
        /// Where deployments, drains, cordons and counters are kept; nil: `DATADIR/control-plane.sqlite`. The
        /// high-availability control plane passes its etcd store (the platform closes it on shutdown).
        public var desiredStateStore: (any DesiredStateStore)? = nil
        /// Where the Mesh is recorded as it is published, so a successor continues its revisions and history (the
        /// high-availability control plane's etcd journal); nil: revisions are reserved in blocks in the desired
        /// state store and the events of a previous run are not kept.
        public var meshJournal: (any MeshJournal)? = nil
        /// ``ServerConfiguration/maxConnections`` of the listener; `nil`: its default.
        public var maxConnections: Int? = nil
        /// Where artifacts are stored (`--artifact-dir`); nil: `DATADIR/artifacts`.
        public var artifactDirectory: String? = nil
        /// A registry already open on ``dataDirectory`` to serve (the high-availability control plane's replica of
        /// etcd); nil: the platform opens it. Either way the platform closes it on shutdown.
        public var registry: ModelRegistry? = nil

        public init(
            host: String = "127.0.0.1", port: Int = 50051, dataDirectory: String, maxArtifactBytes: Int64 = 4 << 30,
            role: Role = .embedded, scheduler: SchedulerController.Configuration = .defaults,
            localWorkerCapacity: AIMassAPI.Capacity = WorkerServer.machineCapacity(),
            mesh: MeshHub.Configuration = .defaults, queueBudget: QueueBudget = .default,
            observability: Observability = .none
        ) {
            self.queueBudget = queueBudget
            self.observability = observability
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.maxArtifactBytes = maxArtifactBytes
            self.role = role
            self.scheduler = scheduler
            self.localWorkerCapacity = localWorkerCapacity
            self.mesh = mesh
        }
    }

    public let registry: ModelRegistry
    public let health: HealthService
    public let address: SocketAddress
    /// The pool's events (workers, replicas, deployments), for `Mesh/Watch`.
    public let mesh: MeshHub
    /// The scheduler.
    public let scheduler: SchedulerController
    /// The local worker of the embedded role; `nil` for a control plane only.
    public let localWorker: WorkerAgent?
    private let server: RPCServer
    private let healthBridge: Task<Void, Never>
    /// Writes the audit log's buffer to the registry.
    private let auditWriter: Task<Void, Never>
    private let inference: WorkerInference
    private let feedback: FeedbackStore
    private let desired: any DesiredStateStore

    private init(
        registry: ModelRegistry, health: HealthService, server: RPCServer, address: SocketAddress, mesh: MeshHub,
        scheduler: SchedulerController, localWorker: WorkerAgent?, healthBridge: Task<Void, Never>,
        auditWriter: Task<Void, Never>, inference: WorkerInference, feedback: FeedbackStore,
        desired: any DesiredStateStore
    ) {
        self.feedback = feedback
        self.auditWriter = auditWriter
        self.desired = desired
        self.registry = registry
        self.health = health
        self.server = server
        self.address = address
        self.mesh = mesh
        self.scheduler = scheduler
        self.localWorker = localWorker
        self.healthBridge = healthBridge
        self.inference = inference
    }

    /// Opens the data directory, starts every service and listens; the local worker then joins in the background.
    public static func start(configuration: Configuration, logger: Logger = Logger(label: "aimass")) async throws -> Platform {
        let reflection = try ServedAPI.reflection(services: [HealthService.serviceName] + serviceNames)
        let registry =
            try configuration.registry
            ?? ModelRegistry.open(
                dataDirectory: configuration.dataDirectory,
                configuration: .defaults {
                    $0.maxArtifactBytes = configuration.maxArtifactBytes
                    $0.artifactDirectory = configuration.artifactDirectory
                },
                logger: logger
            )
        let feedback: FeedbackStore
        do {
            feedback = try FeedbackStore.open(dataDirectory: configuration.dataDirectory)
        } catch {
            registry.close()
            throw error
        }
        let health = HealthService()
        // Deployments, drains, cordons and counters survive a restart (graceful or kill -9) in the data directory.
        let desired: any DesiredStateStore
        let firstRevision: UInt64
        let restoredMesh: (state: MeshState, history: [MeshCore.MeshEvent])?
        do {
            desired = try configuration.desiredStateStore ?? ControlPlaneStore.open(dataDirectory: configuration.dataDirectory)
            do {
                firstRevision = try Self.startingRevision(desired)
                // A journal older than the reserved revisions (a leader without one ran since) is not continued.
                restoredMesh = try configuration.meshJournal?.restore().flatMap { $0.state.revision + 1 >= firstRevision ? $0 : nil }
            } catch {
                desired.close()
                throw error
            }
        } catch {
            feedback.close()
            registry.close()
            throw error
        }
        if let restoredMesh {
            logger.info(
                "mesh continues the previous leader's journal",
                metadata: ["revision": "\(restoredMesh.state.revision)", "history": "\(restoredMesh.history.count)"])
        }
        let mesh = MeshHub(
            configuration: configuration.mesh, state: restoredMesh?.state ?? MeshState(revision: firstRevision),
            // Without a journal, revisions are reserved in blocks before they are issued, so a restart continues past
            // them (the hub ignores the reservation when it has a journal: every event is recorded instead).
            reservation: .init(block: configuration.desiredStateStore == nil ? 1_000 : 1) { reserved in
                do {
                    try desired.apply([
                        .init(namespace: "counter", key: SchedulerController.meshRevisionKey, value: "\(reserved)")
                    ])
                } catch {
                    logger.error("cannot reserve Mesh revisions", metadata: ["error": "\(error)"])
                }
            },
            journal: configuration.meshJournal, history: restoredMesh?.history ?? []
        )
        let scheduler = SchedulerController(
            configuration: configuration.scheduler, mesh: mesh, store: desired, logger: logger
        ) { model, version in
            let admin = try registry.principal(forUser: "admin")
            let found = try registry.getVersion(model: model, .number(Int(version)), by: admin)
            return .init(sha256: found.sha256, sizeBytes: found.sizeBytes, manifest: found.manifest)
        }
        let store = ReplicaStore()
        // The local worker's model work and its call gate follow the capacity it offers, as a worker process's do.
        let inference = WorkerInference(
            cpuMillis: configuration.role == .embedded ? configuration.localWorkerCapacity.cpuMillis : 0,
            queueBudget: configuration.queueBudget
        )
        let lazy = RegistryModelSource(registry: registry, executor: inference.executor)
        // Token, role and version answers come from the registry's access cache (no SQLite on a hit; every registry
        // write invalidates it at once, see docs/registry-service.md), so they are given on the I/O thread too.
        let resolveLocally: ReplicaModelSource.InlineResolver = { model, selector, context in
            let principal = try registry.principal(for: context)
            let reference = try selector.reference()
            // No version asked for: the newest version with a ready replica here (the proto's rule), once the caller
            // may read the model; only a model with no ready replica falls back to the latest.
            if reference == .latest, selector?.alias != "latest", store.hasReady(model: model, version: nil) {
                try registry.checkRole(principal, model: model, required: .reader)
                return .version(nil)
            }
            return .version(UInt32(clamping: try registry.getVersion(model: model, reference, by: principal).number))
        }
        let source: any ModelSource =
            configuration.role == .embedded
            ? ReplicaModelSource(store: store, fallback: lazy, executor: inference.executor, resolveNow: resolveLocally) {
                model, selector, context in
                guard case .version(let version) = try resolveLocally(model, selector, context) else { return nil }
                return version
            }
            : lazy
        // Sheds overload of Recommend's inference methods only, on the event loop (see AdmissionCallGate).
        let gate = inference.gate
        let inferenceModels = InferenceModels(
            authorize: { model, context in
                try registry.checkRole(try registry.principal(for: context), model: model, required: .reader)
            },
            readyVersions: { store.readyVersions(of: $0) },
            serverReady: { health.status(of: "") == .serving }
        )
        // Registry, scheduler and access calls write the registry and the desired state synchronously, under their
        // locks, and with etcd wait for it there (seconds during an election): off Swift's cooperative pool.
        let blockingServices: [any RPCService] = [
            RegistryService(
                registry: registry, logger: logger,
                versionInUse: { model, version in scheduler.deploymentServing(model: model, version: version) },
                onMeshEvent: { payload in _ = try? mesh.publish(payload) }
            ) { model, alias, version in
                scheduler.aliasMoved(model: model, alias: alias, version: version)
            },
            SchedulerService(registry: registry, controller: scheduler, logger: logger),
            AccessService(registry: registry),
        ]
        let services: [any RPCService] = [
            RecommendService(source: source, registry: registry),
            MeshService(hub: mesh, registry: registry, logger: logger),
            FeedbackService(registry: registry, store: feedback),
            InferenceService(source: source, models: inferenceModels),
        ]
        var router = RPCRouter(services: [health, reflection] + services)
        router.merge(RPCRouter(services: blockingServices).preferringExecutor(BlockingTaskExecutor.shared))
        let audit = AuditLog(registry: registry, logger: logger)
        let server = RPCServer(
            configuration: .defaults {
                $0.host = configuration.host
                $0.port = configuration.port
                $0.tls = configuration.tls
                if let maxConnections = configuration.maxConnections { $0.maxConnections = maxConnections }
            },
            router: router,
            interceptors: [audit] + configuration.observability.interceptors,
            callGate: gate,
            metrics: configuration.observability.metrics,
            logger: logger
        )
        configuration.observability.watchAbuseCounters?(server.abuseCounters)
        let address: SocketAddress
        do {
            try scheduler.restore()
            address = try await server.start()
        } catch {
            inference.shutdown()
            feedback.close()
            desired.close()
            registry.close()
            throw error
        }
        scheduler.start()
        for service in serviceNames { health.setStatus(.serving, for: service) }
        let bridge = MeshHealthBridge(hub: mesh, health: health)
        let publisher = AccessGrantsPublisher(registry: registry, controller: scheduler, logger: logger)
        let healthBridge = Task {
            // The health bridge and the workers' access rules run for the life of the platform.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await bridge.run() }
                group.addTask { await publisher.run() }
            }
        }
        let auditWriter = Task { await audit.run() }
        var localWorker: WorkerAgent?
        if configuration.role == .embedded {
            let token = try String(contentsOfFile: registry.adminTokenPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let port = address.port ?? configuration.port
            let loopback = configuration.host == "0.0.0.0" || configuration.host == "::" ? "127.0.0.1" : configuration.host
            // The local worker keeps its id across restarts: a restarted platform then finds the worker it waits for
            // at once (its replicas died with the process and are placed again) instead of holding placement for
            // the whole restart grace.
            if let previous = try? desired.load()[Self.localWorkerNamespace]?[Self.localWorkerKey] {
                store.workerID = previous
            }
            let agent = WorkerAgent(
                configuration: .init(
                    controlPlaneHost: loopback, controlPlanePort: port, advertisedAddress: "\(loopback):\(port)",
                    capacity: configuration.localWorkerCapacity, token: token
                ),
                store: store, callGate: gate, logger: logger,
                // Over TLS the loopback listener would need a client identity for mutual TLS: join in-process.
                inProcessControlPlane: configuration.tls == nil ? nil : server,
                onControlPlaneChange: { connected in
                    guard connected else { return }
                    let change = ControlPlaneStore.Change(
                        namespace: Self.localWorkerNamespace, key: Self.localWorkerKey, value: store.workerID
                    )
                    do {
                        try desired.apply([change])
                    } catch {
                        logger.warning("cannot record the local worker's id", metadata: ["error": "\(error)"])
                    }
                }
            )
            agent.start()
            localWorker = agent
        }
        return Platform(
            registry: registry, health: health, server: server, address: address, mesh: mesh, scheduler: scheduler,
            localWorker: localWorker, healthBridge: healthBridge, auditWriter: auditWriter, inference: inference,
            feedback: feedback, desired: desired
        )
    }

    /// Where the embedded role keeps its local worker's id (``ControlPlaneStore``).
    static let localWorkerNamespace = "local"
    static let localWorkerKey = "worker_id"

    /// The revision this run's Mesh state starts at: past the last one a previous run may have issued (it reserved
    /// up to `R`, so this run starts at `R + 1` and a watcher's revision from before never names a state of this
    /// run: it gets a snapshot with `reset`); 0 for a new data directory.
    private static func startingRevision(_ store: any DesiredStateStore) throws -> UInt64 {
        let counters = try store.load()["counter"] ?? [:]
        guard let reserved = counters[SchedulerController.meshRevisionKey].flatMap({ UInt64($0) }) else { return 0 }
        return reserved + 1
    }

    /// The gRPC service names reported by the health service.
    static let serviceNames: [String] = [
        RegistryService.serviceName, RecommendService.serviceName, SchedulerService.serviceName, MeshService.serviceName,
        AccessService.serviceName, FeedbackService.serviceName, InferenceService.serviceName,
    ]

    /// Marks every service NOT_SERVING, stops the local worker and the scheduler, drains calls (GOAWAY) and closes
    /// the registry.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        healthBridge.cancel()
        // Watch streams end first (UNAVAILABLE: resume elsewhere) so they do not hold up the drain.
        mesh.shutdown()
        health.markAllNotServing()
        await localWorker?.stop()
        scheduler.shutdown()
        await server.shutdown(gracePeriod: gracePeriod)
        // The last calls' audit events are written before the registry closes.
        auditWriter.cancel()
        await auditWriter.value
        inference.shutdown()
        feedback.close()
        desired.close()
        registry.close()
    }
}
