import AIMassInterop
import RPCCore
import Synchronization
import Testing

@testable import RPCHTTP2

/// A gate that admits `limit` calls at once and queues the rest first come, first served (resumed as calls end);
/// it records every withdrawal, and reports `saturation` while set.
final class QueueingGate: ServerCallGate {
    struct State {
        var inFlight = 0
        var nextID: UInt64 = 0
        var queue: [(id: UInt64, waiter: CallGateWaiter)] = []
        var queuedEver = 0
        var withdrawn: [UInt64] = []
        var ended = 0
        var saturation: Int?
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
            if state.inFlight < limit {
                state.inFlight += 1
                return .admit(1)
            }
            guard let waiter = call.waiter else { return .reject(RPCError(code: .resourceExhausted, message: "full")) }
            state.nextID += 1
            state.queue.append((state.nextID, waiter))
            state.queuedEver += 1
            return .queued(CallGateQueueID(rawValue: state.nextID))
        }
    }

    func callEnded(_ token: Int, outcome: GatedCallOutcome) {
        let next = state.withLock { state -> CallGateWaiter? in
            state.ended += 1
            guard !state.queue.isEmpty else {
                state.inFlight -= 1
                return nil
            }
            return state.queue.removeFirst().waiter  // the slot passes to the next call
        }
        next?.admit(1)
    }

    func withdraw(_ id: CallGateQueueID) {
        state.withLock { state in
            state.withdrawn.append(id.rawValue)
            state.queue.removeAll { $0.id == id.rawValue }
        }
    }

    var saturation: Int? { state.withLock { $0.saturation } }

    var snapshot: State { state.withLock { $0 } }

    /// Waits (polling, at most 10 s: a bound against hangs) until `condition` holds of what the gate saw.
    func waitUntil(_ condition: (State) -> Bool) async throws {
        for _ in 0..<2000 where !condition(snapshot) { try await Task.sleep(for: .milliseconds(5)) }
    }
}

@Suite("Queued calls and back-pressure on a real socket")
struct QueueingGateTests {
    static let slow = MethodDescriptor(service: "test.Gated", method: "Slow")

    static func withServer(gate: QueueingGate, handler: ParkingHandler, _ body: (RPCClient) async throws -> Void) async throws {
        var router = RPCRouter()
        router.registerUnary(slow) { (request: SimpleRequest, _) in
            await handler.park()
            return SimpleResponse(payload: Payload(body: [UInt8](repeating: 3, count: Int(request.responseSize))))
        }
        try await CallGateTests.serveAny(router: router, gate: gate, handler: handler, body)
    }

    @Test("a queued call waits without running, then is served when a slot frees; each token comes back once")
    func queuedThenServed() async throws {
        let gate = QueueingGate(limit: 1, gated: [Self.slow.path])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            let first = Task { () async throws -> SimpleResponse in try await client.unary(Self.slow, request: SimpleRequest(responseSize: 1)) }
            await handler.waitUntilEntered(1)
            let second = Task { () async throws -> SimpleResponse in try await client.unary(Self.slow, request: SimpleRequest(responseSize: 2)) }
            try await gate.waitUntil { $0.queuedEver >= 1 }
            #expect(gate.snapshot.queuedEver == 1)
            #expect(handler.entered == 1, "the queued call has not started")
            handler.release()
            #expect(try await first.value.payload?.body.count == 1)
            #expect(try await second.value.payload?.body.count == 2)
            try await gate.waitUntil { $0.ended >= 2 }
            let seen = gate.snapshot
            #expect(seen.ended == 2 && seen.withdrawn.isEmpty && seen.queue.isEmpty)
        }
    }

    @Test("a queued call whose deadline passes ends DEADLINE_EXCEEDED, is withdrawn from the gate and never runs")
    func queuedCallDeadline() async throws {
        let gate = QueueingGate(limit: 1, gated: [Self.slow.path])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            let first = Task { () async throws -> SimpleResponse in try await client.unary(Self.slow, request: SimpleRequest(responseSize: 1)) }
            await handler.waitUntilEntered(1)
            _ = await expectRPCError(.deadlineExceeded) {
                let _: SimpleResponse = try await client.unary(
                    Self.slow, request: SimpleRequest(responseSize: 2), options: CallOptions(timeout: .milliseconds(300)))
            }
            try await gate.waitUntil { !$0.withdrawn.isEmpty }
            #expect(gate.snapshot.withdrawn.count == 1 && gate.snapshot.queue.isEmpty)
            handler.release()
            _ = try await first.value
            #expect(handler.entered == 1, "the withdrawn call never ran")
            try await gate.waitUntil { $0.ended >= 1 }
            #expect(gate.snapshot.ended == 1, "only the admitted call hands a token back")
        }
    }

    @Test("while the gate is saturated, a connection holding its share with a call queued stops reading until it resolves")
    func readsPause() async throws {
        let gate = QueueingGate(limit: 1, gated: [Self.slow.path])
        gate.state.withLock { $0.saturation = 1 }  // one connection: its share is 1 call
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            let first = Task { () async throws -> SimpleResponse in try await client.unary(Self.slow, request: SimpleRequest(responseSize: 1)) }
            await handler.waitUntilEntered(1)
            let second = Task { () async throws -> SimpleResponse in try await client.unary(Self.slow, request: SimpleRequest(responseSize: 2)) }
            try await gate.waitUntil { $0.queuedEver >= 1 }
            // Reading is paused now: a third call on the same connection is not even read.
            let third = Task { () async throws -> SimpleResponse in try await client.unary(Self.slow, request: SimpleRequest(responseSize: 3)) }
            // Room for it to arrive, were the server reading (a slow machine can only make this pass vacuously).
            try await Task.sleep(for: .milliseconds(200))
            #expect(gate.snapshot.queuedEver == 1, "the third call never reached the gate while reads were paused")
            handler.release()
            #expect(try await first.value.payload?.body.count == 1)
            #expect(try await second.value.payload?.body.count == 2)
            #expect(try await third.value.payload?.body.count == 3)
            try await gate.waitUntil { $0.ended >= 3 }
            #expect(gate.snapshot.ended == 3 && gate.snapshot.withdrawn.isEmpty)
        }
    }
}
