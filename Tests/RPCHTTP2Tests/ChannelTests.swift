import AIMassInterop
import NIOCore
import RPCCore
import RPCHealth
import Synchronization
import Testing

@testable import RPCHTTP2

/// Adds a bearer token to every call and records how calls ended.
final class TokenInterceptor: ClientInterceptor {
    private let ended = Mutex<[StatusCode]>([])

    func callStarting(_ descriptor: MethodDescriptor, metadata: inout Metadata) throws(RPCError) {
        metadata.add("Bearer ok", forKey: "authorization")
    }

    func callEnded(_ descriptor: MethodDescriptor, status: RPCStatus, duration: Duration) {
        ended.withLock { $0.append(status.code) }
    }

    var statuses: [StatusCode] { ended.withLock { $0 } }
}

/// Counts how many messages a streaming handler managed to write.
final class WriteCounter: Sendable {
    let count = Atomic<Int>(0)
}

@Suite("Client channel", .serialized, .timeLimit(.minutes(5)))
struct ChannelTests {
    static let check = MethodDescriptor(service: HealthService.serviceName, method: "Check")

    static func server(host: String = "127.0.0.1", port: Int = 0, router: RPCRouter, interceptors: [any ServerInterceptor] = [])
        async throws -> (RPCServer, Int)
    {
        let server = RPCServer(
            configuration: .defaults {
                $0.host = host
                $0.port = port
                $0.eventLoopThreads = 1
            },
            router: router,
            interceptors: interceptors
        )
        let address = try await server.start()
        return (server, try #require(address.port))
    }

    @Test("connects over IPv6 loopback")
    func ipv6() async throws {
        let (server, port) = try await Self.server(host: "::1", router: RPCRouter(services: [HealthService()]))
        let client = RPCClient(host: "::1", port: port)
        let response: HealthCheckResponse = try await client.unary(Self.check, request: HealthCheckRequest(), options: CallOptions(timeout: .seconds(5)))
        #expect(response.status == .serving)
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("client interceptors add metadata and see every status")
    func clientInterceptor() async throws {
        let (server, port) = try await Self.server(router: RPCRouter(services: [HealthService()]), interceptors: [AuthInterceptor()])
        let tokens = TokenInterceptor()
        let client = RPCClient(host: "127.0.0.1", port: port, interceptors: [tokens])
        let response: HealthCheckResponse = try await client.unary(Self.check, request: HealthCheckRequest(), options: CallOptions(timeout: .seconds(5)))
        #expect(response.status == .serving)
        _ = await expectRPCError(.notFound) {
            let _: HealthCheckResponse = try await client.unary(Self.check, request: HealthCheckRequest(service: "nope"))
        }
        #expect(tokens.statuses == [.ok, .notFound])
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("grpc-status-details-bin and other trailing metadata reach the client")
    func statusDetails() async throws {
        var router = RPCRouter()
        let details: [UInt8] = [0x08, 0x03, 0x12, 0x04, 0x62, 0x61, 0x64, 0x21]
        router.registerUnary(MethodDescriptor(service: "test.Details", method: "Fail")) { (_: Empty, _) -> Empty in
            var metadata = Metadata()
            metadata.add(binary: details, forKey: "grpc-status-details-bin")
            throw RPCError(code: .invalidArgument, message: "bad request", metadata: metadata)
        }
        let (server, port) = try await Self.server(router: router)
        let client = RPCClient(host: "127.0.0.1", port: port)
        let error = await expectRPCError(.invalidArgument) {
            let _: Empty = try await client.unary(MethodDescriptor(service: "test.Details", method: "Fail"), request: Empty())
        }
        #expect(error?.message == "bad request")
        #expect(error?.metadata.firstBinary(forKey: "grpc-status-details-bin") == details)
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("a client that does not read makes the server's writer wait (bounded buffering)")
    func backPressure() async throws {
        let counter = WriteCounter()
        var router = RPCRouter()
        let descriptor = MethodDescriptor(service: "test.Flood", method: "Stream")
        router.registerServerStreaming(descriptor) { (_: Empty, writer: RPCWriter<SimpleResponse>, _) in
            for _ in 0..<400 {
                try await writer.write(SimpleResponse(payload: Payload(body: [UInt8](repeating: 7, count: 64 * 1024))))
                counter.count.add(1, ordering: .relaxed)
            }
        }
        let (server, port) = try await Self.server(router: router)
        let client = RPCClient(host: "127.0.0.1", port: port)
        let call: ClientCall<Empty, SimpleResponse> = try await client.serverStreaming(descriptor, request: Empty())
        try await Task.sleep(for: .milliseconds(500))
        // 64 KiB messages: the client's windows (1 MiB stream, 8 MiB connection) plus the server's
        // 256 KiB of queued bytes hold a few dozen at most, never all 400.
        let writtenWhileIdle = counter.count.load(ordering: .relaxed)
        #expect(writtenWhileIdle < 60, "the server wrote \(writtenWhileIdle) messages to a client that read none")
        var received = 0
        for try await message in call.responses {
            #expect(message.payload?.body.count == 64 * 1024)
            received += 1
        }
        #expect(received == 400)
        #expect(counter.count.load(ordering: .relaxed) == 400)
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("responses sent before an error status are all read, then the status is thrown")
    func messagesBeforeError() async throws {
        var router = RPCRouter()
        let descriptor = MethodDescriptor(service: "test.Partial", method: "Stream")
        router.registerServerStreaming(descriptor) { (_: Empty, writer: RPCWriter<SimpleResponse>, _) in
            for size in 1...3 { try await writer.write(SimpleResponse(payload: Payload(body: [UInt8](repeating: 1, count: size)))) }
            throw RPCError(code: .aborted, message: "stopped after three")
        }
        let (server, port) = try await Self.server(router: router)
        let client = RPCClient(host: "127.0.0.1", port: port)
        let call: ClientCall<Empty, SimpleResponse> = try await client.serverStreaming(descriptor, request: Empty())
        // Let every frame arrive before reading, so the status is known while messages are still buffered.
        try await Task.sleep(for: .milliseconds(200))
        var sizes: [Int] = []
        let error = await expectRPCError(.aborted) {
            for try await message in call.responses { sizes.append(message.payload?.body.count ?? 0) }
        }
        #expect(sizes == [1, 2, 3])
        #expect(error?.message == "stopped after three")
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("calls fail UNAVAILABLE while nothing listens, then succeed once the server is up")
    func reconnectsWithBackoff() async throws {
        // Find a free port, then leave it closed.
        let (probe, port) = try await Self.server(router: RPCRouter(services: [HealthService()]))
        await probe.shutdown(gracePeriod: .seconds(1))
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: .defaults { $0.initialBackoff = .milliseconds(50) })
        _ = await expectRPCError(.unavailable) {
            let _: HealthCheckResponse = try await client.unary(Self.check, request: HealthCheckRequest())
        }
        let (server, _) = try await Self.server(port: port, router: RPCRouter(services: [HealthService()]))
        // A bound against hangs only: a fixed number of tries 100 ms apart is a wall-clock bound load can break.
        let deadline = ContinuousClock.now + .seconds(120)
        var succeeded = false
        while !succeeded && ContinuousClock.now < deadline {
            do {
                let response: HealthCheckResponse = try await client.unary(Self.check, request: HealthCheckRequest())
                succeeded = response.status == .serving
            } catch let error as RPCError where error.code == .unavailable {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(succeeded, "no successful call within 120 s of the server starting")
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}

@Suite("Idle spinner")
struct IdleSpinnerTests {
    @Test("a server with the idle spinner serves calls and shuts down")
    func servesWithSpinner() async throws {
        let server = RPCServer(
            configuration: .defaults {
                $0.port = 0
                $0.eventLoopThreads = 1
                $0.busyPollWindow = .milliseconds(1)
            },
            router: RPCRouter(services: [HealthService()])
        )
        let port = try #require(try await server.start().port)
        let client = RPCClient(host: "127.0.0.1", port: port)
        for _ in 0..<20 {
            let response: HealthCheckResponse = try await client.unary(
                ChannelTests.check, request: HealthCheckRequest(), options: CallOptions(timeout: .seconds(5)))
            #expect(response.status == .serving)
        }
        // Past the window the spinner sleeps; a later call wakes it and is served as well.
        try await Task.sleep(for: .milliseconds(20))
        let late: HealthCheckResponse = try await client.unary(ChannelTests.check, request: HealthCheckRequest())
        #expect(late.status == .serving)
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
