import SchedulerCore
import Testing

@testable import MeshCore

@Suite struct MeshStateTests {
    @Test func stateChangesTakeRevisionsAndNoOpsDoNot() throws {
        var state = MeshState()
        #expect(try state.apply(Fixture.worker("w1")) != nil)
        #expect(state.revision == 1)
        #expect(try state.apply(Fixture.worker("w1")) == nil)
        #expect(state.revision == 1)
        #expect(try state.apply(Fixture.load("w1", inFlight: 3)) != nil)
        #expect(state.revision == 1)
        #expect(state.workers["w1"]?.load?.total.inFlight == 3)
        #expect(try state.apply(Fixture.load("ghost", inFlight: 3)) == nil)
        #expect(try state.apply(.healthChanged(HealthChanged(workerId: "ghost", health: .draining))) == nil)
        #expect(state.revision == 1)
    }

    @Test func healthChangeFillsPreviousAndAliasFillsPreviousVersion() throws {
        var state = MeshState()
        _ = try state.apply(Fixture.worker("w1", health: .serving))
        let change = try state.apply(.healthChanged(HealthChanged(workerId: "w1", health: .draining, reason: "drain")))
        #expect(change == .healthChanged(HealthChanged(workerId: "w1", previous: .serving, health: .draining, reason: "drain")))
        _ = try state.apply(.aliasMoved(AliasChange(model: "m", alias: "production", version: 1)))
        let moved = try state.apply(.aliasMoved(AliasChange(model: "m", alias: "production", version: 2)))
        #expect(moved == .aliasMoved(AliasChange(model: "m", alias: "production", previousVersion: 1, version: 2)))
        #expect(state.aliases["m"] == ["production": 2])
        #expect(state.revision == 4)
    }

    @Test func workerLeavingTakesItsReplicasAndDeletingForgetsDeployment() throws {
        var state = MeshState()
        _ = try state.apply(Fixture.worker("w1"))
        _ = try state.apply(Fixture.worker("w2"))
        _ = try state.apply(Fixture.deployment("m"))
        _ = try state.apply(Fixture.ready("r1", model: "m", worker: "w1"))
        _ = try state.apply(Fixture.ready("r2", model: "m", worker: "w2"))
        _ = try state.apply(.workerLeft(WorkerLeft(workerId: "w1", reason: "lease expired")))
        #expect(Set(state.replicas.keys) == ["r2"])
        _ = try state.apply(.deploymentScaled(Fixture.deployment("m", state: .deleting)))
        #expect(state.deployments.isEmpty)
        let snapshot = state.snapshot()
        #expect(snapshot.workers.map(\.id) == ["w2"])
        #expect(snapshot.replicas.map(\.id) == ["r2"])
    }

    @Test func snapshotsAndHeartbeatsAreNotPublishable() {
        var state = MeshState()
        #expect(throws: MeshError.notPublishable(.heartbeat)) { try state.apply(.heartbeat) }
        #expect(throws: MeshError.notPublishable(.snapshot)) { try state.apply(.snapshot(Snapshot())) }
    }

    @Test func eventLogKeepsTheLastEventsAndAnswersResumes() {
        var log = EventLog(capacity: 3)
        #expect(log.events(after: 0) == nil)
        for revision in UInt64(1)...5 {
            log.append(MeshEvent(revision: revision, occurredAtMs: 0, payload: .heartbeat))
        }
        #expect(log.oldestRevision == 3)
        #expect(log.newestRevision == 5)
        #expect(log.events(after: 2)?.map(\.revision) == [3, 4, 5])
        #expect(log.events(after: 4)?.map(\.revision) == [5])
        #expect(log.events(after: 5)?.isEmpty == true)
        #expect(log.events(after: 1) == nil)
        #expect(log.events(after: 6) == nil)
    }

    @Test func healthViewFollowsWorkersAndReadyReplicas() throws {
        var state = MeshState()
        _ = try state.apply(Fixture.worker("w1", health: .serving))
        _ = try state.apply(Fixture.worker("w2", health: .draining))
        _ = try state.apply(Fixture.deployment("a"))
        _ = try state.apply(Fixture.deployment("b"))
        _ = try state.apply(Fixture.ready("r1", model: "a", worker: "w1"))
        _ = try state.apply(Fixture.ready("r2", model: "b", worker: "w2"))
        let view = HealthView(state: state)
        #expect(view.status(forService: "") == .serving)
        #expect(view.status(forService: "worker/w2") == .draining)
        #expect(view.status(forService: "model/a") == .serving)
        #expect(view.status(forService: "model/b") == .notServing)
        #expect(view.status(forService: "model/zzz") == nil)
        #expect(HealthView(state: state, shuttingDown: true).overall == .draining)
    }
}
