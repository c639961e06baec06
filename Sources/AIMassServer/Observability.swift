import RPCCore
import RPCHTTP2

/// How a server reports what it does: gRPC metrics (``ServerMetricsObserver``) and per-call interceptors such as the
/// access log. The default reports nothing and costs nothing.
public struct Observability: Sendable {
    /// The server's call, connection and stream metrics; `nil` for none.
    public var metrics: (any ServerMetricsObserver)?
    /// Run around every call (the access log).
    public var interceptors: [any ServerInterceptor]
    /// Given the gRPC server's ``AbuseCounters`` once the server is made (to export them; `nil`: not exported).
    public var watchAbuseCounters: (@Sendable (AbuseCounters) -> Void)?

    public init(
        metrics: (any ServerMetricsObserver)? = nil, interceptors: [any ServerInterceptor] = [],
        watchAbuseCounters: (@Sendable (AbuseCounters) -> Void)? = nil
    ) {
        self.metrics = metrics
        self.interceptors = interceptors
        self.watchAbuseCounters = watchAbuseCounters
    }

    /// Nothing reported.
    public static var none: Observability { Observability() }
}
