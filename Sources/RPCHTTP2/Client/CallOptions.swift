import RPCCore

/// Per-call options of an ``RPCClient`` call.
public struct CallOptions: Sendable {
    /// The call fails with `DEADLINE_EXCEEDED` after this long; sent to the server as `grpc-timeout`.
    public var timeout: Duration?
    /// Custom request metadata.
    public var metadata: Metadata
    /// Compress request messages with gzip (and say so in `grpc-encoding`).
    public var compressRequests: Bool

    public init(timeout: Duration? = nil, metadata: Metadata = [:], compressRequests: Bool = false) {
        self.timeout = timeout
        self.metadata = metadata
        self.compressRequests = compressRequests
    }

    public static var defaults: Self { Self() }
}

/// How an ``RPCClient`` connects.
public struct ClientConfiguration: Sendable {
    /// Largest response message accepted (gRPC default 4 MiB).
    public var maxReceiveMessageSize: Int
    /// How long one connection attempt may take.
    public var connectTimeout: Duration
    /// The first pause before reconnecting after a failed attempt; it grows by ``backoffMultiplier``.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var backoffMultiplier: Double
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce for response streams.
    public var initialStreamWindowSize: UInt32
    /// Event-loop threads of the client's own group.
    public var eventLoopThreads: Int
    /// TLS (ALPN `h2`) when set; plaintext HTTP/2 with prior knowledge when `nil` (the default).
    public var tls: ClientTLSConfiguration?

    public init(
        maxReceiveMessageSize: Int = 4 * 1024 * 1024,
        connectTimeout: Duration = .seconds(10),
        initialBackoff: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(30),
        backoffMultiplier: Double = 1.6,
        initialStreamWindowSize: UInt32 = 1024 * 1024,
        eventLoopThreads: Int = 1
    ) {
        self.maxReceiveMessageSize = maxReceiveMessageSize
        self.connectTimeout = connectTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.backoffMultiplier = backoffMultiplier
        self.initialStreamWindowSize = initialStreamWindowSize
        self.eventLoopThreads = eventLoopThreads
        self.tls = nil
    }

    public static var defaults: Self { Self() }

    public static func defaults(configure: (inout Self) -> Void) -> Self {
        var configuration = Self.defaults
        configure(&configuration)
        return configuration
    }
}
