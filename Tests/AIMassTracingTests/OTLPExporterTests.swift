import Logging
import OTLPAPI
import RPCCore
import RPCHTTP2
import Synchronization
import Testing
import Tracing

@testable import AIMassTracing

/// A collector on a real socket: keeps every export request it is sent.
final class FakeCollector: RPCService {
    let requests = Mutex<[ExportTraceServiceRequest]>([])

    func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(TraceServiceMethods.export) { (request: ExportTraceServiceRequest, _) in
            self.requests.withLock { $0.append(request) }
            return ExportTraceServiceResponse()
        }
    }
}

@Suite("OTLP exporter")
struct OTLPExporterTests {
    @Test("a server span and its child reach a collector over OTLP/gRPC, linked, with their attributes")
    func exportsToCollector() async throws {
        let collector = FakeCollector()
        var configuration = ServerConfiguration.defaults
        configuration.port = 0
        let server = RPCServer(configuration: configuration, services: [collector])
        let port = try #require(try await server.start().port)
        let exporter = OTLPExporter(
            host: "127.0.0.1", port: port, serviceName: "aimass-test", attributes: ["service.instance.id": "w1"])
        let batcher = SpanBatcher(exporter: exporter, logger: Logger(label: "test"))
        let tracer = RecordingTracer(sink: batcher)
        let interceptor = TracingServerInterceptor(tracer: tracer)
        let context = ServerContext(
            descriptor: MethodDescriptor(service: "aimass.v1.Recommend", method: "Recommend"),
            requestMetadata: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"], deadline: nil,
            remotePeer: "ipv4:127.0.0.1:1", peerAcceptsGzip: false, logger: Logger(label: "test"))
        try interceptor.callStarted(context)
        context.withSpan("model.top_k") { span in
            span?.attributes["aimass.model"] = "movies"
            span?.attributes["aimass.version"] = Int64(3)
        }
        interceptor.callEnded(context, status: RPCStatus(code: .unavailable, message: "no replica"), duration: .zero)
        await batcher.flush()
        await exporter.close()
        await server.shutdown(gracePeriod: .seconds(1))

        let requests = collector.requests.withLock { $0 }
        try #require(requests.count == 1)
        let resource = try #require(requests[0].resourceSpans.first)
        let resourceAttributes = Dictionary(uniqueKeysWithValues: (resource.resource?.attributes ?? []).map { ($0.key, $0.value?.value) })
        #expect(resourceAttributes["service.name"] == .stringValue("aimass-test"))
        #expect(resourceAttributes["service.instance.id"] == .stringValue("w1"))
        let spans = try #require(resource.scopeSpans.first?.spans)
        try #require(spans.count == 2)
        let (child, call) = (spans[0], spans[1])
        #expect(call.name == "aimass.v1.Recommend/Recommend" && call.kind == .server)
        #expect(call.traceId == TraceContext(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")?.traceID.bytes)
        #expect(call.parentSpanId == [0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31])
        #expect(call.status?.code == .error)
        #expect(child.parentSpanId == call.spanId && child.traceId == call.traceId)
        let attributes = Dictionary(uniqueKeysWithValues: child.attributes.map { ($0.key, $0.value?.value) })
        #expect(attributes["aimass.model"] == .stringValue("movies") && attributes["aimass.version"] == .intValue(3))
        #expect(call.startTimeUnixNano <= child.startTimeUnixNano && child.endTimeUnixNano <= call.endTimeUnixNano)
    }
}
