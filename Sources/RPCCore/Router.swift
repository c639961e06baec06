/// How a method is served, in bytes; built by the typed `register…` methods of ``RPCRouter``.
public enum MethodHandler: Sendable {
    /// A unary method started synchronously on the connection's I/O thread once its request is in: it answers
    /// there (``UnaryOutcome/response(_:)``) or hands the rest of the call to a task
    /// (``UnaryOutcome/continueAsync(_:)``).
    ///
    /// For handlers that are cheap and never block on the common path (health checks, lookups in memory, a
    /// cheap model): answering inline saves a task and two thread hops per call. Anything that waits must
    /// continue as a task.
    case inlineUnary(
        @Sendable (_ request: InboundMessage, _ context: ServerContext) throws(RPCError) -> UnaryOutcome<[UInt8]>
    )
    /// Any call kind, run as a task: requests arrive on the queue, responses go to the sink.
    case streaming(
        @Sendable (_ requests: InboundMessageQueue, _ responses: any ResponseSink, _ context: ServerContext)
            async throws -> Void
    )
}

extension MethodHandler {
    /// The same handler, its task part run with a preference for `executor`.
    func preferringExecutor(_ executor: any TaskExecutor) -> MethodHandler {
        switch self {
        case .inlineUnary(let body):
            return .inlineUnary { (request, context) throws(RPCError) in
                switch try body(request, context) {
                case .response(let response):
                    return .response(response)
                case .continueAsync(let rest):
                    return .continueAsync { try await Self.run(on: executor, rest) }
                }
            }
        case .streaming(let body):
            return .streaming { requests, responses, context in
                try await Self.run(on: executor) { try await body(requests, responses, context) }
            }
        }
    }

    private static func run<T>(on executor: any TaskExecutor, _ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(executor) { try await body() }
    }
}

/// What the inline part of a unary method decided (see ``RPCRouter/registerUnary(_:inlineFirst:)``).
public enum UnaryOutcome<Response: Sendable>: Sendable {
    /// The call is answered now, on the I/O thread.
    case response(Response)
    /// The call goes on as a task, which runs this and answers with its result (or error).
    case continueAsync(@Sendable () async throws -> Response)
}

/// A service: a set of methods registered under their full paths.
public protocol RPCService: Sendable {
    /// Registers every method of the service.
    func registerMethods(with router: inout RPCRouter)
}

/// Maps method paths to handlers; the server dispatches on `:path` with it.
///
/// ```swift
/// var router = RPCRouter()
/// router.registerUnary(MethodDescriptor(service: "demo.Echo", method: "Get")) { (request: EchoRequest, context) in
///     EchoResponse(text: request.text)
/// }
/// ```
public struct RPCRouter: Sendable {
    /// A registered method: its descriptor and handler.
    public struct Route: Sendable {
        public let descriptor: MethodDescriptor
        public let handler: MethodHandler
    }

    private var handlers: [String: Route] = [:]

    public init() {}

    /// Registers every method of each service.
    public init(services: [any RPCService]) {
        for service in services { service.registerMethods(with: &self) }
    }

    /// The handler for a `:path`, if any.
    public func handler(forPath path: String) -> MethodHandler? { handlers[path]?.handler }

    /// The route for a `:path`, if any.
    public func route(forPath path: String) -> Route? { handlers[path] }

    /// Whether any method of the service is registered (to tell an unknown service from an unknown method).
    public func hasService(_ service: String) -> Bool {
        let prefix = "/\(service)/"
        return handlers.keys.contains { $0.hasPrefix(prefix) }
    }

    /// Every registered path.
    public var paths: [String] { handlers.keys.sorted() }

    /// This router with every method that runs as a task (all but the inline part of inline-first unary methods)
    /// preferring `executor` over Swift's cooperative pool: for services whose handlers block their thread (see
    /// ``BlockingTaskExecutor``). Tasks the handlers start themselves keep their own preference.
    public func preferringExecutor(_ executor: any TaskExecutor) -> RPCRouter {
        var router = RPCRouter()
        for route in handlers.values {
            router.register(route.descriptor, handler: route.handler.preferringExecutor(executor))
        }
        return router
    }

    /// Adds every route of `other` (a route of the same path is replaced).
    public mutating func merge(_ other: RPCRouter) {
        handlers.merge(other.handlers) { _, new in new }
    }

    /// Registers a raw handler.
    public mutating func register(_ descriptor: MethodDescriptor, handler: MethodHandler) {
        handlers[descriptor.path] = Route(descriptor: descriptor, handler: handler)
    }

    /// Registers a unary method run as a task.
    public mutating func registerUnary<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        register(descriptor, handler: .streaming { requests, responses, context in
            let request: Request = try await Self.single(from: requests, context: context)
            let response = try await body(request, context)
            try await responses.send(response.wireBytes(), compress: context.compressResponses)
        })
    }

    /// Registers a unary method answered on the I/O thread; `body` must never block.
    @inlinable  // specialised where the message types are known: no generic metadata looked up per call
    public mutating func registerInlineUnary<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (Request, ServerContext) throws(RPCError) -> Response
    ) {
        registerUnary(descriptor, inlineFirst: { (request: Request, context) throws(RPCError) -> UnaryOutcome<Response> in
            .response(try body(request, context))
        })
    }

    /// Registers a unary method that starts on the I/O thread and either answers there or continues as a task.
    ///
    /// `body` runs synchronously once the request is in (decoded there): it must never block; it returns
    /// ``UnaryOutcome/response(_:)`` when it can answer at once, or ``UnaryOutcome/continueAsync(_:)`` with the
    /// work that has to wait (a lookup over the network, a slow model, a queue).
    ///
    /// ```swift
    /// router.registerUnary(descriptor, inlineFirst: { (request: LookupRequest, context) throws(RPCError) in
    ///     if let hit = cache[request.key] { return .response(LookupResponse(value: hit)) }
    ///     return .continueAsync { try await store.lookup(request.key) }
    /// })
    /// ```
    @inlinable  // specialised where the message types are known: no generic metadata looked up per call
    public mutating func registerUnary<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        inlineFirst body: @escaping @Sendable (Request, ServerContext) throws(RPCError) -> UnaryOutcome<Response>
    ) {
        register(descriptor, handler: .inlineUnary { (message, context) throws(RPCError) in
            context.requestWasCompressed = message.wasCompressed
            let request = try Request(wireBytes: message.bytes)
            switch try body(request, context) {
            case .response(let response):
                return .response(response.wireBytes())
            case .continueAsync(let rest):
                return .continueAsync { try await rest().wireBytes() }
            }
        })
    }

    /// Registers a server-streaming method.
    public mutating func registerServerStreaming<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (Request, RPCWriter<Response>, ServerContext) async throws -> Void
    ) {
        register(descriptor, handler: .streaming { requests, responses, context in
            let request: Request = try await Self.single(from: requests, context: context)
            try await body(request, RPCWriter(sink: responses, context: context), context)
        })
    }

    /// Registers a client-streaming method.
    public mutating func registerClientStreaming<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (RPCRequestStream<Request>, ServerContext) async throws -> Response
    ) {
        register(descriptor, handler: .streaming { requests, responses, context in
            let response = try await body(RPCRequestStream(queue: requests, context: context), context)
            try await responses.send(response.wireBytes(), compress: context.compressResponses)
        })
    }

    /// Registers a bidirectional-streaming method.
    public mutating func registerBidirectionalStreaming<Request: WireMessage, Response: WireMessage>(
        _ descriptor: MethodDescriptor,
        _ body: @escaping @Sendable (RPCRequestStream<Request>, RPCWriter<Response>, ServerContext) async throws -> Void
    ) {
        register(descriptor, handler: .streaming { requests, responses, context in
            try await body(
                RPCRequestStream(queue: requests, context: context),
                RPCWriter(sink: responses, context: context),
                context
            )
        })
    }

    /// Reads exactly one request, as unary and server-streaming calls require.
    private static func single<Request: WireMessage>(
        from requests: InboundMessageQueue,
        context: ServerContext
    ) async throws -> Request {
        guard let first = try await requests.next() else {
            throw RPCError(code: .internalError, message: "expected one request message, received none")
        }
        guard try await requests.next() == nil else {
            throw RPCError(code: .internalError, message: "expected one request message, received more")
        }
        context.requestWasCompressed = first.wasCompressed
        return try Request(wireBytes: first.bytes)
    }
}
