import Metrics
import RPCCore

/// gRFC A66's client instruments, in Prometheus form, for every ``RPCClient`` of the process once installed with
/// `ClientMetrics.install(GRPCClientMetrics())`:
///
/// - `grpc_client_attempt_started_total{grpc_method,grpc_target}`
/// - `grpc_client_attempt_duration_seconds{grpc_method,grpc_target,grpc_status}` (histogram)
/// - `grpc_client_call_duration_seconds{grpc_method,grpc_target,grpc_status}` (histogram)
///
/// Our clients call only methods they know, so every method keeps its name (no `other`).
public final class GRPCClientMetrics: ClientMetricsObserver {
    private let factory: any MetricsFactory

    /// Metrics made by `factory` (the process's, `MetricsSystem.factory`, by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    public func instruments(for method: MethodDescriptor, target: String) -> any ClientCallInstruments {
        ClientMethodInstruments(method: GRPCServerMetrics.label(method), target: target, factory: factory)
    }
}

/// One client method's instruments, towards one target.
final class ClientMethodInstruments: ClientCallInstruments {
    struct ByStatus: Sendable {
        let attempt: Timer
        let call: Timer
    }

    private let started: Counter
    private let byStatus: StatusSlots<ByStatus>

    init(method: String, target: String, factory: any MetricsFactory) {
        started = Counter(
            label: "grpc_client_attempt_started_total", dimensions: [("grpc_method", method), ("grpc_target", target)],
            factory: factory
        )
        byStatus = StatusSlots { code in
            let dimensions = [("grpc_method", method), ("grpc_target", target), ("grpc_status", code.description)]
            return ByStatus(
                attempt: Timer(label: "grpc_client_attempt_duration_seconds", dimensions: dimensions, factory: factory),
                call: Timer(label: "grpc_client_call_duration_seconds", dimensions: dimensions, factory: factory)
            )
        }
    }

    func attemptStarted() { started.increment() }

    func attemptEnded(_ attempt: EndedCall) {
        byStatus[attempt.code].attempt.recordNanoseconds(attempt.duration.saturatingNanoseconds)
    }

    func callEnded(code: StatusCode, duration: Duration) {
        byStatus[code].call.recordNanoseconds(duration.saturatingNanoseconds)
    }
}
