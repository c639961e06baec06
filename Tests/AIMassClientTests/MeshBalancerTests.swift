import AIMassAPI
import AIMassClient
import MeshCore
import RPCCore
import RPCHTTP2
import TestSupport
import Testing

/// The balancer with three real workers: eligibility, ejection, retries of shed calls, deadline propagation.
@Suite("Mesh balancer", .serialized)
struct MeshBalancerTests {
    static func call(_ balancer: MeshBalancer, timeout: Duration = .seconds(5)) async throws -> String {
        let response: RecommendResponse = try await balancer.unary(
            model: "movies", method: RecommendMethods.recommend, request: RecommendRequest(model: "movies", userId: "u"),
            options: CallOptions(timeout: timeout))
        return response.servedBy?.workerId ?? ""
    }

    static func withBalancer(
        _ configuration: MeshBalancer.Configuration = .defaults, _ body: (MeshFixture, MeshBalancer) async throws -> Void
    ) async throws {
        let fixture = try await MeshFixture.start()
        let watcher = fixture.watcher()
        let balancer = MeshBalancer(watcher: watcher, configuration: configuration)
        let watching = Task { await watcher.run() }
        let running = Task { await balancer.run() }
        do {
            try await body(fixture, balancer)
        } catch {
            Issue.record(error)
        }
        await balancer.close()
        await watcher.close()
        await watching.value
        await running.value
        await fixture.stop()
    }

    @Test("never picks a draining or not-serving worker, or one without a ready replica")
    func eligibility() async throws {
        try await Self.withBalancer { fixture, balancer in
            try fixture.join(0)  // serving, ready
            try fixture.join(1, health: .draining)  // ready but draining
            try fixture.join(2, replica: .loading)  // serving, replica not ready
            #expect(await eventually { balancer.watcher.view.revision == fixture.platform.mesh.revision })
            for _ in 0..<200 { #expect(balancer.pick(model: "movies")?.workerId == "w1") }
            for _ in 0..<20 { #expect(try await Self.call(balancer) == "w1") }
            #expect(balancer.pick(model: "books") == nil)

            try fixture.setReplica(2, .ready)
            try fixture.setHealth(0, .notServing)
            #expect(await eventually { balancer.watcher.view.revision == fixture.platform.mesh.revision })
            for _ in 0..<200 { #expect(balancer.pick(model: "movies")?.workerId == "w3") }
            for _ in 0..<20 { #expect(try await Self.call(balancer) == "w3") }
            #expect(fixture.workers[1].calls == 0)
        }
    }

    @Test("a failing worker is ejected; its failed calls are retried elsewhere")
    func ejectsFailingWorker() async throws {
        // An ejection far longer than the test: with the default (a second or so), the 100 calls below outlasted it
        // beside a CPU hog, and the worker, back on probation, rightly got calls again.
        let longEjection = MeshBalancer.Configuration.defaults {
            $0.baseEjection = .seconds(600)
            $0.maxEjection = .seconds(600)
        }
        try await Self.withBalancer(longEjection) { fixture, balancer in
            for index in 0..<3 { try fixture.join(index) }
            #expect(await eventually { balancer.watcher.view.eligibleWorkers(model: "movies").count == 3 })
            fixture.workers[1].set(mode: .unavailable)
            for _ in 0..<60 { #expect(try await Self.call(balancer) != "w2") }
            #expect(balancer.ejectedWorkers == ["w2"])
            let before = fixture.workers[1].calls
            #expect(before >= 3)
            for _ in 0..<100 { _ = try await Self.call(balancer) }
            #expect(fixture.workers[1].calls == before, "an ejected worker gets no calls")
        }
    }

    /// Long enough that no step of a loaded machine uses up a visible share of it (with 2 s, more than 1.5 s could go).
    static let retriedCallTimeout: Duration = .seconds(60)

    @Test("a shed call is retried on another worker, and the deadline seen by the worker is the time left")
    func retriesShedCallsWithRemainingDeadline() async throws {
        try await Self.withBalancer { fixture, balancer in
            try fixture.join(0)
            try fixture.join(1)
            #expect(await eventually { balancer.watcher.view.eligibleWorkers(model: "movies").count == 2 })
            fixture.workers[0].set(mode: .shed, delay: .milliseconds(100))
            var attempts = 0
            while fixture.workers[0].calls == 0 && attempts < 100 {
                let before = fixture.workers[1].calls
                #expect(try await Self.call(balancer, timeout: Self.retriedCallTimeout) == "w2")
                attempts += 1
                if fixture.workers[0].calls > 0 {
                    // This call went to w1 first (shed after 100 ms), then to w2 with what was left.
                    #expect(fixture.workers[1].calls == before + 1)
                    let seen = try #require(fixture.workers[1].timeRemaining.last ?? nil)
                    // At least the 100 ms spent on w1 are gone; the lower bound only catches a deadline lost on the
                    // way (it holds however slowly a loaded machine runs the steps between).
                    #expect(seen <= Self.retriedCallTimeout - .milliseconds(100) && seen > Self.retriedCallTimeout / 2)
                }
            }
            #expect(fixture.workers[0].calls == 1, "the shed worker was tried")
            let direct = try #require(fixture.workers[1].timeRemaining.first ?? nil)
            #expect(direct < Self.retriedCallTimeout, "even a first attempt carries the remaining time, not the original")
        }
    }

    @Test("without a token budget, a shed call is not retried")
    func retryBudget() async throws {
        let fixture = try await MeshFixture.start(workers: 2)
        let watcher = fixture.watcher()
        let balancer = MeshBalancer(watcher: watcher, configuration: .defaults { $0.retryBudgetCap = 0 })
        let watching = Task { await watcher.run() }
        try fixture.join(0)
        try fixture.join(1)
        #expect(await eventually { watcher.view.eligibleWorkers(model: "movies").count == 2 })
        fixture.workers[0].set(mode: .shed)
        fixture.workers[1].set(mode: .shed)
        await #expect(throws: RPCError.self) { _ = try await Self.call(balancer) }
        #expect(fixture.workers[0].calls + fixture.workers[1].calls == 1)
        await balancer.close()
        await watcher.close()
        await watching.value
        await fixture.stop()
    }
}
