import Testing
@testable import SchedulerCore

/// A deployment that follows an alias with an A/B split holds replicas of the challenger beside its own version's.
@Suite("A/B split challengers")
struct SplitTests {
    func twoWorkers() throws -> SchedulerState {
        var pool = SchedulerState()
        for w in ["w1", "w2"] {
            _ = try pool.join(WorkerID(w), address: "\(w):1", capacity: capacity(cpu: 4000, memory: 8 * gib), now: 0)
        }
        return pool
    }

    /// Two workers and `m@prod` at version 1 with `min` replicas, split with challenger 2, everything ready.
    func splitDeployment(min: Int) throws -> SchedulerState {
        var pool = try twoWorkers()
        try pool.settle(try pool.deploy(spec("m@prod", version: 1, min: min), now: 0), now: 0)
        try pool.settle(try pool.split("m@prod", challenger: 2, now: 1), now: 1)
        return pool
    }

    /// Versions held by each worker, sorted.
    func versions(_ pool: SchedulerState) -> [WorkerID: [UInt32]] {
        Dictionary(uniqueKeysWithValues: pool.pool.map { ($0.id, $0.replicas.filter(\.state.isLive).map(\.version).sorted()) })
    }

    @Test("A split places as many challenger replicas as the deployment's own, one beside each")
    func placesChallengers() throws {
        var pool = try twoWorkers()
        try pool.settle(try pool.deploy(spec("m@prod", version: 1, min: 2), now: 0), now: 0)
        let actions = try pool.split("m@prod", challenger: 2, now: 1)
        #expect(actions.removals.isEmpty)
        let placed = actions.compactMap { if case .place(let r, let w) = $0 { return (r.version, w) } else { return nil } }
        #expect(placed.map(\.0) == [2, 2])
        #expect(Set(placed.map(\.1)) == ["w1", "w2"])  // spread by version: one on each worker
        // Not ready while the challenger's replicas load; its reason says so.
        let loading = try #require(pool.deployment("m@prod"))
        #expect(loading.state == .progressing)
        #expect(loading.reason.contains("A/B challenger version 2: 0 ready"))
        try pool.settle(actions, now: 1)
        let done = try #require(pool.deployment("m@prod"))
        #expect(done.state == .ready)
        #expect(done.spec.version == 1 && done.spec.challengerVersion == 2)
        #expect(versions(pool) == ["w1": [1, 2], "w2": [1, 2]])
        // Asking again changes nothing.
        #expect(try pool.split("m@prod", challenger: 2, now: 2).isEmpty)
    }

    @Test("Scaling keeps the challenger's count equal to the deployment's")
    func scalesChallengers() throws {
        var pool = try twoWorkers()
        try pool.settle(try pool.deploy(spec("m@prod", version: 1, min: 1, max: 4), now: 0), now: 0)
        try pool.settle(try pool.split("m@prod", challenger: 2, now: 1), now: 1)
        #expect(versions(pool).values.flatMap { $0 }.sorted() == [1, 2])
        try pool.settle(try pool.scale("m@prod", desiredReplicas: 3, now: 2), now: 2)
        #expect(versions(pool).values.flatMap { $0 }.sorted() == [1, 1, 1, 2, 2, 2])
        let down = try pool.scale("m@prod", desiredReplicas: 1, now: 3)
        #expect(down.removals.count == 4)
        try pool.settle(down, now: 3)
        #expect(versions(pool).values.flatMap { $0 }.sorted() == [1, 2])
    }

    @Test("Ending the split drains the challenger's replicas and keeps the own version's")
    func endingRemoves() throws {
        var pool = try splitDeployment(min: 2)
        let ended = try pool.split("m@prod", challenger: 0, now: 2)
        #expect(ended.placements.isEmpty)
        #expect(ended.removals.count == 2 && ended.removals.allSatisfy { $0.1 })  // drained: they were serving
        let challengers = Set(try #require(pool.deployment("m@prod")).replicas.filter { $0.version == 2 }.map(\.id))
        #expect(Set(ended.removals.map(\.0)) == challengers)
        try pool.settle(ended, now: 2)
        #expect(versions(pool) == ["w1": [1], "w2": [1]])
        #expect(pool.deployment("m@prod")?.state == .ready)
    }

    @Test("Promoting the challenger keeps its replicas and drains the old version's, with no new placement")
    func promotionKeepsChallengers() throws {
        var pool = try splitDeployment(min: 2)
        let kept = Set(try #require(pool.deployment("m@prod")).replicas.filter { $0.version == 2 }.map(\.id))
        // The alias moves to the challenger (the registry ends the split with the move; the split's end follows).
        let promoted = try pool.roll("m@prod", to: 2, now: 2)
        #expect(promoted.placements.isEmpty)
        #expect(promoted.removals.count == 2)
        #expect(promoted.removals.allSatisfy { !kept.contains($0.0) })
        try pool.settle(promoted, now: 2)
        #expect(try pool.split("m@prod", challenger: 0, now: 3).isEmpty)
        let done = try #require(pool.deployment("m@prod"))
        #expect(Set(done.replicas.map(\.id)) == kept)
        #expect(done.state == .ready && done.spec.version == 2)
    }

    @Test("Changing the challenger replaces its replicas; a deployment being deleted refuses a split")
    func changeAndErrors() throws {
        var pool = try splitDeployment(min: 1)
        let changed = try pool.split("m@prod", challenger: 3, now: 2)
        let placedVersions = changed.compactMap { if case .place(let r, _) = $0 { return r.version } else { return nil } }
        #expect(placedVersions == [3])
        #expect(changed.removals.count == 1)  // version 2's replica: an old version now, the own one is ready
        try pool.settle(changed, now: 2)
        #expect(versions(pool).values.flatMap { $0 }.sorted() == [1, 3])
        #expect(throws: SchedulerError.self) { try pool.split("nope@prod", challenger: 2, now: 3) }
        _ = try pool.undeploy("m@prod", now: 4)
        #expect(throws: SchedulerError.self) { try pool.split("m@prod", challenger: 2, now: 4) }
    }

    @Test("A worker rejoining a control plane that lost track adopts the challenger's replica, not another version's")
    func rejoinAdoptsChallenger() throws {
        var pool = SchedulerState()
        _ = try pool.deploy(spec("m@prod", version: 1, min: 1), now: 0)  // no worker yet: pending
        _ = try pool.split("m@prod", challenger: 2, now: 0)
        let held = [
            HeldReplica(id: "m@prod#7", deploymentID: "m@prod", version: 1, state: .ready),
            HeldReplica(id: "m@prod#8", deploymentID: "m@prod", version: 2, state: .ready),
            HeldReplica(id: "m@prod#9", deploymentID: "m@prod", version: 3, state: .ready),
        ]
        let actions = try pool.rejoin("w1", address: "w1:1", capacity: capacity(cpu: 4000, memory: 8 * gib), holding: held, now: 1)
        #expect(actions.removals.map(\.0) == ["m@prod#9"])
        #expect(actions.placements.isEmpty)
        let deployment = try #require(pool.deployment("m@prod"))
        #expect(deployment.replicas.filter(\.state.isLive).map(\.id) == ["m@prod#7", "m@prod#8"])
        #expect(deployment.replicas.first { $0.id == "m@prod#8" }?.version == 2)
    }
}
