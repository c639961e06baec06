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

/// Queueing at the gate, driven directly (no socket): what each waiter is told, in order, and how often.
@Suite("AdmissionCallGate queue")
struct AdmissionCallGateQueueTests {
    static let recommend = AdmissionCallGateTests.recommend

    /// A gate that runs one call at a time (no wait budget) and lets others wait up to `queueBudget`.
    static func oneAtATime(queueBudget: Duration = .seconds(1000), capWaitAtTypicalCall: Bool = true) -> AdmissionCallGate {
        AdmissionCallGate(
            gatedPaths: [recommend.path],
            configuration: .defaults {
                $0.initialLimit = 1
                $0.minLimit = 1
                $0.maxLimit = 1
                $0.classShares = [1, 1, 1]
            },
            queueBudget: queueBudget, capWaitAtTypicalCall: capWaitAtTypicalCall
        )
    }

    /// Records what the gate tells each queued call, in the order it does.
    final class Outcomes: Sendable {
        let log = Mutex<[(name: String, result: Result<AdmissionTicket, RPCError>)]>([])
        func waiter(_ name: String) -> CallGateWaiter {
            CallGateWaiter { result in
                self.log.withLock { $0.append((name, result.map { $0 as! AdmissionTicket })) }
            }
        }
        var names: [String] { log.withLock { $0.map(\.name) } }
        var tickets: [(String, AdmissionTicket)] {
            log.withLock { $0.compactMap { entry in (try? entry.result.get()).map { (entry.name, $0) } } }
        }
    }

    func call(_ name: String, _ outcomes: Outcomes, deadlineIn seconds: Double? = nil, priority: String? = nil) -> GatedCall {
        let now = ContinuousClock.now
        return GatedCall(
            method: Self.recommend, metadata: priority.map { ["priority": .string($0)] } ?? [:],
            deadline: seconds.map { now + .milliseconds(Int($0 * 1000)) }, now: now, waiter: outcomes.waiter(name))
    }

    @Test("calls over the limit wait and are admitted as slots free: higher class first, then the earliest deadline")
    func deadlineOrder() throws {
        let gate = Self.oneAtATime()
        let outcomes = Outcomes()
        guard case .admit(let running) = gate.admit(call("running", outcomes)) else { throw Failure("not admitted") }
        for (name, deadline, priority) in [
            ("due in 500 s", 500.0, nil), ("due in 200 s", 200.0, nil), ("no deadline", nil, nil),
            ("critical", nil, "critical"), ("due in 300 s", 300.0, nil),
        ] as [(String, Double?, String?)] {
            guard case .queued = gate.admit(call(name, outcomes, deadlineIn: deadline, priority: priority)) else {
                throw Failure("\(name) not queued")
            }
        }
        #expect(gate.saturation != nil)
        var token = running
        for _ in 0..<5 {
            gate.callEnded(token, outcome: GatedCallOutcome(duration: .milliseconds(1), code: .ok))
            token = try #require(outcomes.tickets.last?.1)
        }
        gate.callEnded(token, outcome: GatedCallOutcome(duration: .milliseconds(1), code: .ok))
        // Without a deadline a call is due at its arrival plus the queue budget (1000 s): after the 500 s one.
        #expect(outcomes.names == ["critical", "due in 200 s", "due in 300 s", "due in 500 s", "no deadline"])
        #expect(outcomes.tickets.count == 5, "each admitted once, none rejected")
        #expect(gate.counters.admitted == 6 && gate.counters.shed == 0)
    }

    @Test("a withdrawn call is never resumed; the next one gets the slot")
    func withdrawal() throws {
        let gate = Self.oneAtATime()
        let outcomes = Outcomes()
        guard case .admit(let running) = gate.admit(call("running", outcomes)) else { throw Failure("not admitted") }
        guard case .queued(let gone) = gate.admit(call("gone", outcomes)) else { throw Failure("not queued") }
        guard case .queued = gate.admit(call("next", outcomes)) else { throw Failure("not queued") }
        gate.withdraw(gone)
        gate.callEnded(running, outcome: GatedCallOutcome(duration: .milliseconds(1), code: .ok))
        #expect(outcomes.names == ["next"])
    }

    @Test("a call that cannot start within the queue budget is shed when a slot frees (RESOURCE_EXHAUSTED, once)")
    func budgetExpiry() throws {
        let gate = Self.oneAtATime(queueBudget: .milliseconds(1))
        let outcomes = Outcomes()
        guard case .admit(let running) = gate.admit(call("running", outcomes)) else { throw Failure("not admitted") }
        // Arrived 10 s ago: its 1 ms budget is long spent when the slot frees.
        var late = call("late", outcomes)
        late.now = .now - .seconds(10)
        guard case .queued = gate.admit(late) else { throw Failure("not queued") }
        gate.callEnded(running, outcome: GatedCallOutcome(duration: .milliseconds(1), code: .ok))
        let log = outcomes.log.withLock { $0 }
        #expect(log.count == 1)
        guard case .failure(let error)? = log.first?.result else { throw Failure("not shed") }
        #expect(error.code == .resourceExhausted && error.message.contains("queue budget"))
        #expect(error.metadata.firstString(forKey: "retry-after-ms") != nil)
        #expect(gate.counters.shed == 1)
    }

    @Test("the default budget's wait is cut to a typical call; a budget set exactly is waited in full", arguments: [true, false])
    func typicalCallCap(capped: Bool) throws {
        let gate = Self.oneAtATime(queueBudget: .seconds(1000), capWaitAtTypicalCall: capped)
        let outcomes = Outcomes()
        // A typical call of 1 ms, measured.
        guard case .admit(let first) = gate.admit(call("first", outcomes)) else { throw Failure("not admitted") }
        gate.callEnded(first, outcome: GatedCallOutcome(duration: .milliseconds(1), code: .ok))
        guard case .admit(let running) = gate.admit(call("running", outcomes)) else { throw Failure("not admitted") }
        // Waiting for 100 ms when the slot frees: 100 typical calls, a ten-thousandth of the budget.
        var waiting = call("waiting", outcomes)
        waiting.now = .now - .milliseconds(100)
        guard case .queued = gate.admit(waiting) else { throw Failure("not queued") }
        gate.callEnded(running, outcome: GatedCallOutcome(duration: .milliseconds(1), code: .ok))
        let log = outcomes.log.withLock { $0 }
        #expect(log.count == 1)
        switch log.first?.result {
        case .success?:
            #expect(!capped, "admitted after 100 ms although the wait is cut to a typical call")
        case .failure(let error)?:
            #expect(capped, "shed although the budget is 1000 s: \(error)")
            #expect(error.message.contains("queue budget (1") && error.message.contains(" ms)"), "\(error.message)")
        case nil:
            Issue.record("the queued call was neither admitted nor shed")
        }
    }

    @Test("no queue budget, or no waiter: shed at once, as before")
    func noQueue() {
        let gate = Self.oneAtATime(queueBudget: .zero)
        let outcomes = Outcomes()
        _ = gate.admit(call("running", outcomes))
        guard case .reject(let error) = gate.admit(call("over", outcomes)) else {
            Issue.record("expected a shed")
            return
        }
        #expect(error.code == .resourceExhausted)
        let queueing = Self.oneAtATime()
        _ = queueing.admit(call("running", outcomes))
        var noWaiter = call("over", outcomes)
        noWaiter.waiter = nil
        guard case .reject = queueing.admit(noWaiter) else {
            Issue.record("expected a shed")
            return
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
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
