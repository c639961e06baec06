import RPCCore
import RPCHTTP2

/// The bodies of the interop client cases (see ``InteropClientCase``).
struct InteropCases {
    let client: RPCClient
    let options = CallOptions(timeout: .seconds(20))

    func method(_ name: String, service: String = TestService.serviceName) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name)
    }

    func emptyUnary() async throws {
        let _: Empty = try await client.unary(method("EmptyCall"), request: Empty(), options: options)
    }

    func largeUnary() async throws {
        let request = SimpleRequest(responseSize: 314_159, payload: .zeros(271_828))
        let response: SimpleResponse = try await client.unary(method("UnaryCall"), request: request, options: options)
        try expect(response.payload == .zeros(314_159), "large_unary: response payload is not 314159 zero bytes")
    }

    func clientCompressedUnary() async throws {
        let probe = SimpleRequest(responseSize: 314_159, payload: .zeros(271_828), expectCompressed: true)
        _ = try await expectStatus(.invalidArgument, "client_compressed_unary probe") {
            let _: SimpleResponse = try await client.unary(method("UnaryCall"), request: probe, options: options)
        }
        for compressed in [true, false] {
            var callOptions = options
            callOptions.compressRequests = compressed
            let request = SimpleRequest(responseSize: 314_159, payload: .zeros(271_828), expectCompressed: compressed)
            let response: SimpleResponse = try await client.unary(method("UnaryCall"), request: request, options: callOptions)
            try expect(response.payload == .zeros(314_159), "client_compressed_unary: wrong payload (compressed \(compressed))")
        }
    }

    func serverCompressedUnary() async throws {
        for compressed in [true, false] {
            let request = SimpleRequest(responseSize: 314_159, payload: .zeros(271_828), responseCompressed: compressed)
            let response: SimpleResponse = try await client.unary(method("UnaryCall"), request: request, options: options)
            try expect(response.payload == .zeros(314_159), "server_compressed_unary: wrong payload (compressed \(compressed))")
        }
    }

    func clientStreaming() async throws {
        let call: ClientCall<StreamingInputCallRequest, StreamingInputCallResponse> =
            try await client.makeCall(method("StreamingInputCall"), options: options)
        for size in [27_182, 8, 1_828, 45_904] {
            try await call.send(StreamingInputCallRequest(payload: .zeros(size)))
        }
        call.finishSending()
        let response = try await single(call)
        try expect(response.aggregatedPayloadSize == 74_922, "client_streaming: aggregated size \(response.aggregatedPayloadSize)")
    }

    func clientCompressedStreaming() async throws {
        _ = try await expectStatus(.invalidArgument, "client_compressed_streaming probe") {
            let probe: ClientCall<StreamingInputCallRequest, StreamingInputCallResponse> =
                try await client.makeCall(method("StreamingInputCall"), options: options)
            try await probe.send(StreamingInputCallRequest(payload: .zeros(27_182), expectCompressed: true), compress: false)
            probe.finishSending()
            _ = try await single(probe)
        }
        var callOptions = options
        callOptions.compressRequests = true
        let call: ClientCall<StreamingInputCallRequest, StreamingInputCallResponse> =
            try await client.makeCall(method("StreamingInputCall"), options: callOptions)
        try await call.send(StreamingInputCallRequest(payload: .zeros(27_182), expectCompressed: true), compress: true)
        try await call.send(StreamingInputCallRequest(payload: .zeros(45_904), expectCompressed: false), compress: false)
        call.finishSending()
        let response = try await single(call)
        try expect(
            response.aggregatedPayloadSize == 73_086,
            "client_compressed_streaming: aggregated size \(response.aggregatedPayloadSize)"
        )
    }

    func serverStreaming() async throws {
        let sizes: [Int32] = [31_415, 9, 2_653, 58_979]
        let request = StreamingOutputCallRequest(responseParameters: sizes.map { ResponseParameters(size: $0) })
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.serverStreaming(method("StreamingOutputCall"), request: request, options: options)
        var received: [Int] = []
        for try await response in call.responses { received.append(response.payload?.body.count ?? 0) }
        try expect(received == sizes.map(Int.init), "server_streaming: received sizes \(received)")
    }

    func serverCompressedStreaming() async throws {
        let request = StreamingOutputCallRequest(responseParameters: [
            ResponseParameters(size: 31_415, compressed: true), ResponseParameters(size: 92_653, compressed: false),
        ])
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.serverStreaming(method("StreamingOutputCall"), request: request, options: options)
        var received: [Int] = []
        for try await response in call.responses {
            try expect(response.payload?.body.allSatisfy { $0 == 0 } ?? false, "server_compressed_streaming: non-zero payload")
            received.append(response.payload?.body.count ?? 0)
        }
        try expect(received == [31_415, 92_653], "server_compressed_streaming: received sizes \(received)")
    }

    func pingPong() async throws {
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.makeCall(method("FullDuplexCall"), options: options)
        for (responseSize, payloadSize) in [(31_415, 27_182), (9, 8), (2_653, 1_828), (58_979, 45_904)] {
            try await call.send(
                StreamingOutputCallRequest(
                    responseParameters: [ResponseParameters(size: Int32(responseSize))],
                    payload: .zeros(payloadSize)
                )
            )
            guard let response = try await call.next() else {
                throw InteropFailure(description: "ping_pong: the stream ended early")
            }
            try expect(response.payload == .zeros(responseSize), "ping_pong: wrong response size")
        }
        call.finishSending()
        try expect(try await call.next() == nil, "ping_pong: a response after the last ping")
    }

    func emptyStream() async throws {
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.makeCall(method("FullDuplexCall"), options: options)
        call.finishSending()
        try expect(try await call.next() == nil, "empty_stream: the server sent a response")
    }

    func customMetadata() async throws {
        var callOptions = options
        callOptions.metadata.add("test_initial_metadata_value", forKey: "x-grpc-test-echo-initial")
        callOptions.metadata.add(binary: [0xAB, 0xAB, 0xAB], forKey: "x-grpc-test-echo-trailing-bin")
        let request = SimpleRequest(responseSize: 314_159, payload: .zeros(271_828))
        let unary: UnaryResponse<SimpleResponse> =
            try await client.unaryWithMetadata(method("UnaryCall"), request: request, options: callOptions)
        try checkEcho(initial: unary.initialMetadata, trailing: unary.trailingMetadata, context: "UnaryCall")

        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.makeCall(method("FullDuplexCall"), options: callOptions)
        try await call.send(
            StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 314_159)], payload: .zeros(271_828))
        )
        call.finishSending()
        while try await call.next() != nil {}
        try checkEcho(initial: await call.initialMetadata(), trailing: call.trailingMetadata ?? Metadata(), context: "FullDuplexCall")
    }

    private func checkEcho(initial: Metadata, trailing: Metadata, context: String) throws {
        try expect(
            initial.firstString(forKey: "x-grpc-test-echo-initial") == "test_initial_metadata_value",
            "custom_metadata (\(context)): initial metadata not echoed"
        )
        try expect(
            trailing.firstBinary(forKey: "x-grpc-test-echo-trailing-bin") == [0xAB, 0xAB, 0xAB],
            "custom_metadata (\(context)): trailing metadata not echoed"
        )
    }

    func statusCodeAndMessage(message: String) async throws {
        let status = EchoStatus(code: 2, message: message)
        let error = try await expectStatus(.unknown, "status (UnaryCall)") {
            let _: SimpleResponse = try await client.unary(
                method("UnaryCall"),
                request: SimpleRequest(responseStatus: status),
                options: options
            )
        }
        try expect(error.message == message, "status (UnaryCall): message \(error.message.debugDescription)")
        let streamError = try await expectStatus(.unknown, "status (FullDuplexCall)") {
            let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
                try await client.makeCall(method("FullDuplexCall"), options: options)
            try await call.send(StreamingOutputCallRequest(responseStatus: status))
            call.finishSending()
            while try await call.next() != nil {}
        }
        try expect(streamError.message == message, "status (FullDuplexCall): message \(streamError.message.debugDescription)")
    }

    func unimplemented(service: String) async throws {
        _ = try await expectStatus(.unimplemented, "unimplemented (\(service))") {
            let _: Empty = try await client.unary(
                method("UnimplementedCall", service: service),
                request: Empty(),
                options: options
            )
        }
    }

    func cancelAfterBegin() async throws {
        let call: ClientCall<StreamingInputCallRequest, StreamingInputCallResponse> =
            try await client.makeCall(method("StreamingInputCall"), options: options)
        call.cancel()
        _ = try await expectStatus(.cancelled, "cancel_after_begin") { _ = try await single(call) }
    }

    func cancelAfterFirstResponse() async throws {
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.makeCall(method("FullDuplexCall"), options: options)
        try await call.send(
            StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 31_415)], payload: .zeros(27_182))
        )
        let first = try await call.next()
        try expect(first?.payload == .zeros(31_415), "cancel_after_first_response: no first response of 31415 zero bytes")
        call.cancel()
        _ = try await expectStatus(.cancelled, "cancel_after_first_response") { while try await call.next() != nil {} }
    }

    func timeoutOnSleepingServer() async throws {
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> =
            try await client.makeCall(method("FullDuplexCall"), options: CallOptions(timeout: .milliseconds(1)))
        _ = try await expectStatus(.deadlineExceeded, "timeout_on_sleeping_server") {
            // The send may already fail: the deadline can pass before it.
            try? await call.send(StreamingOutputCallRequest(payload: .zeros(27_182)))
            while try await call.next() != nil {}
        }
    }

    private func single<Request, Response>(_ call: ClientCall<Request, Response>) async throws -> Response {
        guard let response = try await call.next() else {
            throw InteropFailure(description: "expected one response, the stream ended")
        }
        return response
    }
}
