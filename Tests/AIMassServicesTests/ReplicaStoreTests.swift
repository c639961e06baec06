import AIMassServices
import SchedulerCore
import Testing

/// How a worker picks the replica that serves a call.
@Suite("Replica store")
struct ReplicaStoreTests {
    /// A store with ready replicas `ids` of model "dishes" version 1.
    func store(_ ids: [String]) throws -> ReplicaStore {
        let table = "user_id:token\titem_id:token\nalice\ttofu\nbob\ttofu\nbob\trice\n"
        let recommender = try RecommenderBuilder.build(
            bytes: Array(table.utf8), manifest: ["algorithm": "itemcf", "neighbours": "5"], model: "dishes", version: 1
        )
        let store = ReplicaStore()
        for id in ids {
            store.add(id: id, deploymentID: "dishes@1", model: "dishes", version: 1, admission: AdmissionController())
            store.markReady(id, recommender: recommender)
        }
        return store
    }

    @Test("two idle replicas share sequential calls in turn, instead of the first taking them all")
    func idleReplicasShareSequentialCalls() throws {
        let store = try store(["dishes@1#a", "dishes@1#b"])
        var served: [String: Int] = [:]
        var previous: String?
        for _ in 0..<10 {
            let entry = try #require(store.begin(model: "dishes", version: nil))
            #expect(entry.id != previous)
            previous = entry.id
            served[entry.id, default: 0] += 1
            store.finish(entry.id)
        }
        #expect(served == ["dishes@1#a": 5, "dishes@1#b": 5])
    }

    @Test("the replica with the fewest calls in flight is picked first; ties rotate among the least loaded")
    func fewestInFlightFirst() throws {
        let store = try store(["r1", "r2", "r3"])
        // A call that keeps running: its replica is busier than the others.
        let busy = try #require(store.begin(model: "dishes", version: nil))
        var picked: [String] = []
        for _ in 0..<4 {
            let entry = try #require(store.begin(model: "dishes", version: nil))
            picked.append(entry.id)
            store.finish(entry.id)
        }
        #expect(!picked.contains(busy.id))
        #expect(Set(picked).count == 2)
        #expect(store.entry(busy.id)?.inFlight == 1)
        store.finish(busy.id)
        #expect(store.begin(model: "dishes", version: 2) == nil)
        #expect(store.begin(model: "movies", version: nil) == nil)
    }
}
