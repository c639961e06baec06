import Testing
@testable import SchedulerCore

@Suite("Placement")
struct PlacementTests {
    @Test("Spreads a deployment's replicas across three workers")
    func spread() throws {
        var pool = SchedulerState()
        for w in ["w1", "w2", "w3"] {
            _ = try pool.join(WorkerID(w), address: "\(w):1", capacity: capacity(cpu: 4000, memory: 8 * gib), now: 0)
        }
        let actions = try pool.deploy(spec("movies@prod", min: 3), now: 0)
        let workers = Set(actions.placements.map(\.1))
        #expect(actions.placements.count == 3)
        #expect(workers == ["w1", "w2", "w3"])
        #expect(pool.deployment("movies@prod")?.state == .progressing)
        try pool.settle(actions, now: 1)
        #expect(pool.deployment("movies@prod")?.state == .ready)
        #expect(pool.deployment("movies@prod")?.readyReplicas == 3)
    }

    @Test("Two replicas share a worker only when no other worker fits")
    func spreadFallsBack() throws {
        var pool = SchedulerState()
        _ = try pool.join("big", address: "a", capacity: capacity(cpu: 4000, memory: 8 * gib), now: 0)
        _ = try pool.join("small", address: "b", capacity: capacity(cpu: 100, memory: 8 * gib), now: 0)
        let actions = try pool.deploy(spec("m@1", min: 2), now: 0)
        #expect(actions.placements.map(\.1) == ["big", "big"])
    }

    @Test("Bin-packs on the dominant resource: the tightest worker that fits")
    func binPacking() throws {
        var pool = SchedulerState()
        _ = try pool.join("roomy", address: "a", capacity: capacity(cpu: 8000, memory: 16 * gib), now: 0)
        _ = try pool.join("snug", address: "b", capacity: capacity(cpu: 1000, memory: 16 * gib), now: 0)
        _ = try pool.join("mid", address: "c", capacity: capacity(cpu: 2000, memory: 16 * gib), now: 0)
        // CPU-dominant request: best fit is the worker left with the smallest CPU share.
        let a = try pool.deploy(spec("a@1", cpu: 900, memory: 256 * mib), now: 0)
        #expect(a.placements.map(\.1) == ["snug"])
        let b = try pool.deploy(spec("b@1", cpu: 900, memory: 256 * mib), now: 0)
        #expect(b.placements.map(\.1) == ["mid"])
        let c = try pool.deploy(spec("c@1", cpu: 900, memory: 256 * mib), now: 0)
        #expect(c.placements.map(\.1) == ["mid"])
        #expect(pool.pool.first { $0.id == "mid" }?.allocated.cpuMillis == 1800)
    }

    @Test("A deployment that does not fit stays pending with the shortfall")
    func pendingWithReason() throws {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "a", capacity: capacity(cpu: 100, memory: 256 * mib), now: 0)
        _ = try pool.join("w2", address: "b", capacity: capacity(cpu: 200, memory: 512 * mib), now: 0)
        let actions = try pool.deploy(spec("big@1", cpu: 500, memory: gib), now: 0)
        #expect(actions.isEmpty)
        let deployment = try #require(pool.deployment("big@1"))
        #expect(deployment.state == .pending)
        #expect(
            deployment.reason
                == "1 of 1 replicas unplaced: needs 500 cpu millis and 1 GiB on one worker; "
                + "the largest free is 200 cpu millis / 512 MiB on w2"
        )
        // Capacity appears: it is placed.
        let later = try pool.join("w3", address: "c", capacity: capacity(cpu: 1000, memory: 2 * gib), now: 5)
        #expect(later.placements.map(\.1) == ["w3"])
        #expect(pool.deployment("big@1")?.reason.contains("unplaced") == false)
    }

    @Test("Out of slots is named in the reason; no worker at all too")
    func slotsAndEmptyPool() throws {
        var pool = SchedulerState()
        _ = try pool.deploy(spec("m@1"), now: 0)
        #expect(pool.deployment("m@1")?.reason.hasSuffix("no worker in the pool") == true)
        _ = try pool.join("w1", address: "a", capacity: capacity(cpu: 4000, memory: 8 * gib, slots: 1), now: 0)
        _ = try pool.scale("m@1", maxReplicas: 2, desiredReplicas: 2, now: 1)
        #expect(pool.deployment("m@1")?.reason.hasSuffix("(no free replica slot)") == true)
    }

    @Test("A higher priority preempts lower-priority replicas above their minimum")
    func preemption() throws {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "a", capacity: capacity(cpu: 2000, memory: 8 * gib), now: 0)
        var actions = try pool.deploy(spec("batch@1", min: 1, max: 4, cpu: 1000), now: 0)
        actions += try pool.scale("batch@1", desiredReplicas: 2, now: 0)
        try pool.settle(actions, now: 1)
        #expect(pool.deployment("batch@1")?.readyReplicas == 2)

        let deploy = try pool.deploy(spec("vip@1", cpu: 1000, priority: 10), now: 2)
        // One batch replica (the newest) drains; vip waits for it, nominated to w1.
        #expect(deploy.removals.map(\.0) == ["batch@1#2"])
        #expect(deploy.placements.isEmpty)
        #expect(pool.deployment("vip@1")?.reason.contains("preempting 1") == true)
        // A second pass does not preempt again.
        #expect(pool.tick(now: 2.5).removals.isEmpty)
        let removed = try pool.replicaStatus("batch@1#2", .removed, now: 3)
        #expect(removed.placements.map(\.1) == ["w1"])
        #expect(removed.placements.first?.0.rawValue.hasPrefix("vip@1#") == true)
        // batch is back to its minimum and wants its second replica: degraded, never preempting vip.
        let batch = try #require(pool.deployment("batch@1"))
        #expect(batch.state == .degraded)
        #expect(batch.reason.contains("1 of 2 replicas unplaced"))
        // Nothing more can be taken from batch: it is at its minimum.
        let other = try pool.deploy(spec("vip2@1", cpu: 1000, priority: 10), now: 4)
        #expect(other.removals.isEmpty)
        #expect(pool.deployment("vip2@1")?.state == .pending)
    }

    @Test("Invalid specs and duplicates are rejected with codes")
    func errors() throws {
        var pool = SchedulerState()
        #expect(throws: SchedulerError.self) { try pool.deploy(spec("m@1", min: 3, max: 2), now: 0) }
        _ = try pool.deploy(spec("m@1"), now: 0)
        do {
            _ = try pool.deploy(spec("m@1"), now: 0)
            Issue.record("expected alreadyExists")
        } catch {
            #expect(error.code == .alreadyExists)
        }
        do {
            _ = try pool.undeploy("nope@1", now: 0)
            Issue.record("expected notFound")
        } catch {
            #expect(error.code == .notFound)
        }
    }
}
