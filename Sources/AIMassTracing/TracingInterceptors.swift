import Instrumentation
import RPCCore
import Tracing

/// The span of a server call and the tracer that made it, kept in the call's instrumentation context.
enum CallSpanKey: InstrumentationContextKey {
    typealias Value = RecordingSpan
}

enum CallTracerKey: InstrumentationContextKey {
    typealias Value = RecordingTracer
}

/// Starts a server span for every call, continuing the caller's trace from `traceparent`/`tracestate`, and ends it
/// with the call's status (OpenTelemetry's RPC conventions: `rpc.system`, `rpc.service`, `rpc.method`,
/// `rpc.grpc.status_code`).
public struct TracingServerInterceptor: ServerInterceptor {
    let tracer: RecordingTracer

    public init(tracer: RecordingTracer) {
        self.tracer = tracer
    }

    public func callStarted(_ context: ServerContext) throws(RPCError) {
        var parent = InstrumentationContext.topLevel
        tracer.extract(context.requestMetadata, into: &parent, using: MetadataExtractor())
        let name = "\(context.descriptor.service)/\(context.descriptor.method)"
        let span = tracer.startSpan(name, context: parent, ofKind: .server)
        if span.isRecording {
            span.attributes["rpc.system"] = "grpc"
            span.attributes["rpc.service"] = context.descriptor.service
            span.attributes["rpc.method"] = context.descriptor.method
            span.attributes["network.peer.address"] = context.remotePeer
        }
        var own = span.context
        own[CallSpanKey.self] = span
        own[CallTracerKey.self] = tracer
        context.instrumentationContext = own
    }

    public func callEnded(_ context: ServerContext, status: RPCStatus, duration: Duration) {
        guard let span = context.instrumentationContext?[CallSpanKey.self] else { return }
        span.attributes["rpc.grpc.status_code"] = Int64(status.code.rawValue)
        if Self.isServerError(status.code) {
            span.setStatus(SpanStatus(code: .error, message: "\(status.code): \(status.message)"))
        }
        span.end()
    }

    /// The codes OpenTelemetry's gRPC conventions count as a server span's error; the others are the caller's.
    static func isServerError(_ code: StatusCode) -> Bool {
        switch code {
        case .unknown, .deadlineExceeded, .unimplemented, .internalError, .unavailable, .dataLoss: true
        default: false
        }
    }
}

/// Sends the current trace (``InstrumentationContext/current``, set by `withSpan`) with every client call, so
/// the server's span joins the caller's trace.
public struct TracingClientInterceptor: ClientInterceptor {
    let tracer: RecordingTracer

    public init(tracer: RecordingTracer) {
        self.tracer = tracer
    }

    public func callStarting(_ descriptor: MethodDescriptor, metadata: inout Metadata) throws(RPCError) {
        guard let current = InstrumentationContext.current else { return }
        tracer.inject(current, into: &metadata, using: MetadataInjector())
    }
}

extension ServerContext {
    /// Runs `body` inside a child span of this call's span, named `name`, when the call is traced; otherwise runs
    /// it with `nil` (one lock and one check). The span ends when `body` returns or throws (recording the error).
    public func withSpan<T>(_ name: String, _ body: (RecordingSpan?) throws -> T) rethrows -> T {
        guard let parent = instrumentationContext, let tracer = parent[CallTracerKey.self] else { return try body(nil) }
        let span = tracer.startSpan(name, context: parent, ofKind: .internal)
        defer { span.end() }
        do {
            return try body(span)
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// ``withSpan(_:_:)`` for asynchronous work (an admission wait, an upload's stream): the span ends when `body`
    /// returns or throws.
    public func withAsyncSpan<T>(_ name: String, _ body: (RecordingSpan?) async throws -> T) async rethrows -> T {
        guard let parent = instrumentationContext, let tracer = parent[CallTracerKey.self] else { return try await body(nil) }
        let span = tracer.startSpan(name, context: parent, ofKind: .internal)
        defer { span.end() }
        do {
            return try await body(span)
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
