import RPCCore

/// How a server reports what it does: gRPC metrics (``ServerMetricsObserver``) and per-call interceptors such as the
/// access log. The default reports nothing and costs nothing.
public struct Observability: Sendable {
    /// The server's call, connection and stream metrics; `nil` for none.
    public var metrics: (any ServerMetricsObserver)?
    /// Run around every call (the access log).
    public var interceptors: [any ServerInterceptor]

    public init(metrics: (any ServerMetricsObserver)? = nil, interceptors: [any ServerInterceptor] = []) {
        self.metrics = metrics
        self.interceptors = interceptors
    }

    /// Nothing reported.
    public static var none: Observability { Observability() }
}
