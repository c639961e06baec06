import AIMassAPI
import AIMassServices
import Foundation
import MeshCore
import ModelRegistry
import SchedulerCore
import Testing

/// The scheduler's desired state written to a ``ControlPlaneStore`` and read back by a new controller, as after a
/// `kill -9`: deployments with their selector and counts, cordons, and the adoption of what workers still hold.
@Suite("Scheduler persistence")
struct SchedulerPersistenceTests {
    static let artifact = SchedulerController.ArtifactInfo(sha256: String(repeating: "a", count: 64), sizeBytes: 1, manifest: [:])

    static func controller(_ store: ControlPlaneStore, grace: Double = 30) -> SchedulerController {
        SchedulerController(
            configuration: .init(restartGrace: grace), mesh: MeshHub(), store: store, lookup: { _, _ in artifact }
        )
    }

    static func hello(_ id: String = "", holding: [ReplicaStatus] = []) -> WorkerHello {
        WorkerHello(
            workerId: id, address: "127.0.0.1:7001",
            capacity: AIMassAPI.Capacity(cpuMillis: 4000, memoryBytes: 8 << 30, replicaSlots: 4), replicas: holding
        )
    }

    @Test("Deployments, selectors, counts and cordons come back; held replicas are adopted with their ids")
    func restartRestores() throws {
        let directory = NSTemporaryDirectory() + "aimass-scheduler-persist-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var store = try ControlPlaneStore.open(dataDirectory: directory)
        let first = Self.controller(store)
        let session = try first.attach(Self.hello())
        let spec = DeploymentSpec(
            id: "movies@production", model: "movies", version: 3, minReplicas: 1, maxReplicas: 3, priority: 5,
            selector: .init(alias: "production"))
        _ = try first.deploy(spec, selector: VersionSelector(alias: "production"), artifact: Self.artifact)
        _ = try first.scale("movies@production", min: nil, max: nil, desired: 2)
        let replicas = try #require(first.deployment("movies@production")?.replicas)
        #expect(replicas.count == 2)
        // The worker loads both.
        for replica in replicas {
            for state in [AIMassAPI.ReplicaState.downloading, .loading, .ready] {
                try first.receive(JoinRequest(payload: .status(ReplicaStatus(replicaId: replica.id.rawValue, state: state))), from: session)
            }
        }
        _ = try first.drain(session.workerID, reason: "disk swap", force: false)
        first.shutdown()
        store.close()  // as kill -9 would leave it: everything acknowledged is on disk

        store = try ControlPlaneStore.open(dataDirectory: directory)
        defer { store.close() }
        let second = Self.controller(store)
        #expect(try second.restore() == 1)
        #expect(second.epoch > first.epoch, "a restarted control plane fences with a greater epoch")
        let restored = try #require(second.deployment("movies@production"))
        #expect(restored.spec == spec)
        #expect(restored.desiredReplicas == 2)
        #expect(restored.replicas.isEmpty)
        #expect(second.selector(of: "movies@production") == VersionSelector(alias: "production"))
        let held = replicas.map {
            ReplicaStatus(replicaId: $0.id.rawValue, state: .ready, deploymentId: "movies@production", version: 3)
        }
        let back = try second.attach(Self.hello(session.workerID.rawValue, holding: held))
        #expect(back.workerID == session.workerID)
        // Adopted under their ids and READY; being on a cordoned worker, they wait there for replacements elsewhere.
        let adopted = try #require(second.deployment("movies@production")).replicas.filter { $0.workerID == back.workerID }
        #expect(adopted.map(\.id) == replicas.map(\.id))
        #expect(adopted.allSatisfy { $0.state == .ready })
        let worker = try #require(second.worker(session.workerID))
        #expect(worker.cordoned && worker.drainReason == "disk swap")
        // A new worker does not get the id of the one that was known before.
        let other = try second.attach(Self.hello())
        #expect(other.workerID != session.workerID)
        second.shutdown()
    }

    @Test("A successor on the previous leader's Mesh keeps the awaited worker's replicas published, then adopts them")
    func successorKeepsTheMesh() throws {
        let directory = NSTemporaryDirectory() + "aimass-scheduler-successor-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var store = try ControlPlaneStore.open(dataDirectory: directory)
        let first = Self.controller(store)
        let session = try first.attach(Self.hello())
        let spec = DeploymentSpec(id: "movies@1", model: "movies", version: 1)
        _ = try first.deploy(spec, selector: VersionSelector(number: 1), artifact: Self.artifact)
        let replica = try #require(first.deployment("movies@1")?.replicas.first)
        for state in [AIMassAPI.ReplicaState.downloading, .loading, .ready] {
            try first.receive(JoinRequest(payload: .status(ReplicaStatus(replicaId: replica.id.rawValue, state: state))), from: session)
        }
        let told = first.mesh.state
        #expect(told.replicas[replica.id.rawValue]?.state == .ready)
        first.shutdown()
        store.close()

        store = try ControlPlaneStore.open(dataDirectory: directory)
        defer { store.close() }
        let successor = SchedulerController(
            configuration: .init(restartGrace: 30), mesh: MeshHub(state: told), store: store, lookup: { _, _ in Self.artifact })
        try successor.restore()
        // Its pool is empty until the worker rejoins, but the Mesh keeps telling clients where the replica serves.
        #expect(successor.pool.isEmpty)
        #expect(successor.mesh.state.workers[session.workerID.rawValue] != nil)
        #expect(successor.mesh.state.replicas[replica.id.rawValue]?.state == .ready)
        let held = ReplicaStatus(replicaId: replica.id.rawValue, state: .ready, deploymentId: "movies@1", version: 1)
        _ = try successor.attach(Self.hello(session.workerID.rawValue, holding: [held]))
        #expect(successor.mesh.state.replicas[replica.id.rawValue]?.state == .ready)
        #expect(successor.mesh.state.workers.keys.sorted() == [session.workerID.rawValue])
        #expect(successor.mesh.revision > told.revision)
        successor.shutdown()
    }
}
