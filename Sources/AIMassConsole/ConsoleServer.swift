import Hummingbird
import Logging
import NIOCore
import RPCCore
import RPCHTTP2
import ServiceLifecycle

/// The web console: an HTTP/1.1 server (Hummingbird) that serves the console's page and a JSON API under `/api/`,
/// which is a gateway onto the platform's own gRPC API on loopback (see ``Gateway``).
///
/// ```swift
/// let console = try await ConsoleServer.start(
///     configuration: .init(host: "127.0.0.1", port: 8080, grpcHost: "127.0.0.1", grpcPort: 50051))
/// print("console on http://127.0.0.1:\(console.port)/")
/// await console.shutdown()
/// ```
public final class ConsoleServer: Sendable {
    /// Where the console listens and which gRPC server it fronts.
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port (see ``ConsoleServer/port``).
        public var port: Int
        public var grpcHost: String
        public var grpcPort: Int
        /// The deadline of each unary gRPC call the gateway makes.
        public var unaryTimeout: Duration

        public init(host: String, port: Int, grpcHost: String, grpcPort: Int, unaryTimeout: Duration = .seconds(30)) {
            self.host = host
            self.port = port
            self.grpcHost = grpcHost
            self.grpcPort = grpcPort
            self.unaryTimeout = unaryTimeout
        }
    }

    /// The port the console listens on.
    public let port: Int
    private let client: RPCClient
    private let streams: OpenStreams
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(port: Int, client: RPCClient, streams: OpenStreams, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.client = client
        self.streams = streams
        self.group = group
        self.running = running
    }

    /// Starts listening; returns once the port is bound.
    ///
    /// - Throws: when the address cannot be bound (the error says why).
    public static func start(
        configuration: Configuration, logger: Logger = Logger(label: "aimass.console")
    ) async throws -> ConsoleServer {
        let client = RPCClient(host: configuration.grpcHost, port: configuration.grpcPort, logger: logger)
        let streams = OpenStreams()
        let gateway = Gateway(client: client, logger: logger, streams: streams, unaryTimeout: configuration.unaryTimeout)
        let router = Router()
        RegistryRoutes.register(on: router, gateway: gateway)
        UploadRoute.register(on: router, gateway: gateway)
        PoolRoutes.register(on: router, gateway: gateway)
        RecommendRoutes.register(on: router, gateway: gateway)
        EventsRoute.register(on: router, gateway: gateway)
        OpenInferenceRoutes.register(on: router, gateway: gateway)
        StaticRoutes.register(on: router)

        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? configuration.port)
                boundContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        let running = Task {
            defer { boundContinuation.finish() }
            try await group.run()
        }
        for await port in bound {
            return ConsoleServer(port: port, client: client, streams: streams, group: group, running: running)
        }
        // The server stopped before it was bound: its error says why.
        await client.close()
        try await running.value
        throw RPCError(code: .unavailable, message: "the console stopped before it listened on \(configuration.host):\(configuration.port)")
    }

    /// Stops listening, ends open event streams and closes the gateway's gRPC connection.
    public func shutdown() async {
        // Ending the event streams first (each ends with an `rpc-error` CANCELLED event) leaves the graceful shutdown
        // no endless response to wait for; the gateway's client closes last, when no call is left on it.
        streams.cancelAll()
        await group.triggerGracefulShutdown()
        _ = await running.result
        await client.close()
    }
}
