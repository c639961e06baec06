import AIMassInterop
import RPCCore
import Testing

@testable import RPCHTTP2

/// Every call's stream objects are freed once the call is over, on both sides: a reference cycle between a stream
/// and its handler task, message queue or call object leaks a few KiB per call, which a busy server (or client)
/// turns into gigabytes.
@Suite("Stream lifetime", .serialized)
struct StreamLifetimeTests {
    static let unary = MethodDescriptor(service: "grpc.testing.TestService", method: "UnaryCall")
    static let streamingOutput = MethodDescriptor(service: "grpc.testing.TestService", method: "StreamingOutputCall")

    @Test("after 400 unary calls (with a deadline, and failing) and 200 server-streaming calls no server or client stream is left alive")
    func finishedCallsFreeTheirStreams() async throws {
        let server = RPCServer(
            configuration: .defaults {
                $0.host = "127.0.0.1"
                $0.port = 0
                $0.eventLoopThreads = 1
            },
            services: [TestService()]
        )
        let port = try #require(try await server.start().port)
        let client = RPCClient(host: "127.0.0.1", port: port)
        // Counted for this server and for this client's authority only: other tests run at the same time.
        let authority = "127.0.0.1:\(port)"
        func serverLive() -> Int { server.shared.liveStreams.load(ordering: .relaxed) }
        func clientLive() -> Int { ClientStream.live.withLock { $0[authority, default: 0] } }
        for _ in 0..<200 {
            let _: SimpleResponse = try await client.unary(
                Self.unary, request: SimpleRequest(responseSize: 8), options: CallOptions(timeout: .seconds(30)))
            do {
                let _: SimpleResponse = try await client.unary(
                    Self.unary, request: SimpleRequest(responseStatus: EchoStatus(code: 8, message: "shed")))
                Issue.record("the call asked for status 8 succeeded")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
            }
            let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await client.serverStreaming(
                Self.streamingOutput,
                request: StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 8)])
            )
            for try await _ in call.responses {}
        }
        // Stream objects go when their last reference does, on the event loop and the handler tasks: let them.
        for _ in 0..<200 where serverLive() > 0 || clientLive() > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let serverLeft = serverLive()
        let clientLeft = clientLive()
        #expect(serverLeft == 0 && clientLeft == 0, "alive after the calls: \(serverLeft) server, \(clientLeft) client streams")
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
