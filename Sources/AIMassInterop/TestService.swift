import RPCCore

/// The official interop server, `grpc.testing.TestService`, as the interop test descriptions
/// specify it (response sizes, echoed metadata and statuses, compression checks).
public struct TestService: RPCService {
    public static let serviceName = "grpc.testing.TestService"

    public init() {}

    public func registerMethods(with router: inout RPCRouter) {
        func method(_ name: String) -> MethodDescriptor { MethodDescriptor(service: Self.serviceName, method: name) }

        router.registerInlineUnary(method("EmptyCall")) { (_: Empty, context) throws(RPCError) -> Empty in
            Self.echoMetadata(context)
            return Empty()
        }
        for name in ["UnaryCall", "CacheableUnaryCall"] {
            router.registerInlineUnary(method(name)) { (request: SimpleRequest, context) throws(RPCError) in
                try Self.unary(request, context: context)
            }
        }
        router.registerServerStreaming(method("StreamingOutputCall")) {
            (request: StreamingOutputCallRequest, writer: RPCWriter<StreamingOutputCallResponse>, context) in
            Self.echoMetadata(context)
            try await Self.respond(to: request, writer: writer)
        }
        router.registerClientStreaming(method("StreamingInputCall")) {
            (requests: RPCRequestStream<StreamingInputCallRequest>, context) -> StreamingInputCallResponse in
            Self.echoMetadata(context)
            var total: Int32 = 0
            for try await request in requests {
                if request.expectCompressed == true && !context.requestWasCompressed {
                    throw RPCError(code: .invalidArgument, message: "expected a compressed request message")
                }
                total += Int32(request.payload?.body.count ?? 0)
            }
            return StreamingInputCallResponse(aggregatedPayloadSize: total)
        }
        router.registerBidirectionalStreaming(method("FullDuplexCall")) {
            (requests: RPCRequestStream<StreamingOutputCallRequest>, writer: RPCWriter<StreamingOutputCallResponse>,
            context) in
            Self.echoMetadata(context)
            for try await request in requests {
                try await Self.respond(to: request, writer: writer)
            }
        }
        router.registerBidirectionalStreaming(method("HalfDuplexCall")) {
            (requests: RPCRequestStream<StreamingOutputCallRequest>, writer: RPCWriter<StreamingOutputCallResponse>,
            context) in
            Self.echoMetadata(context)
            var buffered: [StreamingOutputCallRequest] = []
            for try await request in requests { buffered.append(request) }
            for request in buffered { try await Self.respond(to: request, writer: writer) }
        }
    }

    static func unary(_ request: SimpleRequest, context: ServerContext) throws(RPCError) -> SimpleResponse {
        echoMetadata(context)
        if request.expectCompressed == true && !context.requestWasCompressed {
            throw RPCError(code: .invalidArgument, message: "expected a compressed request message")
        }
        if let status = request.responseStatus, status.code != 0 {
            throw RPCError(code: StatusCode(wireValue: status.code), message: status.message)
        }
        context.compressResponses = request.responseCompressed ?? false
        return SimpleResponse(payload: Payload.zeros(Int(request.responseSize)))
    }

    static func respond(
        to request: StreamingOutputCallRequest,
        writer: RPCWriter<StreamingOutputCallResponse>
    ) async throws {
        if let status = request.responseStatus, status.code != 0 {
            throw RPCError(code: StatusCode(wireValue: status.code), message: status.message)
        }
        for parameter in request.responseParameters {
            if parameter.intervalMicroseconds > 0 {
                try await Task.sleep(for: .microseconds(Int64(parameter.intervalMicroseconds)))
            }
            try await writer.write(
                StreamingOutputCallResponse(payload: Payload.zeros(Int(parameter.size))),
                compress: parameter.compressed ?? false
            )
        }
    }

    /// Echoes `x-grpc-test-echo-initial` as initial metadata and `x-grpc-test-echo-trailing-bin` as trailers.
    static func echoMetadata(_ context: ServerContext) {
        if let initial = context.requestMetadata.firstString(forKey: "x-grpc-test-echo-initial") {
            var metadata = context.responseInitialMetadata
            metadata.add(initial, forKey: "x-grpc-test-echo-initial")
            context.responseInitialMetadata = metadata
        }
        if let trailing = context.requestMetadata.firstBinary(forKey: "x-grpc-test-echo-trailing-bin") {
            var metadata = context.responseTrailingMetadata
            metadata.add(binary: trailing, forKey: "x-grpc-test-echo-trailing-bin")
            context.responseTrailingMetadata = metadata
        }
    }
}
