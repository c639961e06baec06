import Synchronization
import Tracing

/// A span of ``RecordingTracer``: mutable until it ends, then handed once to the tracer's sink.
public final class RecordingSpan: Span {
    public let context: InstrumentationContext
    public let isRecording: Bool
    private let sink: (any SpanSink)?
    private let state: Mutex<State>

    private struct State {
        var record: SpanRecord
        var ended = false
    }

    init(record: SpanRecord, context: InstrumentationContext, sink: (any SpanSink)?) {
        self.context = context
        self.isRecording = sink != nil
        self.sink = sink
        self.state = Mutex(State(record: record))
    }

    /// This span's place in its trace.
    public var traceContext: TraceContext { state.withLock { $0.record.trace } }

    public var operationName: String {
        get { state.withLock { $0.record.name } }
        set { update { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.record.attributes } }
        set { update { $0.attributes = newValue } }
    }

    public func setStatus(_ status: SpanStatus) {
        update { $0.status = status }
    }

    public func addEvent(_ event: SpanEvent) {
        update { $0.events.append(event) }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        // OpenTelemetry's semantic conventions for exceptions.
        var attributes = attributes
        attributes["exception.type"] = "\(type(of: error))"
        attributes["exception.message"] = "\(error)"
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: attributes))
    }

    public func addLink(_ link: SpanLink) {
        guard let linked = link.context.traceContext else { return }
        update { $0.links.append(linked) }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished = state.withLock { state -> SpanRecord? in
            guard !state.ended else { return nil }
            state.ended = true
            state.record.endNanoseconds = instant().nanosecondsSinceEpoch
            return state.record
        }
        if let finished, let sink { sink.spanEnded(finished) }
    }

    /// Changes a span that is recording and has not ended; anything else is ignored, as the API asks.
    private func update(_ change: (inout SpanRecord) -> Void) {
        guard isRecording else { return }
        state.withLock { state in
            if !state.ended { change(&state.record) }
        }
    }
}
