import Instrumentation
import Logging
import Synchronization

/// Everything a handler knows about its call, and what it may set on the response.
///
/// One context exists per call. It is a reference type so that what a handler sets (response
/// metadata, compression) reaches the transport; the mutable parts are guarded by a lock, which is
/// why it is `Sendable`.
public final class ServerContext: Sendable {
    /// The called method.
    public let descriptor: MethodDescriptor
    /// The request's custom metadata (reserved headers removed).
    public let requestMetadata: Metadata
    /// When the call must be finished by, from `grpc-timeout`; `nil` without one.
    public let deadline: ContinuousClock.Instant?
    /// The peer's address, e.g. `ipv4:127.0.0.1:53124`.
    public let remotePeer: String
    /// Whether the client listed gzip in `grpc-accept-encoding`.
    public let peerAcceptsGzip: Bool
    /// Whether ``annotate(_:_:)`` keeps what it is given (only when an interceptor may read it: otherwise a call pays
    /// nothing for it).
    public let recordsAnnotations: Bool
    /// A logger carrying the call's method and peer (made when first asked for: most calls never log).
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "rpc"] = "\(descriptor.path)"
        logger[metadataKey: "peer"] = "\(remotePeer)"
        return logger
    }
    private let baseLogger: Logger

    private struct State {
        var initialMetadata = Metadata()
        var trailingMetadata = Metadata()
        var compressResponses = false
        var requestWasCompressed = false
        var cancelled = false
        var cancellationHandlers: [@Sendable () -> Void] = []
        var instrumentationContext: InstrumentationContext?
        var annotations: [(key: String, value: String)] = []
    }
    private let state = Mutex(State())
    private let authenticated = Atomic<Bool>(false)
    /// The transport's connection, told when a call on it is authenticated.
    private let connection: (any ConnectionAuthenticationObserver)?

    public init(
        descriptor: MethodDescriptor,
        requestMetadata: Metadata,
        deadline: ContinuousClock.Instant?,
        remotePeer: String,
        peerAcceptsGzip: Bool,
        recordsAnnotations: Bool = false,
        connection: (any ConnectionAuthenticationObserver)? = nil,
        logger: Logger
    ) {
        self.connection = connection
        self.recordsAnnotations = recordsAnnotations
        self.descriptor = descriptor
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.remotePeer = remotePeer
        self.peerAcceptsGzip = peerAcceptsGzip
        self.baseLogger = logger
    }

    /// Time left before the deadline, for propagating it to downstream calls.
    public var timeRemaining: Duration? {
        deadline.map { $0 - ContinuousClock.now }
    }

    /// Metadata sent in the response headers; set it before the first response message.
    public var responseInitialMetadata: Metadata {
        get { state.withLock { $0.initialMetadata } }
        set { state.withLock { $0.initialMetadata = newValue } }
    }

    /// Metadata sent in the trailers with the status.
    public var responseTrailingMetadata: Metadata {
        get { state.withLock { $0.trailingMetadata } }
        set { state.withLock { $0.trailingMetadata = newValue } }
    }

    /// Asks for gzip-compressed responses; honoured only when the peer accepts gzip.
    public var compressResponses: Bool {
        get { state.withLock { $0.compressResponses } }
        set { state.withLock { $0.compressResponses = newValue } }
    }

    /// Whether the (last) request message arrived with the compressed flag set.
    public var requestWasCompressed: Bool {
        get { state.withLock { $0.requestWasCompressed } }
        set { state.withLock { $0.requestWasCompressed = newValue } }
    }

    /// What instrumentation attached to this call (a tracer's span, for child spans and downstream calls); `nil`
    /// when nothing instruments the server, so that checking costs next to nothing.
    public var instrumentationContext: InstrumentationContext? {
        get { state.withLock { $0.instrumentationContext } }
        set { state.withLock { $0.instrumentationContext = newValue } }
    }

    /// Adds a fact about the call for its access-log line, such as the model it served (the transport knows none);
    /// keep them few: each costs a lock and a small append when ``recordsAnnotations`` (nothing otherwise).
    public func annotate(_ key: String, _ value: String) {
        guard recordsAnnotations else { return }
        state.withLock { $0.annotations.append((key, value)) }
    }

    /// The facts handlers added with ``annotate(_:_:)``, in order.
    public var annotations: [(key: String, value: String)] { state.withLock { $0.annotations } }

    /// Records that the caller's credentials were checked and accepted (a known token): called by the code that
    /// authenticates. The transport then ranks the call's connection among those of known callers, which are closed
    /// last when the server needs room for new connections.
    public func markAuthenticated() {
        guard !authenticated.load(ordering: .relaxed) else { return }
        authenticated.store(true, ordering: .relaxed)
        connection?.callerAuthenticated()
    }

    /// Whether ``markAuthenticated()`` was called for this call.
    public var isAuthenticated: Bool { authenticated.load(ordering: .relaxed) }

    /// Whether the peer cancelled the call, or its deadline passed.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Runs `handler` when the call is cancelled (at once if it already is).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.cancellationHandlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Marks the call cancelled; called by the transport.
    public func cancel() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            defer { state.cancellationHandlers = [] }
            return state.cancellationHandlers
        }
        for handler in handlers { handler() }
    }
}

/// What a transport's connection learns from its calls' contexts: that a caller on it was authenticated (see
/// ``ServerContext/markAuthenticated()``).
public protocol ConnectionAuthenticationObserver: AnyObject, Sendable {
    /// A call on this connection presented credentials the server accepted.
    func callerAuthenticated()
}
