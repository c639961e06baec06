import Instrumentation
import Tracing

/// Receives every span a ``RecordingTracer`` records, once, when it ends.
public protocol SpanSink: Sendable {
    func spanEnded(_ span: SpanRecord)
}

/// A tracer that records spans with W3C Trace Context ids and hands them to a sink (an exporter's batcher).
///
/// Sampling is parent-based: a span whose parent was sampled upstream is recorded, one whose parent was not is
/// not (its context still propagates), and a new trace is sampled with probability `sampleRatio`.
public struct RecordingTracer: Tracer {
    public typealias Span = RecordingSpan

    private let sink: any SpanSink
    private let sampleRatio: Double

    public init(sink: any SpanSink, sampleRatio: Double = 1) {
        self.sink = sink
        self.sampleRatio = min(max(sampleRatio, 0), 1)
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> RecordingSpan {
        var context = context()
        let parent = context.traceContext
        let sampled = parent?.sampled ?? (sampleRatio >= 1 || Double.random(in: 0..<1) < sampleRatio)
        let trace = TraceContext(
            traceID: parent?.traceID ?? .random(), spanID: .random(), sampled: sampled,
            traceState: parent?.traceState ?? "")
        context.traceContext = trace
        let record = SpanRecord(
            trace: trace, parentSpanID: parent?.spanID, name: operationName, kind: kind,
            startNanoseconds: instant().nanosecondsSinceEpoch, endNanoseconds: 0, attributes: [:], events: [],
            links: [], status: nil)
        return RecordingSpan(record: record, context: context, sink: sampled ? sink : nil)
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract: Extractor, Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: "traceparent", from: carrier) else { return }
        let traceState = extractor.extract(key: "tracestate", from: carrier) ?? ""
        // A tracestate longer than the specification's 512 characters may be dropped whole.
        context.traceContext = TraceContext(
            traceparent: traceparent, traceState: traceState.utf8.count <= 512 ? traceState : "")
    }

    public func inject<Carrier, Inject>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject: Injector, Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceparent, forKey: "traceparent", into: &carrier)
        if !trace.traceState.isEmpty { injector.inject(trace.traceState, forKey: "tracestate", into: &carrier) }
    }
}
