import AIMassAPI
import AIMassServices
import Logging
import ModelRegistry
import NIOCore
import RPCCore
import RPCHTTP2
import RPCHealth
import Synchronization

/// What a control plane that does not lead serves on its port: the registry's reads (``readMethods``) from its
/// replica of etcd, and for every other method of the platform's API `UNAVAILABLE` with the leader's address in the
/// trailing metadata (``leaderMetadataKey``), which the CLI, the client library and workers follow; health reports
/// NOT_SERVING so a load balancer prefers the leader.
final class StandbyServer: Sendable {
    /// The trailing metadata key that names the leader (`HOST:PORT`).
    static let leaderMetadataKey = "aimass-leader"

    private let server: RPCServer
    private let leader: Leader

    /// The leader's address, shared with the handlers.
    private final class Leader: Sendable {
        let address = Mutex("")
    }

    /// Whether the replica has been loaded from etcd since this process started: until then it may be empty (a
    /// fresh data directory) or stale (a previous run's), and its reads would refuse valid tokens or show old rows.
    private final class ReplicaReadiness: Sendable {
        let loaded = Atomic<Bool>(false)
    }

    private let replicaReadiness = ReplicaReadiness()

    /// The services a standby answers for (the platform's, without health and reflection).
    static let methods: [MethodDescriptor] =
        ModelRegistryMethods.all + RecommendMethods.all + SchedulerMethods.all + MeshMethods.all + AccessMethods.all
        + FeedbackMethods.all + GRPCInferenceServiceMethods.all

    /// The calls a standby answers from its replica: they read the registry and change nothing in it (a replica
    /// follows the leader by milliseconds, so a read right after a write on the leader may not see it yet).
    static let readMethods: [MethodDescriptor] = [
        ModelRegistryMethods.getModel, ModelRegistryMethods.listModels, ModelRegistryMethods.getVersion,
        ModelRegistryMethods.listVersions, ModelRegistryMethods.downloadVersion, ModelRegistryMethods.diffVersions,
        ModelRegistryMethods.listAliasHistory, ModelRegistryMethods.getPermissions, AccessMethods.whoAmI,
    ]

    /// - Parameter replica: The registry replica the reads are answered from; nil: every call is redirected.
    init(configuration: ServerConfiguration, replica: ModelRegistry?, logger: Logger) {
        let leader = Leader()
        self.leader = leader
        let health = HealthService()
        health.setStatus(.notServing, for: "")
        var router = RPCRouter(services: [health])
        for method in Self.methods {
            router.register(method, handler: .streaming { _, _, _ in throw Self.redirect(leader.address.withLock { $0 }) })
        }
        if let replica {
            let reads = RPCRouter(services: [RegistryService(registry: replica, logger: logger), AccessService(registry: replica)])
            let readiness = replicaReadiness
            for method in Self.readMethods {
                guard let route = reads.route(forPath: method.path) else { continue }
                router.register(route.descriptor, handler: Self.once(readiness, route.handler, else: leader))
            }
        }
        self.server = RPCServer(configuration: configuration, router: router, logger: logger)
    }

    /// The error every call gets (and a read, while the replica is not loaded): where the leader is, if known.
    static func redirect(_ leader: String, replicaNotLoaded: Bool = false) -> RPCError {
        let standby =
            replicaNotLoaded
            ? "this control plane is a standby whose copy of the registry is not loaded from etcd yet"
            : "this control plane is a standby"
        guard !leader.isEmpty else {
            return RPCError(code: .unavailable, message: "\(standby) and no leader is known yet")
        }
        return RPCError(
            code: .unavailable, message: "\(standby); the leader is \(leader)",
            metadata: [leaderMetadataKey: .string(leader)])
    }

    /// The replica has been loaded from etcd: reads are answered from it from now on.
    func replicaLoaded() { replicaReadiness.loaded.store(true, ordering: .releasing) }

    /// `handler` once the replica is loaded; before, the redirect.
    private static func once(_ readiness: ReplicaReadiness, _ handler: MethodHandler, else leader: Leader) -> MethodHandler {
        let notLoaded = { @Sendable () -> RPCError? in
            readiness.loaded.load(ordering: .acquiring)
                ? nil : Self.redirect(leader.address.withLock { $0 }, replicaNotLoaded: true)
        }
        switch handler {
        case .streaming(let body):
            return .streaming { requests, responses, context in
                if let error = notLoaded() { throw error }
                try await body(requests, responses, context)
            }
        case .inlineUnary(let body):
            return .inlineUnary { (request, context) throws(RPCError) in
                if let error = notLoaded() { throw error }
                return try body(request, context)
            }
        }
    }

    /// Binds and listens.
    func start() async throws -> SocketAddress { try await server.start() }

    /// Names the leader that calls are sent to.
    func setLeader(_ address: String) { leader.address.withLock { $0 = address } }

    /// Stops listening (the port is then free for the platform).
    func shutdown() async { await server.shutdown(gracePeriod: .milliseconds(200)) }
}
