import OTLPAPI
import RPCCore
import RPCHTTP2
import Tracing

/// Sends spans to an OpenTelemetry collector with OTLP/gRPC (`opentelemetry.proto.collector.trace.v1.TraceService/
/// Export`), over our own ``RPCClient``: one resource (the process: `service.name` and the attributes given), one
/// instrumentation scope, the batch's spans.
public struct OTLPExporter: SpanExporter {
    private let client: RPCClient
    private let resource: OTLPAPI.Resource
    private let timeout: Duration

    /// - Parameters:
    ///   - host, port: The collector's OTLP/gRPC endpoint (plaintext; port 4317 by convention).
    ///   - serviceName: `service.name` of every span (e.g. `aimass-worker`).
    ///   - attributes: More resource attributes (`service.instance.id`, `host.name`).
    public init(
        host: String, port: Int, serviceName: String, attributes: [String: String] = [:],
        timeout: Duration = .seconds(10)
    ) {
        self.client = RPCClient(host: host, port: port)
        let all = attributes.merging(["service.name": serviceName]) { _, name in name }
        self.resource = OTLPAPI.Resource(
            attributes: all.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: AnyValue(value: .stringValue($0.value))) })
        self.timeout = timeout
    }

    public func export(_ spans: [SpanRecord]) async throws {
        let request = ExportTraceServiceRequest(resourceSpans: [
            ResourceSpans(
                resource: resource,
                scopeSpans: [ScopeSpans(scope: InstrumentationScope(name: "aimass"), spans: spans.map(Self.span))])
        ])
        let response: ExportTraceServiceResponse = try await client.unary(
            TraceServiceMethods.export, request: request, options: CallOptions(timeout: timeout))
        if let partial = response.partialSuccess, partial.rejectedSpans > 0 {
            throw RPCError(
                code: .invalidArgument,
                message: "the collector rejected \(partial.rejectedSpans) spans: \(partial.errorMessage)")
        }
    }

    /// Closes the connection to the collector.
    public func close() async {
        await client.close()
    }

    static func span(_ record: SpanRecord) -> OTLPAPI.Span {
        OTLPAPI.Span(
            traceId: record.trace.traceID.bytes,
            spanId: record.trace.spanID.bytes,
            traceState: record.trace.traceState,
            parentSpanId: record.parentSpanID?.bytes ?? [],
            flags: record.trace.sampled ? 1 : 0,
            name: record.name,
            kind: kind(record.kind),
            startTimeUnixNano: record.startNanoseconds,
            endTimeUnixNano: record.endNanoseconds,
            attributes: attributes(record.attributes),
            events: record.events.map { event in
                OTLPAPI.Span.Event(
                    timeUnixNano: event.nanosecondsSinceEpoch, name: event.name, attributes: attributes(event.attributes))
            },
            links: record.links.map { link in
                OTLPAPI.Span.Link(traceId: link.traceID.bytes, spanId: link.spanID.bytes, traceState: link.traceState)
            },
            status: record.status.map { status in
                OTLPAPI.Status(message: status.message ?? "", code: status.code == .ok ? .ok : .error)
            })
    }

    static func kind(_ kind: SpanKind) -> OTLPAPI.Span.SpanKind {
        switch kind {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        default: .internal
        }
    }

    static func attributes(_ attributes: SpanAttributes) -> [KeyValue] {
        var values: [KeyValue] = []
        attributes.forEach { key, attribute in
            values.append(KeyValue(key: key, value: AnyValue(value: value(attribute))))
        }
        return values.sorted { $0.key < $1.key }
    }

    static func value(_ attribute: SpanAttribute) -> AnyValue.Value {
        switch attribute {
        case .int32(let value): .intValue(Int64(value))
        case .int64(let value): .intValue(value)
        case .double(let value): .doubleValue(value)
        case .bool(let value): .boolValue(value)
        case .string(let value): .stringValue(value)
        case .int32Array(let values): .arrayValue(ArrayValue(values: values.map { AnyValue(value: .intValue(Int64($0))) }))
        case .int64Array(let values): .arrayValue(ArrayValue(values: values.map { AnyValue(value: .intValue($0)) }))
        case .doubleArray(let values): .arrayValue(ArrayValue(values: values.map { AnyValue(value: .doubleValue($0)) }))
        case .boolArray(let values): .arrayValue(ArrayValue(values: values.map { AnyValue(value: .boolValue($0)) }))
        case .stringArray(let values): .arrayValue(ArrayValue(values: values.map { AnyValue(value: .stringValue($0)) }))
        default: .stringValue("\(attribute)")
        }
    }
}
