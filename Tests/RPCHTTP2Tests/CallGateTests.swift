import AIMassInterop
import RPCCore
import RPCHealth
import Synchronization
import Testing

@testable import RPCHTTP2

/// A gate admitting at most `limit` gated calls at once; sheds with `retry-after-ms: 7` and records what it saw.
final class LimitGate: ServerCallGate {
    struct State {
        var inFlight = 0
        var admitted = 0
        var shed = 0
        var outcomes: [GatedCallOutcome] = []
        var sawPriority: [String] = []
    }
    let limit: Int
    let gated: Set<String>
    let state = Mutex(State())

    init(limit: Int, gated: Set<String>) {
        self.limit = limit
        self.gated = gated
    }

    func gates(_ method: MethodDescriptor) -> Bool { gated.contains(method.path) }

    func admit(_ call: GatedCall) -> CallGateDecision<Int> {
        state.withLock { state in
            if let priority = call.metadata.firstString(forKey: "priority") { state.sawPriority.append(priority) }
            guard state.inFlight < limit else {
                state.shed += 1
                return .reject(RPCError(code: .resourceExhausted, message: "test gate full", metadata: ["retry-after-ms": "7"]))
            }
            state.inFlight += 1
            state.admitted += 1
            return .admit(state.admitted)
        }
    }

    func callEnded(_ token: Int, outcome: GatedCallOutcome) {
        state.withLock { state in
            state.inFlight -= 1
            state.outcomes.append(outcome)
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Waits (polling, at most 10 s) until `count` admitted calls have ended on the server.
    func waitForOutcomes(_ count: Int) async {
        for _ in 0..<2000 where snapshot.outcomes.count < count {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A handler that parks every call until released, counting the calls that reached it.
final class ParkingHandler: Sendable {
    private struct State {
        var entered = 0
        var released = false
        var parked: [CheckedContinuation<Void, Never>] = []
        var enteredWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    /// How many calls reached the handler.
    var entered: Int { state.withLock { $0.entered } }

    /// The handler's body: counts the call, then waits until ``release()`` (at once if already released).
    func park() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.entered += 1
                if state.released { return [continuation] }
                state.parked.append(continuation)
                let entered = state.entered
                let ready = state.enteredWaiters.filter { $0.count <= entered }.map(\.continuation)
                state.enteredWaiters.removeAll { $0.count <= entered }
                return ready
            }
            for waiter in ready { waiter.resume() }
        }
    }

    /// Returns once `count` calls have reached the handler.
    func waitUntilEntered(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.entered >= count { return true }
                state.enteredWaiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets every parked call, and every later one, finish.
    func release() {
        let parked = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.released = true
            defer { state.parked = [] }
            return state.parked
        }
        for continuation in parked { continuation.resume() }
    }
}

@Suite("Call gate on a real socket")
struct CallGateTests {
    static let slow = MethodDescriptor(service: "test.Gated", method: "Slow")
    static let emptyCall = MethodDescriptor(service: TestService.serviceName, method: "EmptyCall")
    static let healthCheck = MethodDescriptor(service: HealthService.serviceName, method: "Check")

    /// A server with TestService, health and `test.Gated/Slow` (parked by `handler`), gating only `Slow`.
    static func withServer(
        gate: LimitGate,
        handler: ParkingHandler,
        configuration: ServerConfiguration = .defaults { $0.eventLoopThreads = 1 },
        _ body: (RPCClient) async throws -> Void
    ) async throws {
        var router = RPCRouter(services: [TestService(), HealthService()])
        router.registerUnary(slow) { (_: Empty, _) in
            await handler.park()
            return Empty()
        }
        try await serve(router: router, gate: gate, handler: handler, configuration: configuration, body)
    }

    /// Serves `router` on a port of its own behind `gate`, runs `body` with a client, then releases `handler`'s
    /// parked calls and shuts down (also when `body` throws).
    static func serve(
        router: RPCRouter,
        gate: LimitGate,
        handler: ParkingHandler,
        configuration: ServerConfiguration = .defaults { $0.eventLoopThreads = 1 },
        _ body: (RPCClient) async throws -> Void
    ) async throws {
        try await serveAny(router: router, gate: gate, handler: handler, configuration: configuration, body)
    }

    /// ``serve(router:gate:handler:configuration:_:)`` behind any gate.
    static func serveAny(
        router: RPCRouter,
        gate: some ServerCallGate,
        handler: ParkingHandler,
        configuration: ServerConfiguration = .defaults { $0.eventLoopThreads = 1 },
        _ body: (RPCClient) async throws -> Void
    ) async throws {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let server = RPCServer(configuration: configuration, router: router, callGate: gate)
        let port = try #require(try await server.start().port)
        let client = RPCClient(host: "127.0.0.1", port: port)
        do {
            try await body(client)
        } catch {
            handler.release()
            await client.close()
            await server.shutdown(gracePeriod: .seconds(1))
            throw error
        }
        handler.release()
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("limit 1: a second call is RESOURCE_EXHAUSTED with retry-after-ms before its handler runs; the slot frees")
    func shedsOverLimit() async throws {
        let gate = LimitGate(limit: 1, gated: [Self.slow.path])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            let first = Task { () async throws -> Empty in try await client.unary(Self.slow, request: Empty()) }
            await handler.waitUntilEntered(1)

            let shed = await expectRPCError(.resourceExhausted) {
                let _: Empty = try await client.unary(
                    Self.slow, request: Empty(), options: CallOptions(metadata: ["priority": "critical"]))
            }
            #expect(shed?.metadata.firstString(forKey: "retry-after-ms") == "7")
            #expect(shed?.message == "test gate full")
            #expect(handler.entered == 1, "the shed call's handler must never run")
            #expect(gate.snapshot.sawPriority == ["critical"], "the gate sees the request metadata")

            // Ungated methods answer while the gated one is full.
            let health: HealthCheckResponse = try await client.unary(Self.healthCheck, request: HealthCheckRequest())
            #expect(health.status == .serving)
            let _: Empty = try await client.unary(Self.emptyCall, request: Empty())

            handler.release()
            _ = try await first.value
            let _: Empty = try await client.unary(Self.slow, request: Empty())
            #expect(handler.entered == 2)
            let seen = gate.snapshot
            #expect(seen.admitted == 2 && seen.shed == 1 && seen.inFlight == 0)
            #expect(seen.outcomes.count == 2 && seen.outcomes.allSatisfy(\.succeeded))
        }
    }

    @Test("ungated methods (health, unary, streaming) are never shed, even by a gate that sheds everything")
    func ungatedNeverShed() async throws {
        let gate = LimitGate(limit: 0, gated: [Self.slow.path, "/not.Registered/Method"])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            for _ in 0..<20 {
                let _: HealthCheckResponse = try await client.unary(Self.healthCheck, request: HealthCheckRequest())
                let _: Empty = try await client.unary(Self.emptyCall, request: Empty())
                let _: SimpleResponse = try await client.unary(
                    MethodDescriptor(service: TestService.serviceName, method: "UnaryCall"),
                    request: SimpleRequest(responseSize: 10))
            }
            let call: ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> = try await client.makeCall(
                MethodDescriptor(service: TestService.serviceName, method: "FullDuplexCall"))
            try await call.send(StreamingOutputCallRequest(responseParameters: [ResponseParameters(size: 5)]))
            call.finishSending()
            var responses = 0
            for try await _ in call.responses { responses += 1 }
            #expect(responses == 1)
            _ = await expectRPCError(.resourceExhausted) { let _: Empty = try await client.unary(Self.slow, request: Empty()) }
            #expect(gate.snapshot.shed == 1 && handler.entered == 0)
        }
    }

    @Test("an admitted gated call with a deadline ends at it and its token comes back (once, with the call's end)")
    func admittedCallKeepsItsDeadline() async throws {
        let gate = LimitGate(limit: 1, gated: [Self.slow.path])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            _ = await expectRPCError(.deadlineExceeded) {
                let _: Empty = try await client.unary(
                    Self.slow, request: Empty(), options: CallOptions(timeout: .milliseconds(200)))
            }
            await gate.waitForOutcomes(1)
            #expect(gate.snapshot.admitted == 1 && gate.snapshot.inFlight == 0)
            // The server's timer starts at admission, a little after the client's: whichever fires first ends it.
            #expect([.deadlineExceeded, .cancelled].contains(gate.snapshot.outcomes.first?.code))
            #expect(gate.snapshot.outcomes.count == 1)
        }
    }

    @Test("shed calls free their streams and discard their request data; a cancelled admitted call is handed back")
    func nothingLeaks() async throws {
        let gate = LimitGate(limit: 0, gated: [Self.slow.path, Self.unaryCall.path])
        let handler = ParkingHandler()
        // 4 streams per connection: leaked streams would block the connection after 4 sheds.
        let configuration = ServerConfiguration.defaults {
            $0.eventLoopThreads = 1
            $0.maxConcurrentStreams = 4
        }
        try await Self.withServer(gate: gate, handler: handler, configuration: configuration) { client in
            let big = SimpleRequest(responseSize: 1, payload: Payload(body: [UInt8](repeating: 7, count: 200_000)))
            for _ in 0..<40 {
                _ = await expectRPCError(.resourceExhausted) {
                    let _: SimpleResponse = try await client.unary(Self.unaryCall, request: big)
                }
            }
            let _: Empty = try await client.unary(Self.emptyCall, request: Empty())
            #expect(gate.snapshot.shed == 40 && gate.snapshot.admitted == 0 && gate.snapshot.outcomes.isEmpty)
        }

        let oneSlot = LimitGate(limit: 1, gated: [Self.slow.path])
        let parked = ParkingHandler()
        try await Self.withServer(gate: oneSlot, handler: parked) { client in
            // The client cancels an admitted call (RST_STREAM): its token comes back once, CANCELLED.
            let cancelled = Task { () async throws -> Empty in try await client.unary(Self.slow, request: Empty()) }
            await parked.waitUntilEntered(1)
            cancelled.cancel()
            _ = try? await cancelled.value
            await oneSlot.waitForOutcomes(1)
            let afterCancel = oneSlot.snapshot
            #expect(afterCancel.inFlight == 0 && afterCancel.outcomes.count == 1)
            #expect(afterCancel.outcomes.first?.code == .cancelled)
            // The freed slot admits the next call.
            parked.release()
            let _: Empty = try await client.unary(Self.slow, request: Empty())
            #expect(oneSlot.snapshot.admitted == 2 && oneSlot.snapshot.inFlight == 0)
        }
    }

    static let unaryCall = MethodDescriptor(service: TestService.serviceName, method: "UnaryCall")
}
