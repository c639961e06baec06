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
    /// Client-side keepalive PINGs (gRPC's `keepalive_time`/`keepalive_timeout`); nil (the default, as in gRPC)
    /// sends none. Long-lived streams (a worker's Join, a Mesh watcher) turn it on to notice a silent peer.
    public var keepalive: Keepalive?

    /// Keepalive PINGs of a client connection.
    public struct Keepalive: Sendable, Hashable {
        /// A PING is sent when nothing was read from the server for this long (`keepalive_time`).
        public var interval: Duration
        /// The connection is closed, failing its calls with `UNAVAILABLE`, when a PING is not acknowledged within
        /// this (`keepalive_timeout`).
        public var timeout: Duration
        /// Ping even with no call in flight (`keepalive_permit_without_calls`; servers may answer GOAWAY
        /// `too_many_pings`).
        public var permitWithoutCalls: Bool

        /// Creates a keepalive policy: a silent peer is noticed within `interval + timeout`.
        public init(interval: Duration, timeout: Duration, permitWithoutCalls: Bool = false) {
            self.interval = interval
            self.timeout = timeout
            self.permitWithoutCalls = permitWithoutCalls
        }

        /// For the platform's own long-lived streams: a PING after 5 s of silence, 5 s to answer.
        public static var streams: Self { Self(interval: .seconds(5), timeout: .seconds(5)) }
    }

    public init(
        maxReceiveMessageSize: Int = 4 * 1024 * 1024,
        connectTimeout: Duration = .seconds(10),
        initialBackoff: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(30),
        backoffMultiplier: Double = 1.6,
        initialStreamWindowSize: UInt32 = 1024 * 1024,
        eventLoopThreads: Int = 1,
        keepalive: Keepalive? = nil
    ) {
        self.keepalive = keepalive
        self.maxReceiveMessageSize = maxReceiveMessageSize
        self.connectTimeout = connectTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.backoffMultiplier = backoffMultiplier
        self.initialStreamWindowSize = initialStreamWindowSize
        self.eventLoopThreads = eventLoopThreads
    }

    public static var defaults: Self { Self() }

    public static func defaults(configure: (inout Self) -> Void) -> Self {
        var configuration = Self.defaults
        configure(&configuration)
        return configuration
    }
}
