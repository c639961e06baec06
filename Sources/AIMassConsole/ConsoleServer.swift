import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
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
        /// When set, the console serves HTTPS with this certificate.
        public var tls: TLS?
        /// How the gateway's client reaches a gRPC server that speaks TLS (`nil`: plaintext).
        public var grpcTLS: ClientTLSConfiguration?
        /// Set on a worker: the console is read-only and reads the pool from the control plane.
        public var worker: WorkerConsole?

        public init(
            host: String, port: Int, grpcHost: String, grpcPort: Int, unaryTimeout: Duration = .seconds(30),
            tls: TLS? = nil, grpcTLS: ClientTLSConfiguration? = nil, worker: WorkerConsole? = nil
        ) {
            self.worker = worker
            self.host = host
            self.port = port
            self.grpcHost = grpcHost
            self.grpcPort = grpcPort
            self.unaryTimeout = unaryTimeout
            self.tls = tls
            self.grpcTLS = grpcTLS
        }
    }

    /// The console's HTTPS certificate: the gRPC listener's reloadable credentials (HTTP/1.1 over TLS 1.2 or later,
    /// ALPN `http/1.1`; no client certificate is asked for, as a browser has none: the bearer token authenticates).
    /// Each handshake takes the certificate the credentials hold at that moment, so a reload (SIGHUP, or the files
    /// changing) reaches new HTTPS connections too, while open ones keep theirs.
    public struct TLS: Sendable {
        public var credentials: TLSServerCredentials

        public init(credentials: TLSServerCredentials) {
            self.credentials = credentials
        }

        func serverConfiguration() -> TLSConfiguration {
            let (chain, key) = credentials.current
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            configuration.applicationProtocols = ["http/1.1"]
            // Called on every client hello: the certificate and key current now replace the ones of the start.
            configuration.sslContextCallback = { [credentials] _, promise in
                let (chain, key) = credentials.current
                var current = NIOSSLContextConfigurationOverride()
                current.certificateChain = chain.map { .certificate($0) }
                current.privateKey = .privateKey(key)
                promise.succeed(current)
            }
            return configuration
        }
    }

    /// The port the console listens on.
    public let port: Int
    private let clients: [RPCClient]
    private let streams: OpenStreams
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(port: Int, clients: [RPCClient], streams: OpenStreams, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.clients = clients
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
        let server = try configuration.tls.map { tls in
            try HTTPServerBuilder.tls(.http1(), tlsConfiguration: tls.serverConfiguration())
        } ?? HTTPServerBuilder.http1()
        let serving = RPCClient(
            host: configuration.grpcHost, port: configuration.grpcPort,
            configuration: .defaults { $0.tls = configuration.grpcTLS }, logger: logger)
        let client = configuration.worker.map { worker in
            RPCClient(
                host: worker.controlPlaneHost, port: worker.controlPlanePort,
                configuration: .defaults { $0.tls = worker.controlPlaneTLS }, logger: logger)
        } ?? serving
        let clients = client === serving ? [serving] : [serving, client]
        let streams = OpenStreams()
        let gateway = Gateway(
            client: client, serving: serving, logger: logger, streams: streams, unaryTimeout: configuration.unaryTimeout)
        let router = Router()
        // First: middleware applies to the routes added after it.
        if let worker = configuration.worker { router.add(middleware: ReadOnlyMiddleware(workerAddress: worker.address)) }
        ConsoleInfoRoute.register(on: router, worker: configuration.worker)
        RegistryRoutes.register(on: router, gateway: gateway)
        ABReportRoute.register(on: router, gateway: gateway)
        UploadRoute.register(on: router, gateway: gateway)
        PoolRoutes.register(on: router, gateway: gateway)
        RecommendRoutes.register(on: router, gateway: gateway)
        EventsRoute.register(on: router, gateway: gateway)
        WhoAmIRoute.register(on: router, gateway: gateway)
        OpenInferenceRoutes.register(on: router, gateway: gateway)
        StaticRoutes.register(on: router)

        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            server: server,
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
            return ConsoleServer(port: port, clients: clients, streams: streams, group: group, running: running)
        }
        // The server stopped before it was bound: its error says why.
        for client in clients { await client.close() }
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
        for client in clients { await client.close() }
    }
}
