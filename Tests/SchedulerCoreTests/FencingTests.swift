import Testing

@testable import SchedulerCore

/// Fencing by epoch: placements carry the control plane's epoch, and a rejoining worker's replicas are confirmed
/// under the current epoch or removed; a worker placed by a newer control plane is refused by an older one.
@Suite("Fencing")
struct FencingTests {
    let roomy = capacity(cpu: 2000, memory: 4 * gib)

    func held(_ replica: Replica, epoch: UInt64) -> HeldReplica {
        HeldReplica(
            id: replica.id, deploymentID: replica.deploymentID, version: replica.version, state: replica.state, epoch: epoch)
    }

    @Test("a placement carries the epoch of the control plane that made it")
    func placementCarriesEpoch() throws {
        var pool = SchedulerState()
        pool.epoch = 7
        _ = try pool.join("w1", address: "w1:1", capacity: roomy, now: 0)
        let placed = try pool.deploy(spec("m@1"), now: 0)
        let replicas = placed.compactMap { if case .place(let r, _) = $0 { r } else { nil } }
        #expect(replicas.map(\.epoch) == [7])
    }

    @Test("after a restart the replica a worker held under the old epoch is adopted and confirmed under the new one")
    func adoptionConfirms() throws {
        var before = SchedulerState()
        before.epoch = 1
        _ = try before.join("w1", address: "w1:1", capacity: roomy, now: 0)
        try before.settle(try before.deploy(spec("m@1"), now: 0), now: 0)
        let replica = try #require(before.replicas(on: "w1").first)

        var after = SchedulerState()
        after.epoch = 2
        try after.restore(before.desiredState, holdUntil: 10, now: 0)
        let actions = try after.rejoin("w1", address: "w1:1", capacity: roomy, holding: [held(replica, epoch: 1)], now: 1)
        let confirmed = actions.compactMap { if case .confirm(let r, let w) = $0 { (r, w) } else { nil } }
        #expect(confirmed.map(\.0.id) == [replica.id] && confirmed.map(\.1) == ["w1"])
        #expect(confirmed.first?.0.epoch == 2)
        #expect(actions.placements.isEmpty && actions.removals.isEmpty)
        #expect(after.replicas(on: "w1").map(\.epoch) == [2])
    }

    @Test("a replica of an old version held under an old epoch is removed, not confirmed")
    func staleVersionRemoved() throws {
        var pool = SchedulerState()
        pool.epoch = 3
        _ = try pool.join("w2", address: "w2:1", capacity: roomy, now: 0)
        try pool.settle(try pool.deploy(spec("m@prod", version: 2), now: 0), now: 0)
        let old = HeldReplica(id: "m@prod#1", deploymentID: "m@prod", version: 1, state: .ready, epoch: 2)
        let actions = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: [old], now: 1)
        #expect(actions.removals.map(\.0) == ["m@prod#1"])
        #expect(!actions.contains { if case .confirm = $0 { true } else { false } })
    }

    @Test("a worker that was placed by a newer control plane is refused: this one is stale")
    func staleControlPlaneRefuses() throws {
        var pool = SchedulerState()
        pool.epoch = 4
        #expect(throws: SchedulerError.self) {
            try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: [], seenEpoch: 5, now: 0)
        }
        let newer = HeldReplica(id: "m@1#9", deploymentID: "m@1", version: 1, state: .ready, epoch: 6)
        do {
            _ = try pool.rejoin("w1", address: "w1:1", capacity: roomy, holding: [newer], now: 0)
            Issue.record("a stale control plane accepted a worker of epoch 6")
        } catch {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("stale"))
        }
        #expect(pool.pool.isEmpty)
    }
}
