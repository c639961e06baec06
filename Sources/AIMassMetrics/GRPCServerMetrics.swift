import Metrics
import RPCCore

/// gRFC A66's server instruments, in Prometheus form, and the HTTP/2 transport's own: what ``RPCServer`` reports to
/// when it is given this observer.
///
/// - `grpc_server_call_started_total{grpc_method}`
/// - `grpc_server_call_duration_seconds{grpc_method,grpc_status}` (histogram)
/// - `grpc_server_call_sent_total_compressed_message_size_bytes{grpc_method,grpc_status}` and `…_rcvd_…` (histograms)
/// - `aimass_http2_connections_open`, `aimass_http2_connections_total`, `aimass_http2_streams_open`,
///   `aimass_http2_streams_total`, `aimass_http2_frames_rejected_total`
///
/// `grpc_method` is `package.Service/Method` for the server's methods and `other` for any other path, as A66 says, so
/// a client cannot grow the label set. Each method's instruments are made once, when the server is created.
public final class GRPCServerMetrics: ServerMetricsObserver {
    private let factory: any MetricsFactory
    private let connectionsOpen: Meter
    private let connectionsTotal: Counter
    private let streamsOpen: Meter
    private let streamsTotal: Counter
    private let framesRejected: Counter

    /// Metrics made by `factory` (the process's, `MetricsSystem.factory`, by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        connectionsOpen = Meter(label: "aimass_http2_connections_open", factory: factory)
        connectionsTotal = Counter(label: "aimass_http2_connections_total", factory: factory)
        streamsOpen = Meter(label: "aimass_http2_streams_open", factory: factory)
        streamsTotal = Counter(label: "aimass_http2_streams_total", factory: factory)
        framesRejected = Counter(label: "aimass_http2_frames_rejected_total", factory: factory)
    }

    public func instruments(for method: MethodDescriptor?) -> any ServerCallInstruments {
        ServerMethodInstruments(method: method.map(Self.label) ?? "other", factory: factory)
    }

    /// A66's `grpc.method` value: the full method name without the leading slash.
    static func label(_ method: MethodDescriptor) -> String { "\(method.service)/\(method.method)" }

    public func connectionOpened() {
        connectionsOpen.increment()
        connectionsTotal.increment()
    }

    public func connectionClosed() { connectionsOpen.decrement() }

    public func streamsChanged(opened: Int, closed: Int) {
        if opened > closed { streamsOpen.increment(by: Double(opened - closed)) }
        if closed > opened { streamsOpen.decrement(by: Double(closed - opened)) }
        if opened > 0 { streamsTotal.increment(by: opened) }
    }

    public func frameRejected() { framesRejected.increment() }
}

/// One server method's instruments.
final class ServerMethodInstruments: ServerCallInstruments {
    struct ByStatus: Sendable {
        let duration: Timer
        let sent: Recorder
        let received: Recorder
    }

    private let started: Counter
    private let byStatus: StatusSlots<ByStatus>

    init(method: String, factory: any MetricsFactory) {
        started = Counter(label: "grpc_server_call_started_total", dimensions: [("grpc_method", method)], factory: factory)
        byStatus = StatusSlots { code in
            let dimensions = [("grpc_method", method), ("grpc_status", code.description)]
            return ByStatus(
                duration: Timer(label: "grpc_server_call_duration_seconds", dimensions: dimensions, factory: factory),
                sent: Recorder(
                    label: "grpc_server_call_sent_total_compressed_message_size_bytes", dimensions: dimensions,
                    factory: factory
                ),
                received: Recorder(
                    label: "grpc_server_call_rcvd_total_compressed_message_size_bytes", dimensions: dimensions,
                    factory: factory
                )
            )
        }
    }

    func callStarted() { started.increment() }

    func callEnded(_ call: EndedCall) {
        let instruments = byStatus[call.code]
        instruments.duration.recordNanoseconds(call.duration.saturatingNanoseconds)
        instruments.sent.record(call.sentMessageBytes)
        instruments.received.record(call.receivedMessageBytes)
    }
}
