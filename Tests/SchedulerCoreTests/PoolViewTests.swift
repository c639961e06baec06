import Testing

@testable import SchedulerCore

/// The published view of the pool and the events between two views, with the clock passed in.
@Suite("Pool view")
struct PoolViewTests {
    static let offset = 1_700_000_000.0

    func joined(_ ids: [WorkerID], now: Double = 0) throws -> SchedulerState {
        var pool = SchedulerState()
        for id in ids { _ = try pool.join(id, address: "\(id):7000", capacity: capacity(cpu: 4000, memory: 8 * gib), now: now) }
        return pool
    }

    @Test("a first view announces every worker, then the replicas, then the deployments, in id order")
    func firstView() throws {
        var pool = try joined(["w2", "w1"])
        _ = try pool.deploy(spec("m@1", min: 2), now: 1)
        let view = pool.view(clockOffset: Self.offset)
        let changes = view.changes(since: PoolView())
        #expect(changes.count == 5)
        guard case .workerJoined(let first) = changes[0], case .workerJoined(let second) = changes[1] else {
            Issue.record("workers first: \(changes)")
            return
        }
        #expect([first.id, second.id] == ["w1", "w2"])
        #expect(first.joinedAt == Self.offset, "times move to the Unix clock")
        #expect(first.replicas.isEmpty && first.load == nil, "the Mesh lists replicas and load on their own")
        #expect(first.health == .serving)
        let replicas = changes[2...3].compactMap { if case .replicaChanged(let r) = $0 { r } else { nil } }
        #expect(replicas.map(\.id.rawValue) == ["m@1#1", "m@1#2"])
        #expect(replicas.allSatisfy { $0.state == .pending && $0.updatedAt == Self.offset + 1 && $0.workerID != nil })
        guard case .deploymentChanged(let deployment) = changes[4] else {
            Issue.record("deployment last: \(changes)")
            return
        }
        #expect(deployment.replicas.isEmpty && deployment.desiredReplicas == 2 && deployment.createdAt == Self.offset + 1)
    }

    @Test("an unchanged pool publishes nothing; a heartbeat alone changes no event")
    func unchanged() throws {
        var pool = try joined(["w1"])
        _ = try pool.deploy(spec("m@1"), now: 0)
        let before = pool.view(clockOffset: Self.offset)
        #expect(pool.view(clockOffset: Self.offset).changes(since: before).isEmpty)
        try pool.heartbeat("w1", load: LoadReport(workerId: "w1", total: Load(inFlight: 3)), now: 2)
        #expect(pool.view(clockOffset: Self.offset).changes(since: before).isEmpty)
    }

    @Test("a replica's progress, a broken stream and a drain each become one event with its reason")
    func progressAndHealth() throws {
        var pool = try joined(["w1", "w2"])
        let placed = try pool.deploy(spec("m@1"), now: 0).placements
        let replica = try #require(placed.first?.0)
        var published = pool.view(clockOffset: 0)

        _ = try pool.makeReady(replica, now: 1)
        var view = pool.view(clockOffset: 0)
        var changes = view.changes(since: published)
        #expect(changes.contains { if case .replicaChanged(let r) = $0 { r.id == replica && r.state == .ready } else { false } })
        published = view

        pool.streamLost("w1")
        view = pool.view(clockOffset: 0)
        changes = view.changes(since: published)
        #expect(changes == [.healthChanged("w1", from: .serving, to: .notServing, reason: "stream lost: lease running")])
        published = view

        _ = try pool.rejoin("w1", address: "w1:7000", capacity: capacity(cpu: 4000, memory: 8 * gib), holding: [], now: 2)
        view = pool.view(clockOffset: 0)
        changes = view.changes(since: published)
        #expect(changes.first == .healthChanged("w1", from: .notServing, to: .serving, reason: "stream connected"))
    }

    @Test("a lost worker leaves after its replicas are removed, with the reason it was lost")
    func workerLost() throws {
        var pool = try joined(["w1"])
        try pool.settle(try pool.deploy(spec("m@1"), now: 0), now: 0)
        let published = pool.view(clockOffset: 0)
        let actions = pool.tick(now: 10)
        var departures: [WorkerID: WorkerLossReason] = [:]
        for case .workerLost(let id, _, let reason) in actions { departures[id] = reason }
        let changes = pool.view(clockOffset: 0).changes(since: published, departures: departures)
        let replicas = changes.compactMap { if case .replicaChanged(let r) = $0 { r } else { nil } }
        // Its replacement waits unplaced (no worker left); the lost one is announced removed, before the worker leaves.
        #expect(replicas.map(\.id.rawValue) == ["m@1#2", "m@1#1"])
        #expect(replicas.map(\.state) == [.pending, .removed])
        #expect(changes.last == .workerLeft("w1", reason: "lease expired after 10000 ms"))
    }

    @Test("an undeployed deployment is announced as deleting once its last replica is gone")
    func undeployed() throws {
        var pool = try joined(["w1"])
        try pool.settle(try pool.deploy(spec("m@1"), now: 0), now: 0)
        let published = pool.view(clockOffset: 0)
        try pool.settle(try pool.undeploy("m@1", now: 1), now: 1)
        let changes = pool.view(clockOffset: 0).changes(since: published)
        #expect(changes.contains { if case .deploymentChanged(let d) = $0 { d.state == .deleting && d.id == "m@1" } else { false } })
        #expect(changes.contains { if case .replicaChanged(let r) = $0 { r.state == .removed } else { false } })
    }
}
