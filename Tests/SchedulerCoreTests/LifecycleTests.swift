import Testing
@testable import SchedulerCore

@Suite("Lifecycle")
struct LifecycleTests {
    func threeWorkers() throws -> SchedulerState {
        var pool = SchedulerState()
        for w in ["w1", "w2", "w3"] {
            _ = try pool.join(WorkerID(w), address: "\(w):1", capacity: capacity(cpu: 2000, memory: 4 * gib), now: 0)
        }
        return pool
    }

    @Test("Time the control plane was stalled does not count against a worker's lease")
    func stallIsCredited() throws {
        var pool = try threeWorkers()
        // Heard at 0; the control plane then could not listen from 1 to 5.5 (a slow store write under its lock).
        pool.creditStall(4.5, now: 5.5)
        #expect(pool.tick(now: 5.5).isEmpty)
        #expect(pool.tick(now: 9).isEmpty)
        // Without word from the workers after it, their leases run out as usual.
        #expect(pool.tick(now: 9.6).count >= 3)
    }

    @Test("A worker whose lease expires is gone and its replicas are re-placed")
    func workerLoss() throws {
        var pool = try threeWorkers()
        try pool.settle(try pool.deploy(spec("m@1", min: 2), now: 0), now: 0)
        let victim = try #require(pool.deployment("m@1")?.replicas.first?.workerID)
        // Everyone but the victim keeps reporting.
        for t in stride(from: 1.0, through: 6.0, by: 1) {
            for w in pool.pool.map(\.id) where w != victim { try pool.heartbeat(w, now: t) }
            if t < 5 { #expect(pool.tick(now: t).isEmpty) }
        }
        let actions = pool.tick(now: 6)
        guard case .workerLost(let lost, let gone, let reason)? = actions.first else {
            Issue.record("expected workerLost first, got \(actions)")
            return
        }
        #expect(lost == victim)
        // Last heard at 0 (the deploy), declared gone at 6: the lease (5 s) expired after 6000 ms of silence.
        #expect(reason == .leaseExpired(silence: 6))
        #expect("\(reason)" == "lease expired after 6000 ms")
        #expect(gone.count == 1)
        let placed = actions.placements
        #expect(placed.count == 1)
        #expect(placed.first?.1 != victim)
        // Spread is kept: the two live replicas are on two different workers.
        let workers = Set(try #require(pool.deployment("m@1")).replicas.compactMap(\.workerID))
        #expect(workers.count == 2)
        #expect(pool.deployment("m@1")?.readyReplicas == 1)
        try pool.settle(actions, now: 6)
        #expect(pool.deployment("m@1")?.state == .ready)
        #expect(pool.pool.count == 2)
    }

    @Test("Rolling to a new version never leaves zero ready replicas")
    func rollingUpdate() throws {
        var pool = try threeWorkers()
        try pool.settle(try pool.deploy(spec("m@prod", version: 1, min: 2), now: 0), now: 0)
        var pending = try pool.roll("m@prod", to: 2, now: 1)
        #expect(pending.removals.isEmpty)  // nothing drains before a new replica is ready
        #expect(pending.placements.count == 2)
        // Drive the workers one step at a time and check the invariant after every step.
        var t = 1.0
        while !pending.isEmpty {
            t += 1
            let action = pending.removeFirst()
            if case .remove(_, _, let drain) = action { #expect(drain) }
            pending += try pool.carryOut(action, now: t)
            let deployment = try #require(pool.deployment("m@prod"))
            #expect(deployment.readyReplicas >= 1)
        }
        let done = try #require(pool.deployment("m@prod"))
        #expect(done.state == .ready)
        #expect(done.replicas.map(\.version) == [2, 2])
    }

    @Test("A rollout whose new replicas fail keeps serving the old version")
    func failingRollout() throws {
        var pool = try threeWorkers()
        try pool.settle(try pool.deploy(spec("m@prod", version: 1), now: 0), now: 0)
        var actions = try pool.roll("m@prod", to: 2, now: 1)
        for attempt in 0..<5 {
            guard let (id, _) = actions.placements.first else { break }
            actions = try pool.replicaStatus(id, .failed, error: "bad artifact \(attempt)", now: 2)
        }
        let deployment = try #require(pool.deployment("m@prod"))
        #expect(deployment.readyReplicas == 1)
        #expect(deployment.replicas.map(\.version) == [1])
        #expect(deployment.reason.contains("bad artifact"))
    }

    @Test("Scale down drains the newest replicas; undeploy drains all, then forgets the deployment")
    func scaleAndUndeploy() throws {
        var pool = try threeWorkers()
        try pool.settle(try pool.deploy(spec("m@1", min: 1, max: 3), now: 0), now: 0)
        try pool.settle(try pool.scale("m@1", desiredReplicas: 3, now: 1), now: 1)
        #expect(pool.deployment("m@1")?.readyReplicas == 3)
        let down = try pool.scale("m@1", desiredReplicas: 1, now: 2)
        #expect(down.removals.map(\.0) == ["m@1#3", "m@1#2"])
        #expect(down.removals.allSatisfy { $0.1 })
        try pool.settle(down, now: 2)
        let gone = try pool.undeploy("m@1", now: 3)
        #expect(pool.deployment("m@1")?.state == .deleting)
        #expect(gone.removals.map(\.0) == ["m@1#1"])
        let last = try pool.replicaStatus("m@1#1", .removed, now: 4)
        #expect(last == [.deploymentRemoved("m@1")])
        #expect(pool.deployment("m@1") == nil)
        #expect(pool.pool.allSatisfy { $0.allocated == .zero })
    }

    @Test("Stale and repeated status reports are ignored; PENDING is refused")
    func staleReports() throws {
        var pool = try threeWorkers()
        let actions = try pool.deploy(spec("m@1"), now: 0)
        let id = try #require(actions.placements.first?.0)
        _ = try pool.makeReady(id, now: 1)
        let stale = try pool.replicaStatus(id, .loading, now: 2)
        #expect(stale.isEmpty)
        #expect(pool.deployment("m@1")?.replicas.first?.state == .ready)
        #expect(throws: SchedulerError.self) { try pool.replicaStatus(id, .pending, now: 3) }
    }
}
