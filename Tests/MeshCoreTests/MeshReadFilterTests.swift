import MeshCore
import SchedulerCore
import Testing

@Suite("What a subscriber may read")
struct MeshReadFilterTests {
    private func event(_ payload: MeshEvent.Payload, _ revision: UInt64 = 1) -> MeshEvent {
        MeshEvent(revision: revision, occurredAtMs: 0, payload: payload)
    }

    @Test("models the subscriber cannot read leave the snapshot, their events and their replicas' load figures")
    func hidesUnreadableModels() throws {
        var filter = MeshReadFilter { $0 == "mine" }
        var worker = Worker(id: "w1", address: "w1:7000")
        worker.load = LoadReport(workerId: "w1", total: Load(inFlight: 3), replicas: [
            Load(replicaId: "r-mine", inFlight: 1), Load(replicaId: "r-theirs", inFlight: 2),
        ])
        let snapshot = Snapshot(
            workers: [worker],
            deployments: [
                Fixture.deployment("mine", state: .progressing),
                Fixture.deployment("theirs", state: .progressing),
            ],
            replicas: [
                Fixture.replica("r-mine", model: "mine", worker: "w1"),
                Fixture.replica("r-theirs", model: "theirs", worker: "w1"),
            ])
        guard case .snapshot(let seen)? = filter.visible(event(.snapshot(snapshot)))?.payload else {
            Issue.record("the snapshot itself is always visible")
            return
        }
        #expect(seen.deployments.map(\.model) == ["mine"])
        #expect(seen.replicas.map(\.id) == ["r-mine"])
        #expect(seen.workers.map(\.id) == ["w1"], "the pool's workers stay")
        #expect(seen.workers.first?.load?.replicas.map(\.replicaId) == ["r-mine"])
        #expect(seen.workers.first?.load?.total.inFlight == 3)

        #expect(filter.visible(event(Fixture.ready("r-new", model: "theirs"), 2)) == nil)
        #expect(filter.visible(event(Fixture.ready("r-other", model: "mine"), 3)) != nil)
        #expect(filter.visible(event(Fixture.deployment("theirs"), 4)) == nil)
        #expect(filter.visible(event(Fixture.deployment("mine"), 5)) != nil)
        let report = LoadReport(workerId: "w1", total: Load(inFlight: 1), replicas: [
            Load(replicaId: "r-new"), Load(replicaId: "r-other"),
        ])
        guard case .loadReported(let load)? = filter.visible(event(.loadReported(report), 5))?.payload else {
            Issue.record("load reports stay visible")
            return
        }
        #expect(load.replicas.map(\.replicaId) == ["r-other"], "a replica hidden by its event is hidden in loads too")
        #expect(filter.visible(event(Fixture.worker("w2"), 6)) != nil)
    }
}
