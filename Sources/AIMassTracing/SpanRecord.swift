import Tracing

/// A finished span, as an exporter sends it.
public struct SpanRecord: Sendable {
    /// Where it sits: its trace, its own id and its parent's (`nil` for a root span).
    public var trace: TraceContext
    public var parentSpanID: SpanID?
    public var name: String
    public var kind: SpanKind
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    public var attributes: SpanAttributes
    public var events: [SpanEvent]
    public var links: [TraceContext]
    public var status: SpanStatus?
}
