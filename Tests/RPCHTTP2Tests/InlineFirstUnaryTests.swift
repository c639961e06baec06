import AIMassInterop
import RPCCore
import Testing

@testable import RPCHTTP2

/// `RPCRouter.registerUnary(_:inlineFirst:)` on a real socket: answered on the I/O thread, or continued as a task,
/// with errors from either part reaching the client and a gated call's token handed back exactly once either way.
@Suite("Inline-first unary methods")
struct InlineFirstUnaryTests {
    static let method = MethodDescriptor(service: "test.Inline", method: "Echo")

    /// `response_size` 0: INVALID_ARGUMENT inline; under 100: answered inline; 100–999: continued as a task that
    /// parks in `handler`; 1000 and more: a task that fails with FAILED_PRECONDITION.
    static func withServer(
        gate: LimitGate, handler: ParkingHandler, _ body: (RPCClient) async throws -> Void
    ) async throws {
        var router = RPCRouter()
        router.registerUnary(method, inlineFirst: { (request: SimpleRequest, _) throws(RPCError) in
            let size = Int(request.responseSize)
            switch size {
            case 0:
                throw RPCError(code: .invalidArgument, message: "response_size is required")
            case 1..<100:
                return .response(SimpleResponse(payload: Payload(body: [UInt8](repeating: 1, count: size))))
            case 100..<1000:
                return .continueAsync {
                    await handler.park()
                    return SimpleResponse(payload: Payload(body: [UInt8](repeating: 2, count: size)))
                }
            default:
                return .continueAsync { throw RPCError(code: .failedPrecondition, message: "too large: \(size)") }
            }
        })
        try await CallGateTests.serve(router: router, gate: gate, handler: handler, body)
    }

    static func call(_ client: RPCClient, size: Int32) async throws -> SimpleResponse {
        try await client.unary(method, request: SimpleRequest(responseSize: size))
    }

    @Test("answered inline: the response, or the inline error as the call's status; the gate sees each call end")
    func inlineAnswers() async throws {
        let gate = LimitGate(limit: 1, gated: [Self.method.path])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            for size in [1, 50, 99] as [Int32] {
                let response = try await Self.call(client, size: size)
                #expect(response.payload?.body == [UInt8](repeating: 1, count: Int(size)))
            }
            let error = await expectRPCError(.invalidArgument) { _ = try await Self.call(client, size: 0) }
            #expect(error?.message == "response_size is required")
            #expect(handler.entered == 0, "no call went to a task")
            await gate.waitForOutcomes(4)
            let seen = gate.snapshot
            #expect(seen.admitted == 4 && seen.inFlight == 0 && seen.shed == 0)
            #expect(seen.outcomes.map(\.code) == [.ok, .ok, .ok, .invalidArgument])
        }
    }

    @Test("continued as a task: it keeps its gate slot until it ends, then answers; its error reaches the client")
    func continuedAsTask() async throws {
        let gate = LimitGate(limit: 1, gated: [Self.method.path])
        let handler = ParkingHandler()
        try await Self.withServer(gate: gate, handler: handler) { client in
            let parked = Task { try await Self.call(client, size: 300) }
            await handler.waitUntilEntered(1)
            // The continued call still holds the only slot: an inline-answerable call is shed meanwhile.
            _ = await expectRPCError(.resourceExhausted) { _ = try await Self.call(client, size: 10) }
            handler.release()
            let response = try await parked.value
            #expect(response.payload?.body == [UInt8](repeating: 2, count: 300))

            let error = await expectRPCError(.failedPrecondition) { _ = try await Self.call(client, size: 5000) }
            #expect(error?.message == "too large: 5000")
            let after = try await Self.call(client, size: 7)
            #expect(after.payload?.body.count == 7)
            await gate.waitForOutcomes(3)
            let seen = gate.snapshot
            #expect(seen.admitted == 3 && seen.shed == 1 && seen.inFlight == 0, "every token handed back once")
            #expect(seen.outcomes.map(\.code) == [.ok, .failedPrecondition, .ok])
        }
    }
}
