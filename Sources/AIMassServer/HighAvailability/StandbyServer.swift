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
            for method in Self.readMethods {
                if let route = reads.route(forPath: method.path) { router.register(route.descriptor, handler: route.handler) }
            }
        }
        self.server = RPCServer(configuration: configuration, router: router, logger: logger)
    }

    /// The error every call gets: where the leader is, if known.
    static func redirect(_ leader: String) -> RPCError {
        guard !leader.isEmpty else {
            return RPCError(code: .unavailable, message: "this control plane is a standby and no leader is known yet")
        }
        return RPCError(
            code: .unavailable, message: "this control plane is a standby; the leader is \(leader)",
            metadata: [leaderMetadataKey: .string(leader)])
    }

    /// Binds and listens.
    func start() async throws -> SocketAddress { try await server.start() }

    /// Names the leader that calls are sent to.
    func setLeader(_ address: String) { leader.address.withLock { $0 = address } }

    /// Stops listening (the port is then free for the platform).
    func shutdown() async { await server.shutdown(gracePeriod: .milliseconds(200)) }
}
