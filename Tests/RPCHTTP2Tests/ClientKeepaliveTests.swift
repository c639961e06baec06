import NIOCore
import NIOPosix
import RPCCore
import RPCHealth
import Testing

@testable import RPCHTTP2

/// Accepts connections and reads what arrives, but never answers (a peer behind a silent partition).
private final class SilentPeer: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Client keepalive (``ClientConfiguration/Keepalive``): a silent server is noticed, a live one is not mistaken for it.
@Suite("Client keepalive", .serialized, .timeLimit(.minutes(5)))
struct ClientKeepaliveTests {
    static let watch = MethodDescriptor(service: HealthService.serviceName, method: "Watch")
    static let keepalive = ClientConfiguration.Keepalive(interval: .milliseconds(200), timeout: .milliseconds(200))

    @Test("A stream to a server that never answers fails UNAVAILABLE naming the keepalive")
    func silentServer() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { $0.pipeline.addHandler(SilentPeer()) }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: .defaults { $0.keepalive = Self.keepalive })
        let call: ClientCall<HealthCheckRequest, HealthCheckResponse> = try await client.serverStreaming(
            Self.watch, request: HealthCheckRequest()
        )
        // Without keepalive this waits forever (the suite's time limit would end it).
        let error = await #expect(throws: RPCError.self) { for try await _ in call.responses {} }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("keepalive") == true, "\(String(describing: error))")
        await client.close()
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("A quiet stream to a live server survives many keepalive intervals (its PINGs are answered)")
    func liveServer() async throws {
        let health = HealthService()
        health.setStatus(.serving, for: "svc")
        let server = RPCServer(
            configuration: .defaults {
                $0.host = "127.0.0.1"
                $0.port = 0
                $0.eventLoopThreads = 1
            },
            router: RPCRouter(services: [health])
        )
        let port = try #require(try await server.start().port)
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: .defaults { $0.keepalive = Self.keepalive })
        let call: ClientCall<HealthCheckRequest, HealthCheckResponse> = try await client.serverStreaming(
            Self.watch, request: HealthCheckRequest(service: "svc")
        )
        var responses = call.responses.makeAsyncIterator()
        #expect(try await responses.next()?.status == .serving)
        // Quiet for ten keepalive intervals (a measurement window): the PINGs go out and are acknowledged.
        try await Task.sleep(for: .seconds(2))
        health.setStatus(.notServing, for: "svc")
        #expect(try await responses.next()?.status == .notServing)
        call.cancel()
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
