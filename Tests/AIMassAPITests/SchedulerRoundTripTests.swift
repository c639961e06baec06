import Testing

@testable import AIMassAPI

/// Every message of scheduler.proto survives value → wireBytes → init(wireBytes:) unchanged.
@Suite struct SchedulerRoundTripTests {
    @Test func replica() throws {
        try expectRoundTrip(Samples.replica)
    }

    @Test func deployment() throws {
        try expectRoundTrip(Samples.deployment)
    }

    @Test func deployRequest() throws {
        try expectRoundTrip(Samples.deployRequest)
    }

    @Test func undeployRequest() throws {
        try expectRoundTrip(Samples.undeployRequest)
    }

    @Test func getDeploymentRequest() throws {
        try expectRoundTrip(Samples.getDeploymentRequest)
    }

    @Test func listDeploymentsRequest() throws {
        try expectRoundTrip(Samples.listDeploymentsRequest)
    }

    @Test func listDeploymentsResponse() throws {
        try expectRoundTrip(Samples.listDeploymentsResponse)
    }

    @Test func scaleRequest() throws {
        try expectRoundTrip(Samples.scaleRequest)
    }

    @Test func getPoolRequest() throws {
        try expectRoundTrip(Samples.getPoolRequest)
    }

    @Test func getPoolResponse() throws {
        try expectRoundTrip(Samples.getPoolResponse)
    }

    @Test func capacity() throws {
        try expectRoundTrip(Samples.capacity)
    }

    @Test func worker() throws {
        try expectRoundTrip(Samples.worker)
    }

    @Test func drainWorkerRequest() throws {
        try expectRoundTrip(Samples.drainWorkerRequest)
    }

    @Test func uncordonWorkerRequest() throws {
        try expectRoundTrip(Samples.uncordonWorkerRequest)
    }

    @Test func load() throws {
        try expectRoundTrip(Samples.load)
    }

    @Test func loadReport() throws {
        try expectRoundTrip(Samples.loadReport)
    }

    @Test func joinRequest() throws {
        try expectRoundTrip(Samples.joinRequest)
        try expectRoundTrip(JoinRequest(payload: .load(Samples.loadReport)))
        try expectRoundTrip(JoinRequest(payload: .status(Samples.replicaStatus)))
        try expectRoundTrip(JoinRequest())
    }

    @Test func workerHello() throws {
        try expectRoundTrip(Samples.workerHello)
    }

    @Test func replicaStatus() throws {
        try expectRoundTrip(Samples.replicaStatus)
    }

    @Test func joinResponse() throws {
        try expectRoundTrip(Samples.joinResponse)
        try expectRoundTrip(JoinResponse(payload: .place(Samples.placeReplica)))
        try expectRoundTrip(JoinResponse(payload: .remove(Samples.removeReplica)))
        try expectRoundTrip(JoinResponse(payload: .drain(Samples.drain)))
        try expectRoundTrip(JoinResponse())
    }

    @Test func welcome() throws {
        try expectRoundTrip(Samples.welcome)
    }

    @Test func placeReplica() throws {
        try expectRoundTrip(Samples.placeReplica)
    }

    @Test func removeReplica() throws {
        try expectRoundTrip(Samples.removeReplica)
    }

    @Test func drain() throws {
        try expectRoundTrip(Samples.drain)
    }
}
