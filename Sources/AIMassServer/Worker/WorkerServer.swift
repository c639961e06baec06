import AIMassAPI
import AIMassServices
import Foundation
import Logging
import NIOCore
import RPCCore
import RPCHTTP2
import RPCHealth
import Synchronization

/// A worker process (`aimass serve --role worker`): its own ``RPCServer`` with `aimass.v1.Recommend`
/// (Recommend and SimilarItems from its ready replicas, through admission control; an alias with an A/B split is
/// routed per user as the control plane routes it), `aimass.v1.Feedback/Record` (forwarded to the control plane,
/// attributed to the version that served, see ``WorkerFeedbackService``), the Open Inference Protocol
/// (`inference.GRPCInferenceService`, the same serving path), health and server reflection, plus a
/// ``WorkerAgent`` that joins the control plane. Recommend and SimilarItems also pass the server's
/// ``AdmissionCallGate``, which sheds overload on the event loop before a handler task exists.
public final class WorkerServer: Sendable {
    /// Where the worker listens and whom it joins.
    public struct Configuration: Sendable {
        /// Address to bind.
        public var host: String
        /// Port; 0 picks a free one.
        public var port: Int
        /// Control plane host.
        public var controlPlaneHost: String
        /// Control plane port.
        public var controlPlanePort: Int
        /// What this worker offers.
        public var capacity: AIMassAPI.Capacity
        /// Admin token for Join and downloads.
        public var token: String
        /// The longest an inference call over the worker's limit waits for a slot before it is shed.
        public var queueBudget: QueueBudget
        /// Keepalive PINGs on the connection to the control plane (the Join stream); nil sends none.
        public var keepalive: ClientConfiguration.Keepalive?
        /// TLS for this worker's listener (mutual when it has a client CA); `nil`: plaintext.
        public var tls: TLSServerCredentials? = nil
        /// ``ServerConfiguration/maxConnections`` of the listener; `nil`: its default.
        public var maxConnections: Int? = nil
        /// TLS towards the control plane (Join, downloads, token checks); `nil`: plaintext.
        public var controlPlaneTLS: ClientTLSConfiguration? = nil
        /// More control planes of a highly available pool (`--join A,B,C`; see ``WorkerAgent/Configuration``).
        public var otherControlPlanes: [(host: String, port: Int)] = []
        /// Metrics and access log of the worker's gRPC server.
        public var observability: Observability = .none

        /// Creates a configuration; the capacity defaults to this machine (cores, memory, 8 replica slots).
        public init(
            host: String = "127.0.0.1", port: Int = 0, controlPlaneHost: String, controlPlanePort: Int,
            capacity: AIMassAPI.Capacity = WorkerServer.machineCapacity(), token: String,
            queueBudget: QueueBudget = .default, keepalive: ClientConfiguration.Keepalive? = .streams,
            observability: Observability = .none
        ) {
            self.keepalive = keepalive
            self.queueBudget = queueBudget
            self.observability = observability
            self.host = host
            self.port = port
            self.controlPlaneHost = controlPlaneHost
            self.controlPlanePort = controlPlanePort
            self.capacity = capacity
            self.token = token
        }
    }

    /// The bound address.
    public let address: SocketAddress
    /// The agent in the pool.
    public let agent: WorkerAgent
    /// Health of the worker's services.
    public let health: HealthService
    private let server: RPCServer
    private let authClient: RPCClient
    private let inference: WorkerInference

    private init(
        address: SocketAddress, agent: WorkerAgent, health: HealthService, server: RPCServer, authClient: RPCClient,
        inference: WorkerInference
    ) {
        self.address = address
        self.agent = agent
        self.health = health
        self.server = server
        self.authClient = authClient
        self.inference = inference
    }

    /// This machine's capacity: every core, the physical memory, 8 replica slots.
    public static func machineCapacity() -> AIMassAPI.Capacity {
        AIMassAPI.Capacity(
            cpuMillis: Int64(ProcessInfo.processInfo.activeProcessorCount) * 1000,
            memoryBytes: Int64(clamping: ProcessInfo.processInfo.physicalMemory), replicaSlots: 8
        )
    }

    /// Starts serving, then joins the control plane (in the background, retrying until it answers).
    public static func start(configuration: Configuration, logger: Logger = Logger(label: "aimass.worker")) async throws -> WorkerServer {
        let reflection = try ServedAPI.reflection(
            services: [
                HealthService.serviceName, RecommendService.serviceName, InferenceService.serviceName,
                WorkerFeedbackService.serviceName,
            ]
        )
        let store = ReplicaStore()
        let authClient = RPCClient(
            host: configuration.controlPlaneHost, port: configuration.controlPlanePort,
            configuration: .defaults { $0.tls = configuration.controlPlaneTLS }
        )
        let grants = WorkerGrants()
        // Asks the control plane the worker is joined to (with several, the leader), once the agent exists.
        let joined = JoinedAgent()
        let controlPlane: @Sendable () -> RPCClient = { joined.agent.withLock { $0?.client } ?? authClient }
        let authorizer = ControlPlaneAuthorizer(client: controlPlane, grants: grants)
        let inference = WorkerInference(cpuMillis: configuration.capacity.cpuMillis, queueBudget: configuration.queueBudget)
        // A number pins the version, an alias is resolved by the control plane (cached per caller for the
        // authorizer's TTL), and no selector takes the newest version held. The version chosen must be held here,
        // ready, or the call fails with UNAVAILABLE naming it.
        let alias: @Sendable (VersionSelector?) -> String? = { selector in
            guard let selector, selector.number == 0, !selector.alias.isEmpty else { return nil }
            return selector.alias
        }
        let pinned: @Sendable (VersionSelector?) -> UInt32? = { selector in
            guard let number = selector?.number, number > 0 else { return nil }
            return number
        }
        let source = ReplicaModelSource(
            store: store, executor: inference.executor,
            resolveNow: { model, selector, context in
                if let alias = alias(selector) {
                    return try authorizer.cachedVersion(model: model, alias: alias, context: context).map { .version($0) }
                        ?? .needsLookup
                }
                return try authorizer.cachedAuthorization(model: model, context: context) ? .version(pinned(selector)) : .needsLookup
            }
        ) { model, selector, context in
            if let alias = alias(selector) {
                return try await authorizer.resolve(model: model, alias: alias, context: context)
            }
            try await authorizer.authorize(model: model, context: context)
            return pinned(selector)
        }
        // A/B splits as the control plane pushed them, by its hash (a user gets the same version as there); until
        // the split's version is ready here, the alias's own version serves everyone, as before the split.
        let splitRoute: @Sendable (String, String, String) -> UInt32? = { model, alias, user in
            guard let version = grants.splitVersion(model: model, alias: alias, user: user),
                store.hasReady(model: model, version: version)
            else { return nil }
            return version
        }
        let servingVersion: @Sendable (String, String, String) -> UInt32? = { model, alias, user in
            splitRoute(model, alias, user) ?? grants.aliasVersion(model: model, alias: alias)
        }
        let health = HealthService()
        let gate = inference.gate
        let inferenceModels = InferenceModels(
            authorize: { model, context in try await authorizer.authorize(model: model, context: context) },
            readyVersions: { store.readyVersions(of: $0) },
            serverReady: { health.status(of: RecommendService.serviceName) == .serving }
        )
        let server = RPCServer(
            configuration: .defaults {
                $0.host = configuration.host
                $0.port = configuration.port
                $0.tls = configuration.tls
                if let maxConnections = configuration.maxConnections { $0.maxConnections = maxConnections }
            },
            services: [
                health, reflection,
                RecommendService(source: source, registry: nil) { model, alias, user, _ in splitRoute(model, alias, user) },
                InferenceService(source: source, models: inferenceModels),
                WorkerFeedbackService(client: controlPlane, servingVersion: servingVersion),
            ],
            interceptors: configuration.observability.interceptors,
            callGate: gate,
            metrics: configuration.observability.metrics,
            logger: logger
        )
        configuration.observability.watchAbuseCounters?(server.abuseCounters)
        let address: SocketAddress
        do {
            address = try await server.start()
        } catch {
            await authClient.close()
            inference.shutdown()
            throw error
        }
        health.setStatus(.serving, for: RecommendService.serviceName)
        health.setStatus(.serving, for: InferenceService.serviceName)
        health.setStatus(.notServing, for: WorkerAgent.controlPlaneHealthName)
        var agentConfiguration = WorkerAgent.Configuration(
            controlPlaneHost: configuration.controlPlaneHost, controlPlanePort: configuration.controlPlanePort,
            advertisedAddress: "\(configuration.host):\(address.port ?? configuration.port)",
            capacity: configuration.capacity, token: configuration.token, keepalive: configuration.keepalive,
            controlPlaneTLS: configuration.controlPlaneTLS
        )
        agentConfiguration.otherControlPlanes = configuration.otherControlPlanes
        let agent = WorkerAgent(
            configuration: agentConfiguration,
            store: store, callGate: gate, logger: logger,
            onGrants: { grants.replace($0) },
            onControlPlaneChange: { connected in
                // Recommend keeps serving while cut off; this entry only says whether the worker is joined.
                health.setStatus(connected ? .serving : .notServing, for: WorkerAgent.controlPlaneHealthName)
            },
            onDrainChange: { draining in
                // Balancers that watch this worker's own health stop sending before its last calls end.
                health.setStatus(draining ? .notServing : .serving, for: RecommendService.serviceName)
                health.setStatus(draining ? .notServing : .serving, for: InferenceService.serviceName)
            }
        )
        joined.agent.withLock { $0 = agent }
        agent.start()
        return WorkerServer(
            address: address, agent: agent, health: health, server: server, authClient: authClient,
            inference: inference
        )
    }

    /// Leaves the pool, drains calls and stops.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        health.markAllNotServing()
        await agent.stop()
        await server.shutdown(gracePeriod: gracePeriod)
        await authClient.close()
        inference.shutdown()
    }
}

/// The worker's agent, once made: the authorizer asks the control plane it is joined to.
private final class JoinedAgent: Sendable {
    let agent = Mutex<WorkerAgent?>(nil)
}
