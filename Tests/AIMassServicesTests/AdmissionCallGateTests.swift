import AIMassAPI
import NIOCore
import RPCCore
import RPCHTTP2
import RPCHealth
import SchedulerCore
import Synchronization
import Testing

@testable import AIMassServer
@testable import AIMassServices

@Suite("AdmissionCallGate")
struct AdmissionCallGateTests {
    static let recommend = RecommendMethods.recommend
    static let healthCheck = MethodDescriptor(service: HealthService.serviceName, method: "Check")

    /// A server whose `Recommend` sleeps `k` milliseconds and counts its calls, behind the worker's gate.
    static func withServer(gate: AdmissionCallGate, _ body: (RPCClient, HandledCounter) async throws -> Void) async throws {
        let handled = HandledCounter()
        var router = RPCRouter(services: [HealthService()])
        router.registerUnary(recommend) { (request: RecommendRequest, _) in
            handled.value.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(Int(request.k)))
            return RecommendResponse()
        }
        let server = RPCServer(
            configuration: .defaults {
                $0.port = 0
                $0.eventLoopThreads = 1
            },
            router: router, callGate: gate
        )
        let port = try #require(try await server.start().port)
        let client = RPCClient(host: "127.0.0.1", port: port)
        do {
            try await body(client, handled)
        } catch {
            await client.close()
            await server.shutdown(gracePeriod: .seconds(1))
            throw error
        }
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("gates Recommend and SimilarItems only: never health, the registry, Join, Watch or Evaluate")
    func gatedMethods() {
        let gate = AdmissionCallGate.recommendInference(cores: 2)
        #expect(gate.gates(Self.recommend))
        #expect(gate.gates(RecommendMethods.similarItems))
        for ungated in [
            RecommendMethods.evaluate,
            SchedulerMethods.join,
            MeshMethods.watch,
            ModelRegistryMethods.listModels,
            Self.healthCheck,
            MethodDescriptor(service: HealthService.serviceName, method: "Watch"),
        ] {
            #expect(!gate.gates(ungated), "\(ungated.path)")
        }
        #expect(gate.limit == 64, "32 per core to start")
    }

    @Test("a deadline shorter than the expected service time is shed at once, before the handler runs")
    func deadlineTooShort() async throws {
        let gate = AdmissionCallGate.recommendInference(cores: 1)
        try await Self.withServer(gate: gate) { client, handled in
            // One call that takes 3 s teaches the gate its service time (long, so that a 1 s deadline is short for
            // it but long enough to reach the gate on a busy machine).
            let _: RecommendResponse = try await client.unary(Self.recommend, request: RecommendRequest(model: "m", k: 3000))
            let shed = await expectError(.resourceExhausted) {
                let _: RecommendResponse = try await client.unary(
                    Self.recommend, request: RecommendRequest(model: "m", k: 0), options: CallOptions(timeout: .seconds(1)))
            }
            #expect(shed?.message.contains("deadline") == true, "\(String(describing: shed))")
            #expect(Int(shed?.metadata.firstString(forKey: "retry-after-ms") ?? "") ?? 0 >= 1)
            #expect(handled.value.load(ordering: .relaxed) == 1, "the shed call's handler never ran")
            #expect(gate.counters == .init(admitted: 1, shed: 1, shedForDeadline: 1))
            let health: HealthCheckResponse = try await client.unary(Self.healthCheck, request: HealthCheckRequest())
            #expect(health.status == .serving)
        }
    }

    @Test("over the limit a normal call is shed, a critical one still admitted (priority from metadata)")
    func priorityClasses() async throws {
        let gate = Self.smallGate()  // limit 4: normal calls may fill 3 slots
        try await Self.withServer(gate: gate) { client, handled in
            let parked = (0..<3).map { _ in
                Task { () async throws -> RecommendResponse in
                    try await client.unary(Self.recommend, request: RecommendRequest(model: "m", k: 20_000))
                }
            }
            for _ in 0..<2000 where handled.value.load(ordering: .relaxed) < 3 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(gate.counters.admitted == 3)
            let shed = await expectError(.resourceExhausted) {
                let _: RecommendResponse = try await client.unary(Self.recommend, request: RecommendRequest(model: "m", k: 0))
            }
            #expect(shed?.message.contains("concurrency limit") == true, "\(String(describing: shed))")
            #expect(shed?.metadata.firstString(forKey: "retry-after-ms") != nil)
            let _: RecommendResponse = try await client.unary(
                Self.recommend, request: RecommendRequest(model: "m", k: 0), options: CallOptions(metadata: ["priority": "critical"]))
            #expect(handled.value.load(ordering: .relaxed) == 4)
            for task in parked { task.cancel() }
            for task in parked { _ = try? await task.value }
        }
    }

    @Test("the wait budget: calls in flight × their typical duration; critical calls may use all of it")
    func waitBudget() async throws {
        // 60 s of budget (normal calls 48 s), a fixed limit of 256: only the budget can shed here.
        let gate = AdmissionCallGate(
            gatedPaths: [Self.recommend.path],
            configuration: .defaults {
                $0.initialLimit = 256
                $0.minLimit = 256
                $0.maxLimit = 256
            },
            waitBudget: .seconds(60)
        )
        try await Self.withServer(gate: gate) { client, handled in
            // A 500 ms call teaches the typical duration T (longer on a loaded machine: a full parallel test run has
            // made it 2 s); then n = ⌈48 s / T⌉ calls in flight (≤ 96) make n × T of wait: at least the normal
            // share, under the whole budget while T < 12 s.
            let _: RecommendResponse = try await client.unary(Self.recommend, request: RecommendRequest(model: "m", k: 500))
            let typical = gate.typicalCallDuration
            #expect(typical >= .milliseconds(500))
            let parkedCount = Int((Duration.seconds(48) / typical).rounded(.up))
            let parked = (0..<parkedCount).map { _ in
                Task { () async throws -> RecommendResponse in
                    try await client.unary(Self.recommend, request: RecommendRequest(model: "m", k: 120_000))
                }
            }
            for _ in 0..<2000 where handled.value.load(ordering: .relaxed) < parkedCount + 1 {
                try await Task.sleep(for: .milliseconds(5))
            }
            let shed = await expectError(.resourceExhausted) {
                let _: RecommendResponse = try await client.unary(Self.recommend, request: RecommendRequest(model: "m", k: 0))
            }
            #expect(Int(shed?.metadata.firstString(forKey: "retry-after-ms") ?? "") ?? 0 >= 500)
            let _: RecommendResponse = try await client.unary(
                Self.recommend, request: RecommendRequest(model: "m", k: 0), options: CallOptions(metadata: ["priority": "critical"]))
            #expect(handled.value.load(ordering: .relaxed) == parkedCount + 2)
            for task in parked { task.cancel() }
            for task in parked { _ = try? await task.value }
        }
    }

    /// A gate with a fixed limit of 4 (normal calls: 3 slots) and no wait budget.
    static func smallGate() -> AdmissionCallGate {
        AdmissionCallGate(
            gatedPaths: [recommend.path],
            configuration: .defaults {
                $0.initialLimit = 4
                $0.minLimit = 4
                $0.maxLimit = 4
            }
        )
    }

    @Test("the worker's load report counts the gate's sheds as rejected by its replicas")
    func loadReportCountsGateSheds() async throws {
        let gate = Self.smallGate()
        let store = ReplicaStore()
        store.add(id: "m@1#1", deploymentID: "m@1", model: "m", version: 1, admission: AdmissionController())
        let agent = WorkerAgent(
            configuration: .init(
                controlPlaneHost: "127.0.0.1", controlPlanePort: 1, advertisedAddress: "127.0.0.1:2",
                capacity: AIMassAPI.Capacity(), token: "t"
            ),
            store: store, callGate: gate
        )
        _ = agent.loadReport()
        let call = GatedCall(method: Self.recommend, metadata: [:], deadline: nil, now: .now)
        for _ in 0..<3 { _ = gate.admit(call) }  // fills the limit (normal: 3 of 4 slots), then sheds
        for _ in 0..<10 { _ = gate.admit(call) }
        let report = agent.loadReport()
        #expect(gate.counters.shed >= 10)
        #expect((report.total?.rejectedPerSec ?? 0) > 0)
        #expect(report.replicas.first?.rejectedPerSec == report.total?.rejectedPerSec)
        await agent.stop()
    }
}

/// Counts the calls that reached a handler.
final class HandledCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// Runs `body`, which must fail with an ``RPCError`` of `code`; returns it.
private func expectError(
    _ code: StatusCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
