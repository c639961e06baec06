import AIMassAPI
import AIMassServices
import MeshCore
import SchedulerCore
import Testing

/// The high-availability journal's checkpoint: a Mesh state as aimass.v1 messages and back.
@Suite("Mesh checkpoint")
struct MeshCheckpointTests {
    @Test("A state survives the round trip: workers, deployments, replicas, versions, aliases and the revision")
    func roundTrip() throws {
        var state = MeshState()
        let worker = SchedulerCore.Worker(
            id: "w1", address: "127.0.0.1:7001", capacity: .init(cpuMillis: 2000, memoryBytes: 1 << 30, replicaSlots: 4),
            joinedAt: 1_700_000_000.25, lastSeen: 1_700_000_001.5, health: .serving)
        _ = try state.apply(.workerJoined(worker))
        let deployment = SchedulerCore.Deployment(
            spec: DeploymentSpec(id: "movies@production", model: "movies", version: 2, minReplicas: 1, maxReplicas: 3,
                                 selector: .init(alias: "production")),
            desiredReplicas: 2, readyReplicas: 1, state: .progressing, reason: "1 of 2 ready", createdAt: 1_700_000_000)
        _ = try state.apply(.deploymentScaled(deployment))
        let replica = SchedulerCore.Replica(
            id: "movies@production#1", deploymentID: "movies@production", model: "movies", version: 2, workerID: "w1",
            state: .ready, updatedAt: 1_700_000_002, epoch: 7)
        _ = try state.apply(.replicaReady(replica))
        _ = try state.apply(.versionPublished(.init(model: "movies", number: 2)))
        _ = try state.apply(.aliasMoved(.init(model: "movies", alias: "production", version: 2)))

        let decoded = try MeshCheckpoint.decode(MeshCheckpoint.encode(state))
        #expect(decoded == state)
        #expect(decoded.revision == 5)
        // The next change applies as it would have on the original.
        var original = state
        var copy = decoded
        let move = MeshCore.MeshEvent.Payload.aliasMoved(.init(model: "movies", alias: "production", version: 1))
        #expect(try copy.apply(move) == original.apply(move))
    }

    @Test("Bytes that are not a checkpoint are refused")
    func refusesGarbage() {
        #expect(throws: (any Error).self) { try MeshCheckpoint.decode([0, 0, 0, 9, 1]) }
        #expect(throws: (any Error).self) { try MeshCheckpoint.decode([]) }
    }
}
