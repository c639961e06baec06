import AIMassTracing
import ArgumentParser
@preconcurrency import Foundation
import Logging
import RPCCore
import Tracing

/// `--otlp-endpoint` and `--trace-sample-ratio`: spans exported with OTLP/gRPC to an OpenTelemetry collector.
struct TracingOptions: ParsableArguments {
    @Option(
        name: .customLong("otlp-endpoint"),
        help: "Export trace spans to this OpenTelemetry collector (OTLP/gRPC, HOST:PORT; default: $AIMASS_OTLP_ENDPOINT; off when absent).")
    var otlpEndpoint: String?

    @Option(name: .customLong("trace-sample-ratio"), help: "The share of new traces recorded, 0 to 1 (callers' decisions are kept).")
    var sampleRatio: Double = 1

    /// The tracer and its exporter's batcher, when an endpoint is given; the CLI fails on a malformed one.
    func start(serviceName: String, logger: Logger) -> Tracing? {
        guard let endpoint = otlpEndpoint ?? ProcessInfo.processInfo.environment["AIMASS_OTLP_ENDPOINT"],
            !endpoint.isEmpty
        else { return nil }
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
            port > 0, port < 65536
        else { CLIOutput.fail("--otlp-endpoint must be HOST:PORT, got '\(endpoint)'") }
        guard (0...1).contains(sampleRatio) else {
            CLIOutput.fail("--trace-sample-ratio must be between 0 and 1, got \(sampleRatio)")
        }
        let exporter = OTLPExporter(
            host: String(endpoint[..<colon]), port: port, serviceName: serviceName,
            attributes: ["host.name": ProcessInfo.processInfo.hostName,
                         "service.instance.id": "\(ProcessInfo.processInfo.processIdentifier)"])
        let batcher = SpanBatcher(exporter: exporter, logger: logger)
        return Tracing(tracer: RecordingTracer(sink: batcher, sampleRatio: sampleRatio), batcher: batcher, exporter: exporter)
    }

    /// A running tracer: spans go to `batcher`, which exports them from ``run()`` until ``finish()``.
    struct Tracing: Sendable {
        let tracer: RecordingTracer
        let batcher: SpanBatcher
        let exporter: OTLPExporter

        /// Exports what was recorded and closes the connection to the collector.
        func finish() async {
            await batcher.flush()
            await exporter.close()
        }
    }
}
