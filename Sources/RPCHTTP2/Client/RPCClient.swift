import Logging
import NIOCore
import NIOPosix
import RPCCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A gRPC client channel to one server over HTTP/2 (nghttp2).
///
/// One connection is shared by every call; it is opened on first use, and reopened after it
/// closes or the server sends GOAWAY. A failed connection attempt makes calls fail with
/// `UNAVAILABLE` until the backoff delay has passed, which grows with each failure.
///
/// ```swift
/// let client = RPCClient(host: "127.0.0.1", port: 50051)
/// let reply: HealthCheckResponse = try await client.unary(
///     MethodDescriptor(service: "grpc.health.v1.Health", method: "Check"),
///     request: HealthCheckRequest(),
///     options: CallOptions(timeout: .seconds(5))
/// )
/// ```
public final class RPCClient: Sendable {
    public let host: String
    public let port: Int
    private let configuration: ClientConfiguration
    private let interceptors: [any ClientInterceptor]
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    /// Set for a client of a server in the same process (see ``init(inProcess:configuration:logger:)``).
    private let inProcessServer: RPCServer?

    private struct Connection {
        let handler: NIOLoopBound<ClientConnectionHandler>
        let channel: any Channel
        let id: Int
    }
    private struct State {
        var connection: Connection?
        var connecting: [CheckedContinuation<Connection, any Error>]?
        var failures = 0
        var retryAfter: ContinuousClock.Instant?
        var lastError: String?
        var nextID = 0
        var closed = false
    }
    private let state = Mutex(State())
    /// The process's client metrics when this client was made (see ``ClientMetrics``), and each method's instruments.
    private let metrics: (any ClientMetricsObserver)?
    private let instruments = Mutex<[MethodDescriptor: any ClientCallInstruments]>([:])

    public init(host: String, port: Int, configuration: ClientConfiguration = .defaults,
                interceptors: [any ClientInterceptor] = [],
                logger: Logger = Logger(label: "aimass.rpc.client")) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.interceptors = interceptors
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        self.inProcessServer = nil
        self.metrics = ClientMetrics.observer
    }

    /// A client of `server`, in this process, over socket pairs: plaintext whatever TLS the server's listener
    /// requires (nothing crosses a network), and reconnecting as a TCP client would. `configuration.tls` is ignored.
    public init(inProcess server: RPCServer, configuration: ClientConfiguration = .defaults,
                logger: Logger = Logger(label: "aimass.rpc.client")) {
        self.host = "in-process"
        self.port = 0
        var configuration = configuration
        configuration.tls = nil
        self.configuration = configuration
        self.interceptors = []
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        self.inProcessServer = server
        self.metrics = ClientMetrics.observer
    }

    /// Closes the connection and the client's threads; calls still running fail with `UNAVAILABLE`.
    public func close() async {
        let channel = state.withLock { state -> (any Channel)? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection?.channel
        }
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }

    // MARK: Calls

    /// Starts a call of any kind; see ``ClientCall``.
    public func makeCall<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        options: CallOptions = .defaults,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self
    ) async throws -> ClientCall<Request, Response> {
        ClientCall(raw: try await startRawCall(descriptor, options: options))
    }

    /// A unary call: one request, one response.
    public func unary<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        request: Request,
        options: CallOptions = .defaults
    ) async throws -> Response {
        try await unaryWithMetadata(descriptor, request: request, options: options).message
    }

    /// A unary call that also returns the response metadata.
    public func unaryWithMetadata<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        request: Request,
        options: CallOptions = .defaults
    ) async throws -> UnaryResponse<Response> {
        let call: ClientCall<Request, Response> = try await startCall(descriptor, options: options, onlyRequest: request)
        return try await withTaskCancellationHandler {
            var response: Response?
            for try await message in call.responses {
                guard response == nil else {
                    call.cancel()
                    throw RPCError(code: .internalError, message: "the server sent more than one response to a unary call")
                }
                response = message
            }
            guard let response else {
                throw RPCError(code: .internalError, message: "the server sent no response to a unary call")
            }
            return UnaryResponse(
                message: response,
                initialMetadata: await call.initialMetadata(),
                trailingMetadata: call.trailingMetadata ?? Metadata()
            )
        } onCancel: {
            call.cancel()
        }
    }

    /// A server-streaming call: returns the call, whose ``ClientCall/responses`` yields each message.
    public func serverStreaming<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        request: Request,
        options: CallOptions = .defaults
    ) async throws -> ClientCall<Request, Response> {
        try await startCall(descriptor, options: options, onlyRequest: request)
    }

    /// Starts a call whose whole request stream is `request`: its HEADERS, DATA and END_STREAM leave in one write
    /// (one hop to the event loop instead of three, one packet instead of up to three).
    private func startCall<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        options: CallOptions,
        onlyRequest request: Request
    ) async throws -> ClientCall<Request, Response> {
        let framed = MessageFramer.frame(request.wireBytes(), compress: options.compressRequests)
        return ClientCall(raw: try await startRawCall(descriptor, options: options, onlyRequest: framed))
    }

    /// Opens a call; with `onlyRequest` (a framed message) the request stream is sent and closed with the headers.
    func startRawCall(_ descriptor: MethodDescriptor, options: CallOptions, onlyRequest: [UInt8]? = nil) async throws -> RawClientCall {
        let callInstruments = metrics.map { observer in
            instruments.withLock { cache in
                if let known = cache[descriptor] { return known }
                let made = observer.instruments(for: descriptor, target: "\(host):\(port)")
                cache[descriptor] = made
                return made
            }
        }
        let callStarted = ContinuousClock.now
        var options = options
        let call: RawClientCall
        do {
            for interceptor in interceptors { try interceptor.callStarting(descriptor, metadata: &options.metadata) }
            call = try await openRawCall(descriptor, options: options, onlyRequest: onlyRequest, instruments: callInstruments)
        } catch {
            callInstruments?.callEnded(code: RPCError(mapping: error).code, duration: ContinuousClock.now - callStarted)
            throw error
        }
        if let callInstruments {
            let attemptStarted = ContinuousClock.now
            call.onFinish { status in
                let now = ContinuousClock.now
                callInstruments.attemptEnded(EndedCall(code: status.code, duration: now - attemptStarted))
                callInstruments.callEnded(code: status.code, duration: now - callStarted)
            }
        }
        if !interceptors.isEmpty {
            let interceptors = self.interceptors
            let started = ContinuousClock.now
            call.onFinish { status in
                for interceptor in interceptors {
                    interceptor.callEnded(descriptor, status: status, duration: ContinuousClock.now - started)
                }
            }
        }
        return call
    }

    /// Opens the call on a connection: one attempt, or two when the first connection was closing (a transparent retry).
    /// The attempt that opens the call is ended by the caller, when the call ends.
    private func openRawCall(
        _ descriptor: MethodDescriptor, options: CallOptions, onlyRequest: [UInt8]?,
        instruments: (any ClientCallInstruments)?
    ) async throws -> RawClientCall {
        // One retry: a connection that was closing when picked is replaced once.
        for attempt in 0..<2 {
            instruments?.attemptStarted()
            let attemptStarted = ContinuousClock.now
            func attemptFailed(_ error: any Error) {
                instruments?.attemptEnded(EndedCall(code: RPCError(mapping: error).code, duration: .now - attemptStarted))
            }
            let connection: Connection
            do {
                connection = try await self.connection()
            } catch {
                attemptFailed(error)
                throw error
            }
            let call = RawClientCall(
                descriptor: descriptor,
                options: options,
                handler: connection.handler,
                eventLoop: connection.channel.eventLoop
            )
            do {
                try await connection.channel.eventLoop.submit {
                    try connection.handler.value.open(call, onlyRequest: onlyRequest)
                }.get()
                return call
            } catch let error as RPCError where error.code == .unavailable && attempt == 0 {
                attemptFailed(error)
                forget(connection)
                continue
            } catch {
                attemptFailed(error)
                throw error
            }
        }
        throw RPCError(code: .unavailable, message: "no usable connection to \(host):\(port)")
    }

    // MARK: Connection

    private func connection() async throws -> Connection {
        enum Next {
            case ready(Connection)
            case wait
            case connect
            case fail(RPCError)
        }
        return try await withCheckedThrowingContinuation { continuation in
            let next = state.withLock { state -> Next in
                if state.closed { return .fail(RPCError(code: .unavailable, message: "the client is closed")) }
                if let connection = state.connection { return .ready(connection) }
                if state.connecting != nil {
                    state.connecting?.append(continuation)
                    return .wait
                }
                if let retryAfter = state.retryAfter, ContinuousClock.now < retryAfter {
                    return .fail(
                        RPCError(
                            code: .unavailable,
                            message: "cannot connect to \(host):\(port): \(state.lastError ?? "unknown error")"
                        )
                    )
                }
                state.connecting = [continuation]
                return .connect
            }
            switch next {
            case .ready(let connection): continuation.resume(returning: connection)
            case .wait: break
            case .fail(let error): continuation.resume(throwing: error)
            case .connect: Task { await self.connect() }
            }
        }
    }

    private func connect() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let configuration = self.configuration
        let logger = self.logger
        let authority = configuration.tls?.serverNameOverride ?? "\(host):\(port)"
        let host = self.host
        // Completed by the TLS guard once the handshake settles (made here so that a failure racing ahead of
        // `connect` returning is not lost); failed below if the connection never got that far.
        let handshake = configuration.tls.map { _ in group.next().makePromise(of: Void.self) }
        let result: Result<Connection, any Error>
        do {
            let bootstrap = ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls = configuration.tls, let handshake {
                            let handlers = try tls.makeHandlers(host: host, handshake: handshake)
                            try channel.pipeline.syncOperations.addHandlers([handlers.tls, handlers.guard])
                        }
                        let handler = ClientConnectionHandler(
                            configuration: configuration,
                            authority: authority,
                            logger: logger,
                            allocator: channel.allocator
                        ) { [weak self] in self?.connectionClosed(id: id) }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
            let channel: any Channel
            if let inProcessServer {
                channel = try await Self.connectInProcess(to: inProcessServer, bootstrap: bootstrap)
            } else {
                channel = try await bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: host, port: port).get()
            }
            if let handshake {
                do {
                    try await handshake.futureResult.get()
                } catch {
                    try? await channel.close()
                    throw error
                }
            }
            let handler = try await channel.eventLoop.submit {
                guard let handler = try? channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self) else {
                    throw RPCError(code: .unavailable, message: "the connection closed as soon as it opened")
                }
                return NIOLoopBound(handler, eventLoop: channel.eventLoop)
            }.get()
            result = .success(Connection(handler: handler, channel: channel, id: id))
        } catch {
            handshake?.fail(TLSHandshakeError.closed)
            result = .failure(error)
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Connection, any Error>] in
            defer { state.connecting = nil }
            switch result {
            case .success(let connection):
                state.connection = connection
                state.failures = 0
                state.retryAfter = nil
            case .failure(let error):
                state.failures += 1
                state.lastError = "\(error)"
                state.retryAfter = ContinuousClock.now + backoff(failures: state.failures)
            }
            return state.connecting ?? []
        }
        for waiter in waiters {
            switch result {
            case .success(let connection): waiter.resume(returning: connection)
            case .failure(let error):
                waiter.resume(throwing: RPCError(code: .unavailable, message: "cannot connect to \(host):\(port): \(error)"))
            }
        }
    }

    /// A socket pair whose one end `server` serves and whose other end becomes this client's channel.
    private static func connectInProcess(to server: RPCServer, bootstrap: ClientBootstrap) async throws -> any Channel {
        var sockets: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0, &sockets) == 0 else {
            throw RPCError(code: .unavailable, message: "socketpair failed: errno \(errno)")
        }
        do {
            try await server.serveInProcess(socket: sockets[0])
        } catch {
            Glibc.close(sockets[0])
            Glibc.close(sockets[1])
            throw error
        }
        return try await bootstrap.withConnectedSocket(sockets[1]).get()
    }

    private func backoff(failures: Int) -> Duration {
        let initial = Double(configuration.initialBackoff.saturatingNanoseconds)
        let maximum = Double(configuration.maxBackoff.saturatingNanoseconds)
        let base = min(maximum, initial * pow(configuration.backoffMultiplier, Double(failures - 1)))
        // ±20 % jitter so that many clients do not reconnect in step.
        return .nanoseconds(Int64(base * Double.random(in: 0.8...1.2)))
    }

    private func forget(_ connection: Connection) {
        state.withLock { state in
            if state.connection?.id == connection.id { state.connection = nil }
        }
    }

    private func connectionClosed(id: Int) {
        state.withLock { state in
            if state.connection?.id == id { state.connection = nil }
        }
    }
}

/// A unary response with its metadata.
public struct UnaryResponse<Message: Sendable>: Sendable {
    public var message: Message
    public var initialMetadata: Metadata
    public var trailingMetadata: Metadata
}

import Foundation
