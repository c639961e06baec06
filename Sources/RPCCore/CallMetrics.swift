/// Counts a server's calls and connections, for metrics (gRFC A66's server instruments and the transport's own).
///
/// The server asks ``instruments(for:)`` once per registered method when it is created, and once with `nil` for
/// every call to a path it does not serve (A66's `other`, so unknown paths cannot grow the label set), and keeps
/// the answers: a call then reaches its method's instruments with no lookup. Every method runs on a connection's I/O
/// thread, on the inline and the task path alike: keep them cheap (an atomic add, a histogram bucket) and never
/// block. Class-bound, so that the server holds it as one reference (no existential copy per call).
public protocol ServerMetricsObserver: AnyObject, Sendable {
    /// The instruments of calls to `method`; `nil` for paths the server does not serve.
    func instruments(for method: MethodDescriptor?) -> any ServerCallInstruments
    /// A connection was accepted (its HTTP/2 session is up) or closed.
    func connectionOpened()
    func connectionClosed()
    /// Streams (requests) opened and closed on one of the server's connections since its previous report: a
    /// connection reports them once per batch of reads or writes, not per stream.
    func streamsChanged(opened: Int, closed: Int)
    /// A frame the HTTP/2 layer refused (a protocol error on a stream, or one that ended the connection).
    func frameRejected()
}

/// One method's server instruments (see ``ServerMetricsObserver``).
public protocol ServerCallInstruments: AnyObject, Sendable {
    /// A call started: its request headers were accepted and it was routed.
    func callStarted()
    /// The call ended (any status, cancellation included); called once for every started call.
    func callEnded(_ call: EndedCall)
}

/// What a server or client knows of a call when it ends.
public struct EndedCall: Sendable, Hashable {
    /// Its status; ``StatusCode/cancelled`` when the peer or the connection went away.
    public var code: StatusCode
    /// From its start to its status.
    public var duration: Duration
    /// Message bytes sent, as on the wire (compressed when compressed), without gRPC's 5-byte prefixes.
    public var sentMessageBytes: Int
    /// Message bytes received, the same way.
    public var receivedMessageBytes: Int

    public init(code: StatusCode, duration: Duration, sentMessageBytes: Int = 0, receivedMessageBytes: Int = 0) {
        self.code = code
        self.duration = duration
        self.sentMessageBytes = sentMessageBytes
        self.receivedMessageBytes = receivedMessageBytes
    }
}

/// Counts a client's calls and attempts (gRFC A66's client instruments).
///
/// A client asks ``instruments(for:)`` once per method it calls and keeps the answer.
public protocol ClientMetricsObserver: Sendable {
    /// The instruments of calls to `method` on `target` (the server's `host:port`).
    func instruments(for method: MethodDescriptor, target: String) -> any ClientCallInstruments
}

/// One method's client instruments.
public protocol ClientCallInstruments: AnyObject, Sendable {
    /// An attempt started (a call's first, or a transparent retry on another connection).
    func attemptStarted()
    /// An attempt ended: with the call's status, or `UNAVAILABLE` when it was retried.
    func attemptEnded(_ attempt: EndedCall)
    /// The call ended, from the application's first look (before any attempt) to its status.
    func callEnded(code: StatusCode, duration: Duration)
}

/// The process's client metrics: clients are made in many places (balancers, agents, the CLI), so the observer is
/// installed once for the process (by `aimass serve --metrics-port`) rather than passed to each.
public enum ClientMetrics {
    private static let box = ObserverBox()

    /// Installs the observer every ``RPCClient`` created from now on reports to.
    public static func install(_ observer: (any ClientMetricsObserver)?) { box.set(observer) }

    /// The installed observer, if any.
    public static var observer: (any ClientMetricsObserver)? { box.get() }
}

import Synchronization

private final class ObserverBox: Sendable {
    private let value = Mutex<(any ClientMetricsObserver)?>(nil)
    func set(_ observer: (any ClientMetricsObserver)?) { value.withLock { $0 = observer } }
    func get() -> (any ClientMetricsObserver)? { value.withLock { $0 } }
}
