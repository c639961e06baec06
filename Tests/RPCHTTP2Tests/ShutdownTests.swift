import AIMassInterop
import Foundation
import RPCCore
import Synchronization
import Testing

@testable import RPCHTTP2

@Suite("Server shutdown with handlers still running")
struct ShutdownTests {
    static let busy = MethodDescriptor(service: "test.Shutdown", method: "Busy")

    /// A loopback server with `router` (one event loop) and a client of it.
    static func start(_ router: RPCRouter) async throws -> (RPCServer, RPCClient) {
        let server = RPCServer(
            configuration: .defaults {
                $0.host = "127.0.0.1"
                $0.port = 0
                $0.eventLoopThreads = 1
            },
            router: router
        )
        let port = try #require(try await server.start().port)
        return (server, RPCClient(host: "127.0.0.1", port: port))
    }

    @Test("a handler that writes after its connection closed gets an error, never a lost hop, and shutdown ends")
    func handlerWritingAfterShutdownIsTold() async throws {
        let entered = Atomic<Bool>(false)
        let outcome = Mutex<String?>(nil)
        var router = RPCRouter(services: [])
        router.registerServerStreaming(Self.busy) { (_: Empty, writer: RPCWriter<Empty>, context) in
            entered.store(true, ordering: .relaxed)
            // Work that does not stop when cancelled (like model work on a thread): it outlasts the grace period and
            // the connection, and writes only once the server has closed its connection (cancelling the call).
            await withCheckedContinuation { continuation in
                context.onCancel {
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { continuation.resume() }
                }
            }
            do {
                try await writer.write(Empty())
                outcome.withLock { $0 = "written" }
            } catch {
                outcome.withLock { $0 = "error" }
            }
        }
        let (server, client) = try await Self.start(router)
        let call: ClientCall<Empty, Empty> = try await client.serverStreaming(Self.busy, request: Empty())
        for _ in 0..<2000 where !entered.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        let handlerRan = entered.load(ordering: .relaxed)
        #expect(handlerRan)

        await server.shutdown(gracePeriod: .milliseconds(20))
        // The handler's write came after its connection was closed: it must have been answered (an error), not
        // dropped with the event loop, which would leave the handler suspended forever.
        #expect(outcome.withLock { $0 } == "error")
        call.cancel()
        await client.close()
    }

    @Test("the grace period is kept: a call that would run for a minute does not hold shutdown up")
    func gracePeriodIsKept() async throws {
        let entered = Atomic<Bool>(false)
        var router = RPCRouter(services: [])
        router.registerServerStreaming(Self.busy) { (_: Empty, writer: RPCWriter<Empty>, _) in
            entered.store(true, ordering: .relaxed)
            try await Task.sleep(for: .seconds(60))
            try await writer.write(Empty())
        }
        let (server, client) = try await Self.start(router)
        let call: ClientCall<Empty, Empty> = try await client.serverStreaming(Self.busy, request: Empty())
        for _ in 0..<2000 where !entered.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }

        let started = ContinuousClock.now
        await server.shutdown(gracePeriod: .milliseconds(100))
        // Not a speed figure: before, shutdown waited for every call to end whatever the grace period.
        #expect(ContinuousClock.now - started < .seconds(30))
        await #expect(throws: RPCError.self) {
            for try await _ in call.responses {}
        }
        await client.close()
    }
}
