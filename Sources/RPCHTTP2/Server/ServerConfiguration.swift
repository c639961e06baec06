import RPCCore
import NIOCore

/// How an ``RPCServer`` listens and what it allows; `defaults` follows gRPC's defaults.
public struct ServerConfiguration: Sendable {
    /// The address to bind; `127.0.0.1` by default, `::` or `0.0.0.0` for every interface.
    public var host: String
    /// The port to bind; 0 picks a free one (read it back from ``RPCServer/listeningAddress``).
    public var port: Int
    /// Largest request message accepted, after decompression (gRPC default 4 MiB).
    public var maxReceiveMessageSize: Int
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open on one connection.
    public var maxConcurrentStreams: UInt32
    /// SETTINGS_MAX_HEADER_LIST_SIZE, also enforced while received header blocks are decoded: a request whose
    /// header list passes it is answered RESOURCE_EXHAUSTED and its stream reset at that point, and the rest of
    /// its block is skipped.
    public var maxHeaderListSize: UInt32
    /// SETTINGS_INITIAL_WINDOW_SIZE: bytes a client may send on a stream before we read them.
    public var initialStreamWindowSize: UInt32
    /// The connection-level receive window.
    public var connectionWindowSize: Int32
    /// Keepalive and connection lifetime.
    public var connection: ConnectionManagement
    /// Event-loop threads; defaults to one per core this process may run on (``UsableCores``).
    public var eventLoopThreads: Int
    /// Keep the core out of idle this long after each read, with a `SCHED_IDLE` spinner that only uses
    /// otherwise idle CPU: lower latency at low load on VMs, where waking a halted vCPU costs tens of
    /// microseconds. `nil` (the default) disables it.
    public var busyPollWindow: Duration?
    /// TLS (ALPN `h2`, mutual when the credentials have a client CA); plaintext HTTP/2 when `nil` (the default).
    public var tls: TLSServerCredentials?
    /// A connection that has not finished its TLS handshake this long after accept is closed.
    public var tlsHandshakeTimeout: Duration
    /// File descriptors held in reserve: when the process runs out, they are given back so the listener still
    /// accepts, and the oldest idle connection is closed to make room. 0 disables it.
    public var fileDescriptorReserve: Int
    /// Connections held open at most. Accepting one more closes an old one first (GOAWAY, then close): the oldest
    /// that never sent a request, else the oldest with no call in flight, else the oldest (its calls finish first).
    /// New clients are thus always accepted. The server also keeps this below its open-file limit (less the
    /// reserve and a margin), so that it never runs out of descriptors while holding idle connections.
    public var maxConnections: Int
    /// What one connection may do wrong or cost before it is sent GOAWAY(ENHANCE_YOUR_CALM) and closed.
    public var abuseLimits: AbuseLimits
    /// How long the kernel holds a connection that has sent nothing before handing it to the server
    /// (`TCP_DEFER_ACCEPT`; HTTP/2 and TLS clients speak first). `nil` hands over every connection at once. Either
    /// way the server reads a connection only once it has sent something (see ``SilentConnectionQueue``).
    public var deferAccept: Duration?

    /// Keepalive pings and connection lifetime limits.
    public struct ConnectionManagement: Sendable {
        /// Send a PING after this long without reading anything; `nil` disables it.
        public var keepaliveInterval: Duration?
        /// Close the connection when a keepalive PING is not acknowledged within this.
        public var keepaliveTimeout: Duration
        /// Clients pinging more often than this (without calls in flight) get GOAWAY `too_many_pings`.
        public var minPingInterval: Duration
        /// How many too-early pings are tolerated before the GOAWAY.
        public var maxPingStrikes: Int
        /// Close a connection that had no calls for this long.
        public var maxIdle: Duration?
        /// Start a graceful close of any connection this old.
        public var maxAge: Duration?
        /// How long calls may still run after ``maxAge`` before the connection is closed.
        public var maxAgeGrace: Duration

        public init(
            keepaliveInterval: Duration? = .seconds(7200),
            keepaliveTimeout: Duration = .seconds(20),
            minPingInterval: Duration = .seconds(300),
            maxPingStrikes: Int = 2,
            maxIdle: Duration? = nil,
            maxAge: Duration? = nil,
            maxAgeGrace: Duration = .seconds(30)
        ) {
            self.keepaliveInterval = keepaliveInterval
            self.keepaliveTimeout = keepaliveTimeout
            self.minPingInterval = minPingInterval
            self.maxPingStrikes = maxPingStrikes
            self.maxIdle = maxIdle
            self.maxAge = maxAge
            self.maxAgeGrace = maxAgeGrace
        }

        public static var defaults: Self { Self() }
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        maxReceiveMessageSize: Int = 4 * 1024 * 1024,
        maxConcurrentStreams: UInt32 = 256,
        maxHeaderListSize: UInt32 = 16 * 1024,
        initialStreamWindowSize: UInt32 = 1024 * 1024,
        connectionWindowSize: Int32 = 8 * 1024 * 1024,
        connection: ConnectionManagement = .defaults,
        eventLoopThreads: Int = UsableCores.count
    ) {
        self.host = host
        self.port = port
        self.maxReceiveMessageSize = maxReceiveMessageSize
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxHeaderListSize = maxHeaderListSize
        self.initialStreamWindowSize = initialStreamWindowSize
        self.connectionWindowSize = connectionWindowSize
        self.connection = connection
        self.eventLoopThreads = eventLoopThreads
        self.busyPollWindow = nil
        self.tls = nil
        self.tlsHandshakeTimeout = .seconds(10)
        self.fileDescriptorReserve = 8
        self.maxConnections = 20_000
        self.abuseLimits = .defaults
        self.deferAccept = .seconds(10)
    }

    public static var defaults: Self { Self() }

    /// The defaults, adjusted by `configure`.
    public static func defaults(configure: (inout Self) -> Void) -> Self {
        var configuration = Self.defaults
        configure(&configuration)
        return configuration
    }
}


