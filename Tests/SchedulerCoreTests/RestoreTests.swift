import Testing

@testable import SchedulerCore

/// A control plane restarted from its persisted ``DesiredState``: deployments come back, placement is held while
/// the workers known before rejoin, and the replicas they hold are adopted under the same ids.
@Suite("Restore after a restart")
struct RestoreTests {
    let roomy = capacity(cpu: 2000, memory: 4 * gib)

    func held(_ replica: Replica) -> HeldReplica {
        HeldReplica(id: replica.id, deploymentID: replica.deploymentID, version: replica.version, state: replica.state)
    }

    /// A pool with two workers and `m@1` (min 2) ready on them, and its desired state.
    func running() throws -> (SchedulerState, DesiredState) {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "w1:1", capacity: roomy, now: 0)
        _ = try pool.join("w2", address: "w2:1", capacity: roomy, now: 0)
        try pool.settle(try pool.deploy(spec("m@1", min: 2, max: 4), now: 0), now: 0)
        #expect(pool.deployment("m@1")?.readyReplicas == 2)
        return (pool, pool.desiredState)
    }

    @Test("The desired state holds every deployment, worker and the next replica serial")
    func desiredStateContents() throws {
        let (pool, desired) = try running()
        #expect(desired.deployments.keys.sorted() == ["m@1"])
        #expect(desired.deployments["m@1"]?.spec == spec("m@1", min: 2, max: 4))
        #expect(desired.deployments["m@1"]?.desired == 2)
        #expect(desired.workers.keys.sorted() == ["w1", "w2"])
        let serials = pool.allDeployments.flatMap(\.replicas).map(\.id.serial)
        #expect(desired.nextReplicaSerial == (serials.max() ?? 0) + 1)
    }

    @Test("Workers rejoining one by one get their replicas adopted with the same ids; nothing is placed meanwhile")
    func adoptsWhileHolding() throws {
        let (before, desired) = try running()
        var pool = SchedulerState()
        try pool.restore(desired, holdUntil: 10, now: 0)
        #expect(pool.isHoldingAfterRestart(now: 0))
        #expect(pool.deployment("m@1")?.state == .pending)
        // Ticks before any worker is back place nothing.
        #expect(pool.tick(now: 1).isEmpty)
        let w1 = before.replicas(on: "w1")
        let first = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: w1.map(held), now: 2)
        #expect(first.isEmpty, "\(first)")
        #expect(pool.isHoldingAfterRestart(now: 2))  // w2 still awaited
        #expect(pool.awaitedWorkers == ["w2"])
        let w2 = before.replicas(on: "w2")
        let second = try pool.rejoin("w2", address: "w2:1", capacity: roomy, holding: w2.map(held), now: 3)
        #expect(second.isEmpty, "\(second)")
        #expect(!pool.isHoldingAfterRestart(now: 3))
        #expect(pool.replicas(on: "w1").map(\.id) == w1.map(\.id))
        #expect(pool.replicas(on: "w2").map(\.id) == w2.map(\.id))
        #expect(pool.deployment("m@1")?.state == .ready)
        #expect(pool.tick(now: 4).isEmpty)
    }

    @Test("A worker that does not come back within the hold is replaced once it ends, with a new replica serial")
    func holdEndsWithoutAWorker() throws {
        let (before, desired) = try running()
        var pool = SchedulerState()
        try pool.restore(desired, holdUntil: 10, now: 0)
        _ = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: before.replicas(on: "w1").map(held), now: 1)
        try pool.heartbeat("w1", now: 8)
        #expect(pool.tick(now: 9).isEmpty)
        try pool.heartbeat("w1", now: 10)
        let after = pool.tick(now: 10)
        let placed = after.placements
        #expect(placed.count == 1 && placed.first?.1 == "w1", "\(after)")
        #expect(placed.first.map { $0.0.serial >= desired.nextReplicaSerial } == true)
        #expect(!before.allDeployments.flatMap(\.replicas).map(\.id).contains(placed.first?.0 ?? "none"))
        #expect(pool.awaitedWorkers.isEmpty)
        #expect(pool.desiredState.workers.keys.sorted() == ["w1"])
    }

    @Test("A drained worker gets its cordon back when it rejoins; its replica is kept until a replacement is ready")
    func cordonSurvives() throws {
        var (before, _) = try running()
        _ = try before.drain("w2", reason: "kernel upgrade", now: 1)
        let desired = before.desiredState
        #expect(desired.workers["w2"]?.cordoned == true && desired.workers["w2"]?.drainReason == "kernel upgrade")
        var pool = SchedulerState()
        try pool.restore(desired, holdUntil: 10, now: 2)
        _ = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: before.replicas(on: "w1").map(held), now: 3)
        let actions = try pool.rejoin("w2", address: "w2:1", capacity: roomy, holding: before.replicas(on: "w2").map(held), now: 3)
        let w2 = try #require(pool.pool.first { $0.id == "w2" })
        #expect(w2.cordoned && w2.drainReason == "kernel upgrade")
        // Its replica is adopted as evacuating: a replacement goes to w1, nothing is stopped yet.
        #expect(actions.removals.isEmpty)
        #expect(actions.placements.map(\.1) == ["w1"])
        #expect(pool.replicas(on: "w2").map(\.id) == before.replicas(on: "w2").map(\.id))
    }

    @Test("Restore refuses a pool that is not empty and a spec stored under another id")
    func refusals() throws {
        var (pool, desired) = try running()
        #expect(throws: SchedulerError.self) { try pool.restore(desired, holdUntil: 1, now: 0) }
        desired.deployments["other@1"] = desired.deployments["m@1"]
        var empty = SchedulerState()
        #expect(throws: SchedulerError.self) { try empty.restore(desired, holdUntil: 1, now: 0) }
    }
}
