import Logging
import RPCCore
import Synchronization
import Testing
import Tracing

@testable import AIMassTracing

/// Keeps what a tracer records.
final class CollectedSpans: SpanSink, SpanExporter {
    private let spans = Mutex<[SpanRecord]>([])
    func spanEnded(_ span: SpanRecord) { spans.withLock { $0.append(span) } }
    func export(_ batch: [SpanRecord]) async throws { spans.withLock { $0 += batch } }
    var all: [SpanRecord] { spans.withLock { $0 } }
}

private func serverContext(_ metadata: Metadata) -> ServerContext {
    ServerContext(
        descriptor: MethodDescriptor(service: "aimass.v1.Recommend", method: "Recommend"), requestMetadata: metadata,
        deadline: nil, remotePeer: "ipv4:127.0.0.1:5000", peerAcceptsGzip: false, logger: Logger(label: "test"))
}

@Suite("Recording tracer and interceptors")
struct TracerTests {
    @Test("a server call continues the caller's trace, and a child span hangs off the call's span")
    func serverSpanContinuesTrace() throws {
        let spans = CollectedSpans()
        let tracer = RecordingTracer(sink: spans)
        let interceptor = TracingServerInterceptor(tracer: tracer)
        let caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let context = serverContext(["traceparent": .string(caller), "tracestate": "a=1"])

        try interceptor.callStarted(context)
        let answer = context.withSpan("model.top_k") { span -> Int in
            span?.attributes["aimass.model"] = "movielens"
            return 42
        }
        interceptor.callEnded(context, status: RPCStatus(code: .ok), duration: .milliseconds(1))

        #expect(answer == 42)
        let recorded = spans.all
        try #require(recorded.count == 2)
        let (child, call) = (recorded[0], recorded[1])
        #expect(call.name == "aimass.v1.Recommend/Recommend" && call.kind == .server)
        #expect(call.trace.traceID.hex == "0af7651916cd43dd8448eb211c80319c")
        #expect(call.parentSpanID?.hex == "b7ad6b7169203331")
        #expect(call.trace.traceState == "a=1")
        #expect(call.attributes.get("rpc.grpc.status_code") == .int64(0))
        #expect(call.attributes.get("rpc.method") == .string("Recommend"))
        #expect(call.status == nil)
        #expect(child.trace.traceID == call.trace.traceID && child.parentSpanID == call.trace.spanID)
        #expect(child.attributes.get("aimass.model") == .string("movielens"))
        #expect(child.startNanoseconds >= call.startNanoseconds && child.endNanoseconds <= call.endNanoseconds)
    }

    @Test("without a traceparent a call starts a new trace; a server-side failure marks the span as an error")
    func rootSpanAndError() throws {
        let spans = CollectedSpans()
        let interceptor = TracingServerInterceptor(tracer: RecordingTracer(sink: spans))
        let context = serverContext(["traceparent": "garbage"])
        try interceptor.callStarted(context)
        interceptor.callEnded(context, status: RPCStatus(code: .internalError, message: "boom"), duration: .zero)
        interceptor.callEnded(context, status: RPCStatus(code: .internalError, message: "boom"), duration: .zero)

        let recorded = spans.all
        try #require(recorded.count == 1, "a span ends once")
        #expect(recorded[0].parentSpanID == nil)
        #expect(recorded[0].status?.code == .error)

        let caller = serverContext([:])
        try interceptor.callStarted(caller)
        interceptor.callEnded(caller, status: RPCStatus(code: .notFound), duration: .zero)
        #expect(spans.all.last?.status == nil, "NOT_FOUND is the caller's error, not the server's")
    }

    @Test("an unsampled caller's trace propagates but records nothing; ratio 0 samples no new trace")
    func sampling() throws {
        let spans = CollectedSpans()
        let interceptor = TracingServerInterceptor(tracer: RecordingTracer(sink: spans))
        let context = serverContext(["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"])
        try interceptor.callStarted(context)
        #expect(context.instrumentationContext?.traceContext?.traceID.hex == "0af7651916cd43dd8448eb211c80319c")
        interceptor.callEnded(context, status: RPCStatus(code: .ok), duration: .zero)

        let never = TracingServerInterceptor(tracer: RecordingTracer(sink: spans, sampleRatio: 0))
        let fresh = serverContext([:])
        try never.callStarted(fresh)
        never.callEnded(fresh, status: RPCStatus(code: .ok), duration: .zero)
        #expect(spans.all.isEmpty)
    }

    @Test("a client call inside a span sends that span as the parent")
    func clientPropagation() async throws {
        let spans = CollectedSpans()
        let tracer = RecordingTracer(sink: spans)
        let client = TracingClientInterceptor(tracer: tracer)
        var outside = Metadata()
        try client.callStarting(MethodDescriptor(service: "s", method: "m"), metadata: &outside)
        #expect(outside.firstString(forKey: "traceparent") == nil)

        let sent = try tracer.withSpan("aimass.v1.Recommend/Recommend", ofKind: .client) { span in
            var metadata = Metadata()
            try client.callStarting(MethodDescriptor(service: "s", method: "m"), metadata: &metadata)
            return (metadata.firstString(forKey: "traceparent"), span.traceContext)
        }
        #expect(sent.0 == sent.1.traceparent)
        #expect(spans.all.map(\.kind) == [.client])
    }

    @Test("the batcher exports everything it kept and drops past its capacity instead of growing")
    func batcher() async {
        let exported = CollectedSpans()
        let batcher = SpanBatcher(exporter: exported, capacity: 3, maxBatch: 2, logger: Logger(label: "test"))
        let tracer = RecordingTracer(sink: batcher)
        for index in 0..<5 { tracer.startSpan("span \(index)", context: .topLevel).end() }
        await batcher.flush()
        #expect(exported.all.map(\.name) == ["span 0", "span 1", "span 2"])
        await batcher.flush()
        #expect(exported.all.count == 3)
    }
}
