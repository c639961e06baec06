import Testing

@testable import AIMassAPI

/// Every message of mesh.proto survives value → wireBytes → init(wireBytes:) unchanged.
@Suite struct MeshRoundTripTests {
    @Test func watchRequest() throws {
        try expectRoundTrip(Samples.watchRequest)
    }

    @Test func meshEvent() throws {
        try expectRoundTrip(Samples.meshEvent)
        try expectRoundTrip(MeshEvent(payload: .workerJoined(Samples.worker)))
        try expectRoundTrip(MeshEvent(payload: .workerLeft(Samples.workerLeft)))
        try expectRoundTrip(MeshEvent(payload: .healthChanged(Samples.healthChanged)))
        try expectRoundTrip(MeshEvent(payload: .loadReported(Samples.loadReport)))
        try expectRoundTrip(MeshEvent(payload: .replicaPlaced(Samples.replica)))
        try expectRoundTrip(MeshEvent(payload: .replicaReady(Samples.replica)))
        try expectRoundTrip(MeshEvent(payload: .replicaDraining(Samples.replica)))
        try expectRoundTrip(MeshEvent(payload: .replicaRemoved(Samples.replica)))
        try expectRoundTrip(MeshEvent(payload: .deploymentScaled(Samples.deployment)))
        try expectRoundTrip(MeshEvent(payload: .versionPublished(Samples.version)))
        try expectRoundTrip(MeshEvent(payload: .aliasMoved(Samples.aliasChange)))
        try expectRoundTrip(MeshEvent(payload: .heartbeat(Samples.heartbeat)))
        try expectRoundTrip(MeshEvent())
    }

    @Test func snapshot() throws {
        try expectRoundTrip(Samples.snapshot)
    }

    @Test func workerLeft() throws {
        try expectRoundTrip(Samples.workerLeft)
    }

    @Test func healthChanged() throws {
        try expectRoundTrip(Samples.healthChanged)
    }

    @Test func heartbeat() throws {
        try expectRoundTrip(Samples.heartbeat)
    }
}
