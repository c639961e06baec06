import AIMassServices
import Logging
import MeshCore
import ModelRegistry
import NIOCore
import RPCCore
import RPCHTTP2
import RPCHealth

/// The embedded AI Mass platform in one process: the registry on a data directory and every
/// service, served by one ``RPCServer``.
///
/// ```swift
/// let platform = try await Platform.start(configuration: .init(dataDirectory: "./data", port: 0))
/// print(platform.address)
/// await platform.shutdown()
/// ```
public final class Platform: Sendable {
    /// Where and how the platform runs.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Holds `registry.sqlite`, `artifacts/`, `admin.token`.
        public var dataDirectory: String
        /// Largest model artifact accepted by an upload.
        public var maxArtifactBytes: Int64
        /// History, buffer bounds and heartbeats of the mesh hub behind `Mesh/Watch`.
        public var mesh: MeshHub.Configuration

        public init(
            host: String = "127.0.0.1", port: Int = 50051, dataDirectory: String, maxArtifactBytes: Int64 = 4 << 30,
            mesh: MeshHub.Configuration = .defaults
        ) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.maxArtifactBytes = maxArtifactBytes
            self.mesh = mesh
        }
    }

    public let registry: ModelRegistry
    public let health: HealthService
    /// The live state of the pool behind `Mesh/Watch`; the scheduler publishes into it.
    public let mesh: MeshHub
    public let address: SocketAddress
    private let server: RPCServer
    private let healthBridge: Task<Void, Never>

    private init(
        registry: ModelRegistry, health: HealthService, mesh: MeshHub, server: RPCServer, address: SocketAddress,
        healthBridge: Task<Void, Never>
    ) {
        self.registry = registry
        self.health = health
        self.mesh = mesh
        self.server = server
        self.address = address
        self.healthBridge = healthBridge
    }

    /// Opens the data directory, starts every service and listens.
    public static func start(configuration: Configuration, logger: Logger = Logger(label: "aimass")) async throws -> Platform {
        let registry = try ModelRegistry.open(
            dataDirectory: configuration.dataDirectory,
            configuration: .defaults { $0.maxArtifactBytes = configuration.maxArtifactBytes },
            logger: logger
        )
        let health = HealthService()
        let mesh = MeshHub(configuration: configuration.mesh)
        let services = makeServices(registry: registry, mesh: mesh, logger: logger)
        let server = RPCServer(
            configuration: .defaults {
                $0.host = configuration.host
                $0.port = configuration.port
            },
            services: [health] + services,
            logger: logger
        )
        let address: SocketAddress
        do {
            address = try await server.start()
        } catch {
            registry.close()
            throw error
        }
        for service in serviceNames { health.setStatus(.serving, for: service) }
        let bridge = MeshHealthBridge(hub: mesh, health: health)
        let healthBridge = Task { await bridge.run() }
        return Platform(
            registry: registry, health: health, mesh: mesh, server: server, address: address, healthBridge: healthBridge)
    }

    /// The platform's services, in the order they are registered.
    static func makeServices(registry: ModelRegistry, mesh: MeshHub, logger: Logger) -> [any RPCService] {
        [
            RegistryService(registry: registry, logger: logger), RecommendService(registry: registry),
            MeshService(hub: mesh, registry: registry, logger: logger),
        ]
    }

    /// The gRPC service names reported by the health service.
    static let serviceNames: [String] = [
        RegistryService.serviceName, RecommendService.serviceName, MeshService.serviceName,
    ]

    /// Ends every `Mesh/Watch` stream (`UNAVAILABLE`, resume elsewhere), marks every service NOT_SERVING, drains calls
    /// (GOAWAY) and closes the registry.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        healthBridge.cancel()
        mesh.shutdown()
        health.markAllNotServing()
        await server.shutdown(gracePeriod: gracePeriod)
        registry.close()
    }
}
