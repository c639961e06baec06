import AIMassInterop
import NIOCore
import RPCCore
import RPCHealth
import Synchronization
import Testing

@testable import RPCHTTP2

/// A server on 127.0.0.1 (port 0) serving TestService and HealthService, and a client to it.
struct Harness {
    let server: RPCServer
    let client: RPCClient
    let health: HealthService
    let port: Int

    static func start(
        configuration: ServerConfiguration = .defaults { $0.eventLoopThreads = 2 },
        interceptors: [any ServerInterceptor] = []
    ) async throws -> Harness {
        let health = HealthService()
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        // A test-local router: the two services plus a method that always fails.
        var router = RPCRouter(services: [TestService(), health])
        router.registerInlineUnary(MethodDescriptor(service: "test.Local", method: "Fail")) {
            (_: Empty, _) throws(RPCError) -> Empty in
            throw RPCError(code: .failedPrecondition, message: "always fails")
        }
        let server = RPCServer(configuration: configuration, router: router, interceptors: interceptors)
        let address = try await server.start()
        let port = try #require(address.port)
        #expect(port > 0)
        let client = RPCClient(host: "127.0.0.1", port: port)
        return Harness(server: server, client: client, health: health, port: port)
    }

    func stop() async {
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    /// Runs `body` with a started harness and always stops it.
    static func with<T>(
        configuration: ServerConfiguration = .defaults { $0.eventLoopThreads = 2 },
        interceptors: [any ServerInterceptor] = [],
        _ body: (Harness) async throws -> T
    ) async throws -> T {
        let harness = try await start(configuration: configuration, interceptors: interceptors)
        do {
            let result = try await body(harness)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    static func method(_ name: String, service: String = TestService.serviceName) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name)
    }
}

/// Runs `body`, which must fail with an ``RPCError``; returns it (or nil after recording an issue).
func expectRPCError(
    _ code: StatusCode,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        #expect(error.code == code, "expected \(code), got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Rejects calls without an `authorization` value; counts the calls it saw end.
final class AuthInterceptor: ServerInterceptor {
    private let ended = Mutex<[(String, StatusCode)]>([])

    func callStarted(_ context: ServerContext) throws(RPCError) {
        guard let value = context.requestMetadata.firstString(forKey: "authorization"), value == "Bearer ok" else {
            throw RPCError(code: .unauthenticated, message: "missing or wrong authorization")
        }
    }

    func callEnded(_ context: ServerContext, status: RPCStatus, duration: Duration) {
        ended.withLock { $0.append((context.descriptor.method, status.code)) }
    }

    var endedCalls: [(String, StatusCode)] { ended.withLock { $0 } }
}

@Suite("RPCServer and RPCClient over loopback", .serialized, .timeLimit(.minutes(5)))
struct ServerClientTests {
    @Test("every interop client case passes", arguments: InteropClientCase.allCases)
    func interop(testCase: InteropClientCase) async throws {
        try await Harness.with { harness in
            try await testCase.run(with: harness.client)
        }
    }

    @Test("200 concurrent unary calls on one client connection")
    func concurrentUnary() async throws {
        try await Harness.with { harness in
            let sizes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let response: SimpleResponse = try await harness.client.unary(
                            Harness.method("UnaryCall"),
                            request: SimpleRequest(responseSize: Int32(index * 10), payload: Payload(body: [UInt8](repeating: 1, count: index))),
                            options: CallOptions(timeout: .seconds(20))
                        )
                        return (index, response.payload?.body.count ?? -1)
                    }
                }
                var sizes: [Int: Int] = [:]
                for try await (index, size) in group { sizes[index] = size }
                return sizes
            }
            #expect(sizes.count == 200)
            for index in 0..<200 { #expect(sizes[index] == index * 10, "call \(index)") }
        }
    }

    @Test("a 3 MiB message each way, bigger than every flow-control window")
    func largeMessage() async throws {
        // Windows smaller than the message: the transfer needs several WINDOW_UPDATEs.
        let configuration = ServerConfiguration.defaults {
            $0.eventLoopThreads = 2
            $0.initialStreamWindowSize = 256 * 1024
            $0.connectionWindowSize = 1024 * 1024
        }
        try await Harness.with(configuration: configuration) { harness in
            let size = 3 * 1024 * 1024
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let response: SimpleResponse = try await harness.client.unary(
                Harness.method("UnaryCall"),
                request: SimpleRequest(responseSize: Int32(size), payload: Payload(body: body)),
                options: CallOptions(timeout: .seconds(20))
            )
            #expect(response.payload?.body.count == size)
            #expect(response.payload?.body.allSatisfy { $0 == 0 } == true)

            // And a 3 MiB message streamed back by a streaming method.
            let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await harness.client.serverStreaming(
                Harness.method("StreamingOutputCall"),
                request: StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: Int32(size)), ResponseParameters(size: 1)]),
                options: CallOptions(timeout: .seconds(20))
            )
            var received: [Int] = []
            for try await message in call.responses { received.append(message.payload?.body.count ?? -1) }
            #expect(received == [size, 1])
            #expect(call.status?.code == .ok)
        }
    }

    @Test("a 5 MiB request is RESOURCE_EXHAUSTED, and the client keeps working")
    func tooLargeRequest() async throws {
        try await Harness.with { harness in
            let error = await expectRPCError(.resourceExhausted) {
                let _: SimpleResponse = try await harness.client.unary(
                    Harness.method("UnaryCall"),
                    request: SimpleRequest(responseSize: 1, payload: Payload(body: [UInt8](repeating: 3, count: 5 * 1024 * 1024))),
                    options: CallOptions(timeout: .seconds(20))
                )
            }
            #expect(error != nil)
            let response: SimpleResponse = try await harness.client.unary(
                Harness.method("UnaryCall"),
                request: SimpleRequest(responseSize: 42, payload: Payload(body: [1, 2, 3])),
                options: CallOptions(timeout: .seconds(10))
            )
            #expect(response.payload?.body.count == 42)
        }
    }

    @Test("a 50 ms deadline on a sleeping server-streaming call is DEADLINE_EXCEEDED, quickly")
    func deadline() async throws {
        try await Harness.with { harness in
            let clock = ContinuousClock()
            let start = clock.now
            _ = await expectRPCError(.deadlineExceeded) {
                let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await harness.client.serverStreaming(
                    Harness.method("StreamingOutputCall"),
                    request: StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 10, intervalMicroseconds: 2_000_000)]),
                    options: CallOptions(timeout: .milliseconds(50))
                )
                while try await call.next() != nil {}
            }
            // Not before the deadline; no upper bound in wall-clock time (a loaded machine may be slow to answer):
            // that the call ended at its deadline, not with its stream, is the DEADLINE_EXCEEDED status itself.
            #expect(clock.now - start >= .milliseconds(45))

            // The server is unaffected.
            let _: Empty = try await harness.client.unary(Harness.method("EmptyCall"), request: Empty())
        }
    }

    @Test("an interceptor guards inline and streaming methods alike")
    func interceptor() async throws {
        let interceptor = AuthInterceptor()
        try await Harness.with(interceptors: [interceptor]) { harness in
            let good = CallOptions(timeout: .seconds(10), metadata: ["Authorization": "Bearer ok"])
            let wrong = CallOptions(timeout: .seconds(10), metadata: ["authorization": "Bearer nope"])
            for options in [CallOptions(timeout: .seconds(10)), wrong] {
                // UnaryCall is registered inline (answered on the I/O thread).
                let unaryError = await expectRPCError(.unauthenticated) {
                    let _: SimpleResponse = try await harness.client.unary(
                        Harness.method("UnaryCall"), request: SimpleRequest(responseSize: 1), options: options)
                }
                #expect(unaryError?.message == "missing or wrong authorization")
                // StreamingOutputCall runs as a task.
                _ = await expectRPCError(.unauthenticated) {
                    let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await harness.client.serverStreaming(
                        Harness.method("StreamingOutputCall"),
                        request: StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 5)]),
                        options: options
                    )
                    while try await call.next() != nil {}
                }
                // Client streaming too.
                _ = await expectRPCError(.unauthenticated) {
                    let call: ClientCall<StreamingInputCallRequest, StreamingInputCallResponse> = try await harness.client.makeCall(
                        Harness.method("StreamingInputCall"), options: options)
                    try? await call.send(StreamingInputCallRequest(payload: Payload(body: [1])))
                    call.finishSending()
                    while try await call.next() != nil {}
                }
            }

            let response: SimpleResponse = try await harness.client.unary(
                Harness.method("UnaryCall"), request: SimpleRequest(responseSize: 7), options: good)
            #expect(response.payload?.body.count == 7)
            let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await harness.client.serverStreaming(
                Harness.method("StreamingOutputCall"),
                request: StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 5), ResponseParameters(size: 6)]),
                options: good
            )
            var sizes: [Int] = []
            for try await message in call.responses { sizes.append(message.payload?.body.count ?? -1) }
            #expect(sizes == [5, 6])
        }
        // callEnded saw the two successful calls with OK.
        let ended = interceptor.endedCalls
        #expect(ended.contains { $0.0 == "UnaryCall" && $0.1 == .ok })
        #expect(ended.contains { $0.0 == "StreamingOutputCall" && $0.1 == .ok })
    }

    @Test("graceful shutdown: the in-flight call completes, a new call is UNAVAILABLE", .timeLimit(.minutes(5)))
    func gracefulShutdown() async throws {
        let harness = try await Harness.start()
        let client = harness.client
        let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await client.serverStreaming(
            Harness.method("StreamingOutputCall"),
            request: StreamingOutputCallRequest(responseParameters: [
                ResponseParameters(size: 1, intervalMicroseconds: 10_000),
                ResponseParameters(size: 2, intervalMicroseconds: 600_000),
                ResponseParameters(size: 3, intervalMicroseconds: 300_000),
            ]),
            options: CallOptions(timeout: .seconds(10))
        )
        // The server is running the handler once the first response arrived.
        let first = try await call.next()
        #expect(first?.payload?.body.count == 1)

        // A grace period far longer than the call: shutdown returning at all shows it waited for the call, not for
        // the whole period (the suite's time limit catches a hang).
        let shutdown = Task { await harness.server.shutdown(gracePeriod: .seconds(3600)) }

        // New calls are refused once the drain has begun (polled: the shutdown starts on another task).
        var refused: RPCError?
        for _ in 0..<2000 where refused == nil {
            do {
                let _: Empty = try await client.unary(
                    Harness.method("EmptyCall"), request: Empty(), options: CallOptions(timeout: .seconds(5)))
                try await Task.sleep(for: .milliseconds(5))
            } catch let error as RPCError {
                refused = error
            }
        }
        #expect(refused?.code == .unavailable, "\(String(describing: refused))")

        var rest: [Int] = []
        for try await message in call.responses { rest.append(message.payload?.body.count ?? -1) }
        #expect(rest == [2, 3])
        #expect(call.status?.code == .ok)

        await shutdown.value
        await client.close()
    }

    @Test("Health Watch sees SERVING, then NOT_SERVING")
    func healthWatch() async throws {
        try await Harness.with { harness in
            let check: HealthCheckResponse = try await harness.client.unary(
                Harness.method("Check", service: HealthService.serviceName), request: HealthCheckRequest())
            #expect(check.status == .serving)

            let call: ClientCall<HealthCheckRequest, HealthCheckResponse> = try await harness.client.serverStreaming(
                Harness.method("Watch", service: HealthService.serviceName),
                request: HealthCheckRequest(service: ""),
                options: CallOptions(timeout: .seconds(10))
            )
            #expect(try await call.next()?.status == .serving)
            harness.health.setStatus(.notServing, for: "")
            #expect(try await call.next()?.status == .notServing)
            harness.health.setStatus(.serving, for: "")
            #expect(try await call.next()?.status == .serving)
            call.cancel()

            let after: HealthCheckResponse = try await harness.client.unary(
                Harness.method("Check", service: HealthService.serviceName), request: HealthCheckRequest())
            #expect(after.status == .serving)
            _ = await expectRPCError(.notFound) {
                let _: HealthCheckResponse = try await harness.client.unary(
                    Harness.method("Check", service: HealthService.serviceName), request: HealthCheckRequest(service: "no.such.Service"))
            }
        }
    }

    @Test("unknown methods and services are UNIMPLEMENTED; handler errors keep their status")
    func unknownMethod() async throws {
        try await Harness.with { harness in
            let method = await expectRPCError(.unimplemented) {
                let _: Empty = try await harness.client.unary(Harness.method("NoSuchMethod"), request: Empty())
            }
            #expect(method?.message.contains("NoSuchMethod") == true)
            _ = await expectRPCError(.unimplemented) {
                let _: Empty = try await harness.client.unary(Harness.method("Check", service: "no.such.Service"), request: Empty())
            }
            let local = await expectRPCError(.failedPrecondition) {
                let _: Empty = try await harness.client.unary(Harness.method("Fail", service: "test.Local"), request: Empty())
            }
            #expect(local?.message == "always fails")
            // The status message survives percent-encoding both ways.
            let special = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
            let echoed = await expectRPCError(.unknown) {
                let _: SimpleResponse = try await harness.client.unary(
                    Harness.method("UnaryCall"),
                    request: SimpleRequest(responseStatus: EchoStatus(code: 2, message: special)))
            }
            #expect(echoed?.message == special)
        }
    }

    @Test("a huge client timeout does not crash, and the call succeeds")
    func hugeTimeout() async throws {
        try await Harness.with { harness in
            let _: Empty = try await harness.client.unary(
                Harness.method("EmptyCall"), request: Empty(), options: CallOptions(timeout: .seconds(Int64.max / 2)))
        }
    }
}
