import Logging
import NIOCore
import NIOPosix
import RPCCore
import Synchronization

/// A gRPC server over HTTP/2 (nghttp2), serving the methods of an ``RPCRouter``.
///
/// ```swift
/// let server = RPCServer(configuration: .defaults { $0.port = 0 }, services: [HealthService()])
/// let address = try await server.start()
/// // …
/// await server.shutdown()
/// ```
public final class RPCServer: Sendable {
    let shared: ServerShared
    private let group: MultiThreadedEventLoopGroup
    private let channelBox = ChannelBox()

    /// Creates a server; nothing listens until ``start()``.
    ///
    /// - Parameters:
    ///   - callGate: Sheds calls of the methods it gates on the I/O thread, as soon as their request is complete
    ///     (see ``ServerCallGate``); `nil` (the default) admits everything at no cost.
    ///   - metrics: Counts calls, connections and streams (see ``ServerMetricsObserver``); `nil` costs nothing.
    public init(
        configuration: ServerConfiguration = .defaults,
        router: RPCRouter,
        interceptors: [any ServerInterceptor] = [],
        callGate: (any ServerCallGate)? = nil,
        metrics: (any ServerMetricsObserver)? = nil,
        logger: Logger = Logger(label: "aimass.rpc.server")
    ) {
        self.shared = ServerShared(
            configuration: configuration, router: router, interceptors: interceptors, gate: callGate, metrics: metrics,
            logger: logger
        )
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
    }

    /// Creates a server for a set of services.
    public convenience init(
        configuration: ServerConfiguration = .defaults,
        services: [any RPCService],
        interceptors: [any ServerInterceptor] = [],
        callGate: (any ServerCallGate)? = nil,
        metrics: (any ServerMetricsObserver)? = nil,
        logger: Logger = Logger(label: "aimass.rpc.server")
    ) {
        self.init(
            configuration: configuration, router: RPCRouter(services: services), interceptors: interceptors,
            callGate: callGate, metrics: metrics, logger: logger
        )
    }

    /// Binds and starts accepting connections; returns the address it listens on.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let shared = self.shared
        let limits = FileDescriptorLimit.raiseSoftToHard()
        shared.logger.debug("open file limit", metadata: ["soft": "\(limits.soft)", "hard": "\(limits.hard)"])
        if limits.soft > 0 {
            let descriptors = shared.fitConnectionLimit(openFiles: limits.soft)
            if !FileDescriptorLimit.presizeTable(toHold: descriptors) {
                shared.logger.debug(
                    "could not presize the descriptor table", metadata: ["descriptors": "\(descriptors)"]
                )
            }
        }
        let reserve = FileDescriptorReserve(size: shared.configuration.fileDescriptorReserve)
        let bootstrap = ServerBootstrap(group: group)
            // A burst of connections beyond the backlog has its SYNs dropped, and each client waits for the kernel's
            // 1 s retransmission (the 1,020 ms first call of issue 14): the kernel caps this at somaxconn (4,096).
            .serverChannelOption(.backlog, value: 4096)
            // Connections accepted per wake-up. Each is set up in the same event-loop tick (~100-150 µs of CPU), so
            // this bounds how long a ready call waits behind a burst of connects: 64 made stalls of ~8 ms under
            // 10,000 connects, 8 keeps them near 1 ms and drains the queue as fast (docs/security.md).
            .serverChannelOption(.maxMessagesPerRead, value: 8)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        AcceptExhaustionHandler(shared: shared, reserve: reserve),
                        // A short pause before retrying accept after an error, so that running out of descriptors
                        // with nothing idle to close does not spin the loop.
                        AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { _ in .milliseconds(20) },
                    ])
                }
            }
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(Self.deferAccept, value: Self.seconds(shared.configuration.deferAccept))
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: ReadAllowance.usualReadsPerTurn)  // once trusted (ReadAllowance)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let gate = FirstReadGateHandler(gate: shared.firstReadGate(for: channel.eventLoop))
                    try channel.pipeline.syncOperations.addHandler(gate)
                    try Self.installHandlers(on: channel, shared: shared, tls: shared.configuration.tls)
                }
            }
        let channel = try await bootstrap.bind(host: shared.configuration.host, port: shared.configuration.port).get()
        channelBox.set(channel)
        guard let address = channel.localAddress else {
            throw RPCError(code: .internalError, message: "the listening socket has no address")
        }
        shared.logger.info("listening", metadata: ["address": "\(address)"])
        return address
    }

    /// `TCP_DEFER_ACCEPT` (``ServerConfiguration/deferAccept``): a connection is handed to `accept` once its first
    /// bytes arrived, not when its handshake completes, so connections opened and left silent cost the server
    /// nothing until they speak (or this long has passed: the kernel then hands them over anyway).
    private static let deferAccept = ChannelOptions.Types.SocketOption(
        level: .tcp, name: NIOBSDSocket.Option(rawValue: CInt(TCP_DEFER_ACCEPT))
    )

    /// Whole seconds, at least 1, for `TCP_DEFER_ACCEPT`; 0 (off) for `nil`.
    private static func seconds(_ duration: Duration?) -> SocketOptionValue {
        guard let duration else { return 0 }
        return SocketOptionValue(clamping: max(1, duration.components.seconds))
    }

    /// The pipeline of one connection: TLS and its ALPN guard when `tls` is set, then HTTP/2.
    private static func installHandlers(
        on channel: any Channel, shared: ServerShared, tls: TLSServerCredentials?, inProcess: Bool = false
    ) throws {
        if let tls {
            let guardHandler = TLSHandshakeGuard(
                handshake: channel.eventLoop.makePromise(),
                timeout: TimeAmount(shared.configuration.tlsHandshakeTimeout), logger: shared.logger,
                clientSide: false
            )
            try channel.pipeline.syncOperations.addHandlers([tls.makeHandler(), guardHandler])
        }
        try channel.pipeline.syncOperations.addHandler(
            ServerConnectionHandler(shared: shared, allocator: channel.allocator, inProcess: inProcess)
        )
    }

    /// Serves one end of a socket pair made in this process, without TLS (both ends are in this process, so
    /// nothing crosses a network): how ``RPCClient/init(inProcess:configuration:logger:)`` connects.
    func serveInProcess(socket: CInt) async throws {
        let shared = self.shared
        _ = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.installHandlers(on: channel, shared: shared, tls: nil, inProcess: true)
                }
            }
            .withConnectedSocket(socket).get()
    }

    /// What the server refused or closed to protect itself (abusive connections, connections closed for room).
    public var abuseCounters: AbuseCounters { shared.abuseCounters }

    /// Serves one connection on a channel the caller made, as if it had been accepted, in plaintext: how the header
    /// path is fuzzed (on an `EmbeddedChannel`, Benchmarks/Sources/fuzz-headers). Not API: listeners do this
    /// themselves.
    public func _serveConnection(on channel: any Channel) throws {
        try Self.installHandlers(on: channel, shared: shared, tls: nil)
    }

    /// The address the server listens on, once started.
    public var listeningAddress: SocketAddress? { channelBox.get()?.localAddress }

    /// Stops accepting, lets in-flight calls finish within `gracePeriod` (new calls get GOAWAY,
    /// which clients report as `UNAVAILABLE`), then closes everything.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        if let channel = channelBox.get() { try? await channel.close() }
        shared.beginDrainingAll()
        await Self.wait(upTo: gracePeriod) { self.shared.openConnections == 0 }
        shared.closeAll()
        // Closing cancels the handler tasks; wait (briefly: model work cannot be interrupted) until none can hop to
        // an event loop any more, since a hop to a loop that has shut down is dropped and its handler never resumes.
        await Self.wait(upTo: .seconds(2)) { self.shared.runningHandlerTasks == 0 }
        shared.spinner?.stop()
        try? await group.shutdownGracefully()
    }

    /// Polls `done` every 5 ms until it holds or `limit` passes (only at shutdown, so polling costs nothing).
    private static func wait(upTo limit: Duration, until done: () -> Bool) async {
        let end = ContinuousClock.now + limit
        while !done(), ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(5)) }
    }

    /// Waits until the listening socket is closed.
    public func waitUntilClosed() async throws {
        try await channelBox.get()?.closeFuture.get()
    }
}

/// Holds the listening channel once bound.
private final class ChannelBox: Sendable {
    private let channel = Mutex<(any Channel)?>(nil)
    func set(_ value: any Channel) { channel.withLock { $0 = value } }
    func get() -> (any Channel)? { channel.withLock { $0 } }
}

