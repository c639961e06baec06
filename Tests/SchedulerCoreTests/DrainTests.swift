import Testing

@testable import SchedulerCore

@Suite("Drain")
struct DrainTests {
    func pool(workers: [WorkerID]) throws -> SchedulerState {
        var pool = SchedulerState()
        for w in workers {
            _ = try pool.join(w, address: "\(w):1", capacity: capacity(cpu: 2000, memory: 4 * gib), now: 0)
        }
        return pool
    }

    /// Carries out actions one at a time as workers would (each step one state report), checking after every
    /// step that the deployment never has fewer ready replicas than `floor`; returns the `drainWorker` actions seen.
    func drive(
        _ pool: inout SchedulerState, _ first: [SchedulerAction], deployment: DeploymentID, floor: Int, t: inout Double
    ) throws -> [SchedulerAction] {
        var pending = first
        var drains: [SchedulerAction] = []
        while !pending.isEmpty {
            t += 1
            let action = pending.removeFirst()
            if case .drainWorker = action { drains.append(action) }
            pending += try pool.carryOut(action, now: t)
            #expect(try #require(pool.deployment(deployment)).readyReplicas >= floor, "after \(action)")
        }
        return drains
    }

    @Test("Draining re-places replicas first, stops the old ones only when replacements are ready, then sends Drain")
    func drainOrdering() throws {
        var pool = try pool(workers: ["w1", "w2", "w3"])
        try pool.settle(try pool.deploy(spec("m@1", min: 2), now: 0), now: 0)
        let victim = try #require(pool.deployment("m@1")?.replicas.first?.workerID)
        let before = try #require(pool.replicas(on: victim).first)

        let actions = try pool.drain(victim, reason: "kernel upgrade", now: 1)
        // Nothing stops before a replacement is ready; the replacement goes to the worker without a replica.
        #expect(actions.removals.isEmpty)
        #expect(actions.placements.count == 1)
        #expect(actions.placements.first?.1 != victim)
        #expect(!actions.contains { if case .drainWorker = $0 { true } else { false } })
        let cordoned = try #require(pool.pool.first { $0.id == victim })
        #expect(cordoned.cordoned && !cordoned.drained && cordoned.drainReason == "kernel upgrade")
        #expect(pool.deployment("m@1")?.state == .progressing)
        #expect(pool.deployment("m@1")?.reason.contains("draining worker") == true)

        var t = 1.0
        let drains = try drive(&pool, actions, deployment: "m@1", floor: 2, t: &t)
        #expect(drains == [.drainWorker(victim, reason: "kernel upgrade")])
        #expect(pool.replicas(on: victim).isEmpty)
        #expect(pool.deployment("m@1")?.state == .ready)
        #expect(pool.deployment("m@1")?.replicas.contains { $0.id == before.id } == false)
        let drained = try #require(pool.pool.first { $0.id == victim })
        #expect(drained.cordoned && drained.drained)
        // Its stream broke and it rejoins: it is told to drain again, and stays cordoned.
        let rejoined = try pool.rejoin(victim, address: "\(victim):1", capacity: capacity(cpu: 2000, memory: 4 * gib), holding: [], now: t)
        #expect(rejoined == [.drainWorker(victim, reason: "kernel upgrade")])
        #expect(pool.pool.first { $0.id == victim }?.cordoned == true)
        // Cordoned: a scale-up never lands on it.
        let up = try pool.scale("m@1", maxReplicas: 3, desiredReplicas: 3, now: t + 1)
        #expect(up.placements.count == 1 && up.placements.first?.1 != victim)
    }

    @Test("With no room elsewhere the replica stays (the reason says so) until force drains it")
    func noRoomThenForce() throws {
        var pool = try pool(workers: ["w1", "w2"])
        // Each worker fits one replica (1500 of 2000 millicores).
        try pool.settle(try pool.deploy(spec("m@1", min: 2, cpu: 1500), now: 0), now: 0)
        let actions = try pool.drain("w1", reason: "", now: 1)
        #expect(actions.removals.isEmpty && actions.placements.isEmpty)
        let waiting = try #require(pool.deployment("m@1"))
        #expect(waiting.readyReplicas == 2)
        #expect(waiting.reason.contains("unplaced"))
        #expect(waiting.reason.contains("kept on draining worker w1"))
        #expect(pool.pool.first { $0.id == "w1" }?.drainReason == "drained by an operator")

        let forced = try pool.drain("w1", reason: "disk failing", force: true, now: 2)
        #expect(forced.removals.map(\.1) == [true])  // in-flight calls finish
        #expect(forced.placements.isEmpty)  // still no room: it waits pending
        var t = 2.0
        let drains = try drive(&pool, forced, deployment: "m@1", floor: 1, t: &t)
        #expect(drains == [.drainWorker("w1", reason: "disk failing")])
        let degraded = try #require(pool.deployment("m@1"))
        #expect(degraded.state == .degraded && degraded.readyReplicas == 1)
        #expect(degraded.reason.contains("no worker takes new replicas") || degraded.reason.contains("largest free"))
    }

    @Test("Uncordon: the worker takes replicas again and a replica still waiting there counts again")
    func uncordon() throws {
        var pool = try pool(workers: ["w1", "w2"])
        try pool.settle(try pool.deploy(spec("m@1", min: 2, cpu: 1500), now: 0), now: 0)
        _ = try pool.drain("w1", reason: "", now: 1)
        let actions = try pool.uncordon("w1", now: 2)
        #expect(actions.isEmpty)
        let worker = try #require(pool.pool.first { $0.id == "w1" })
        #expect(!worker.cordoned && worker.drainReason.isEmpty)
        let deployment = try #require(pool.deployment("m@1"))
        #expect(deployment.state == .ready && deployment.replicas.count == 2)
        #expect(throws: SchedulerError.self) { try pool.drain("nope", reason: "", now: 3) }
    }

    @Test("A worker lost by lease expiry and one that left carry their reasons")
    func lossReasons() throws {
        var pool = try pool(workers: ["w1", "w2"])
        let left = try pool.leave("w1", now: 1)
        #expect(left.first == .workerLost("w1", replicas: [], reason: .left))
        #expect("\(WorkerLossReason.left)" == "left the pool")
        let expired = pool.tick(now: 5.25)
        #expect(expired.first == .workerLost("w2", replicas: [], reason: .leaseExpired(silence: 5.25)))
        #expect("\(WorkerLossReason.leaseExpired(silence: 5.25))" == "lease expired after 5250 ms")
    }
}
