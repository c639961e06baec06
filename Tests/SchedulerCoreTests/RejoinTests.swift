import Testing

@testable import SchedulerCore

@Suite("Rejoin")
struct RejoinTests {
    let roomy = capacity(cpu: 2000, memory: 4 * gib)

    func held(_ replica: Replica, _ state: ReplicaState? = nil) -> HeldReplica {
        HeldReplica(id: replica.id, deploymentID: replica.deploymentID, version: replica.version, state: state ?? replica.state)
    }

    @Test("Within the lease a worker keeps the replicas it still holds; one it lost is replaced")
    func withinLease() throws {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "w1:1", capacity: roomy, now: 0)
        try pool.settle(try pool.deploy(spec("m@1", min: 2, max: 2), now: 0), now: 0)
        let mine = pool.replicas(on: "w1")
        #expect(mine.count == 2)
        // The stream broke; the worker comes back at t = 2 holding only the first replica.
        let actions = try pool.rejoin("w1", address: "w1:2", capacity: roomy, holding: [held(mine[0])], now: 2)
        #expect(actions.removals.isEmpty)
        #expect(actions.placements.count == 1)  // a replacement for the lost one
        let now = pool.replicas(on: "w1")
        #expect(now.contains { $0.id == mine[0].id && $0.state == .ready })
        #expect(!now.contains { $0.id == mine[1].id })
        #expect(pool.pool.first?.address == "w1:2")
        #expect(pool.deployment("m@1")?.readyReplicas == 1)
        // The lost replica is not a failure of the deployment.
        #expect(pool.deployment("m@1")?.reason.contains("failed") == false)
    }

    @Test("A place lost with the stream is sent again; a remove lost with it too")
    func resend() throws {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "w1:1", capacity: roomy, now: 0)
        let placed = try pool.deploy(spec("m@1"), now: 0)
        let id = try #require(placed.placements.first?.0)
        // Never acknowledged: the worker holds nothing when it comes back.
        let again = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: [], now: 1)
        #expect(again.placements.map(\.0) == [id])
        _ = try pool.makeReady(id, now: 2)
        let removal = try pool.undeploy("m@1", now: 3)
        #expect(removal.removals.map(\.0) == [id])
        let replica = try #require(pool.replicas(on: "w1").first)
        let resent = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: [held(replica, .ready)], now: 4)
        #expect(resent.removals.map(\.0) == [id])
    }

    @Test("After lease expiry, a held replica still wanted is adopted and the pending replacement dropped")
    func adoptAfterExpiry() throws {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "w1:1", capacity: roomy, now: 0)
        try pool.settle(try pool.deploy(spec("m@1"), now: 0), now: 0)
        let original = try #require(pool.replicas(on: "w1").first)
        // w1 goes silent: forgotten at 6, and its replica's replacement cannot be placed (no other worker).
        let lost = pool.tick(now: 6)
        #expect(lost.first == .workerLost("w1", replicas: [original.id], reason: .leaseExpired(silence: 6)))
        #expect(pool.deployment("m@1")?.state == .pending)
        let actions = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: [held(original)], now: 7)
        #expect(actions.removals.isEmpty && actions.placements.isEmpty)
        let deployment = try #require(pool.deployment("m@1"))
        #expect(deployment.replicas.map(\.id) == [original.id])
        #expect(deployment.state == .ready && deployment.readyReplicas == 1)
    }

    @Test("A held replica of another version, an undeployed deployment, or an unknown one is removed")
    func removeUnwanted() throws {
        var pool = SchedulerState()
        try pool.settle(try pool.deploy(spec("m@prod", version: 2), now: 0), now: 0)
        let stale = HeldReplica(id: "m@prod#7", deploymentID: "m@prod", version: 1, state: .ready)
        let unknown = HeldReplica(id: "gone@1#3", deploymentID: "gone@1", version: 1, state: .loading)
        let actions = try pool.rejoin("w9", address: "w9:1", capacity: roomy, holding: [stale, unknown], now: 1)
        #expect(Set(actions.removals.map(\.0)) == ["m@prod#7", "gone@1#3"])
        #expect(actions.removals.first { $0.0 == "m@prod#7" }?.1 == true)  // a ready one drains
        #expect(actions.placements.map(\.0) == ["m@prod#1"])  // m@prod's own replica, now that a worker exists
        // New replica ids skip past every reported one.
        let next = try pool.deploy(spec("n@1"), now: 2)
        #expect(next.placements.map(\.0) == ["n@1#8"])
    }

    @Test("A restarted control plane (no memory) accepts the id, adopts nothing and removes every held replica")
    func restartedControlPlane() throws {
        var pool = SchedulerState()
        let heldReplicas = [
            HeldReplica(id: "m@1#1", deploymentID: "m@1", version: 1, state: .ready),
            HeldReplica(id: "m@1#2", deploymentID: "m@1", version: 1, state: .loading),
        ]
        let actions = try pool.rejoin("worker-3", address: "h:1", capacity: roomy, holding: heldReplicas, now: 0)
        #expect(actions.removals.map(\.0) == ["m@1#1", "m@1#2"])
        #expect(pool.pool.map(\.id) == ["worker-3"])
        #expect(pool.pool.first?.replicas.isEmpty == true)
        // Deployed again after the restart: the new replica does not reuse a held id.
        let placed = try pool.deploy(spec("m@1"), now: 1)
        #expect(placed.placements.map(\.0) == ["m@1#3"])
    }

    @Test("An adopted ready replica wins over a replacement still loading")
    func adoptedWinsOverLoading() throws {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "w1:1", capacity: roomy, now: 0)
        _ = try pool.join("w2", address: "w2:1", capacity: roomy, now: 0)
        try pool.settle(try pool.deploy(spec("m@1"), now: 0), now: 0)
        let original = try #require(pool.deployment("m@1")?.replicas.first)
        let home = try #require(original.workerID)
        let other: WorkerID = home == "w1" ? "w2" : "w1"
        for t in 1...6 { try pool.heartbeat(other, now: Double(t)) }
        let lost = pool.tick(now: 6)
        let replacement = try #require(lost.placements.first)
        #expect(replacement.1 == other)
        _ = try pool.replicaStatus(replacement.0, .loading, now: 6)
        let actions = try pool.rejoin(home, address: "\(home):1", capacity: roomy, holding: [held(original)], now: 7)
        #expect(actions.removals.map(\.0) == [replacement.0])
        #expect(actions.removals.first?.1 == false)  // not ready: unloaded at once
        #expect(pool.deployment("m@1")?.readyReplicas == 1)
    }
}
