import AIMassAPI
import AIMassServer
import AIMassServices
import Foundation
import RPCCore
import RPCHTTP2
import Testing

@testable import ModelRegistry

/// The Scheduler service on an embedded platform: its local worker joins over loopback, deployed replicas are
/// downloaded, loaded and served by it; pending deployments, scaling, undeploying, and Join protocol errors.
@Suite("Scheduler service", .serialized)
struct SchedulerServiceTests {
    typealias Fixture = RecommendServiceTests.Fixture

    static func scheduler<Request: WireMessage, Response: WireMessage>(
        _ fixture: Fixture, _ method: MethodDescriptor, _ request: Request
    ) async throws -> Response {
        try await fixture.client.unary(method, request: request, options: fixture.options)
    }

    /// Polls GetDeployment until `done` holds (120 s at most: a bound against hangs, generous for a loaded machine).
    static func waitFor(
        _ fixture: Fixture, _ id: String, _ done: (Deployment) -> Bool
    ) async throws -> Deployment {
        let end = ContinuousClock.now + .seconds(120)
        while true {
            let deployment: Deployment = try await scheduler(fixture, SchedulerMethods.getDeployment, GetDeploymentRequest(id: id))
            if done(deployment) { return deployment }
            guard ContinuousClock.now < end else {
                Issue.record("timed out waiting for \(id): \(deployment.state) \(deployment.reason) \(deployment.replicas)")
                return deployment
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func withFixture(
        scheduler: SchedulerController.Configuration = .defaults, _ body: (Fixture) async throws -> Void
    ) async throws {
        let fixture = try await Fixture.start(scheduler: scheduler)
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    static func status(_ body: () async throws -> Void) async -> StatusCode? {
        do { try await body() } catch let error as RPCError { return error.code } catch { return nil }
        return .ok
    }

    @Test("a deployed model becomes READY on the local worker and serves Recommend from it")
    func deployServesFromLocalWorker() async throws {
        try await Self.withFixture { fixture in
            let deployed: Deployment = try await Self.scheduler(fixture, SchedulerMethods.deploy, DeployRequest(model: "dishes", minReplicas: 1))
            #expect(deployed.id == "dishes@1")
            #expect(deployed.resolvedVersion == 1)
            let ready = try await Self.waitFor(fixture, deployed.id) { $0.readyReplicas == 1 }
            #expect(ready.state == .ready && ready.pendingCode == 0)
            let replica = try #require(ready.replicas.first)
            let localID = try #require(fixture.platform.localWorker?.workerID)
            #expect(replica.workerId == localID && replica.state == .ready)

            let response: RecommendResponse = try await fixture.call(
                RecommendMethods.recommend, RecommendRequest(model: "dishes", userId: "alice", k: 3, excludeSeen: true)
            )
            #expect(!response.items.isEmpty)
            #expect(response.servedBy?.workerId == localID)
            #expect(response.servedBy?.replicaId == replica.id)

            let pool: GetPoolResponse = try await Self.scheduler(fixture, SchedulerMethods.getPool, GetPoolRequest())
            #expect(pool.workers.count == 1)
            #expect(pool.workers.first?.health == .serving)
            #expect(pool.workers.first?.replicas.map(\.id) == [replica.id])
            #expect(pool.workers.first?.allocated?.replicaSlots == 1)
            let mesh = fixture.platform.mesh.state
            #expect(mesh.workers[localID] != nil)
            #expect(mesh.replicas[replica.id]?.state == .ready)
            #expect(mesh.deployments[deployed.id]?.readyReplicas == 1)

            let listed: ListDeploymentsResponse = try await Self.scheduler(fixture, SchedulerMethods.listDeployments, ListDeploymentsRequest())
            #expect(listed.deployments.map(\.id) == ["dishes@1"])
            let again = await Self.status {
                let _: Deployment = try await Self.scheduler(fixture, SchedulerMethods.deploy, DeployRequest(model: "dishes", minReplicas: 1))
            }
            #expect(again == .alreadyExists)
        }
    }

    @Test("a deployment that does not fit stays PENDING with the shortfall as its reason")
    func pendingWhenItDoesNotFit() async throws {
        try await Self.withFixture { fixture in
            let request = DeployRequest(
                model: "dishes", version: VersionSelector(number: 1), minReplicas: 1,
                resources: Resources(cpuMillis: 1_000_000, memoryBytes: 1 << 20)
            )
            let deployed: Deployment = try await Self.scheduler(fixture, SchedulerMethods.deploy, request)
            #expect(deployed.state == .pending)
            let pending = try await Self.waitFor(fixture, deployed.id) { $0.reason.contains("unplaced") }
            #expect(pending.state == .pending)
            #expect(pending.reason.contains("1000000 cpu millis") || pending.reason.contains("cpu"))
            #expect(pending.replicas.allSatisfy { $0.workerId.isEmpty && $0.state == .pending })
            // Machine-readable: RESOURCE_EXHAUSTED (8) once the pool has a worker but not the room.
            for _ in 0..<200 {
                let pool: GetPoolResponse = try await Self.scheduler(fixture, SchedulerMethods.getPool, GetPoolRequest())
                if !pool.workers.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let exhausted = try await Self.waitFor(fixture, deployed.id) {
                $0.pendingCode == Int32(StatusCode.resourceExhausted.rawValue)
            }
            #expect(exhausted.state == .pending && exhausted.reason.contains("the largest free is"))
        }
    }

    @Test("Scale changes the desired count; Undeploy drains and removes every replica")
    func scaleAndUndeploy() async throws {
        try await Self.withFixture { fixture in
            let deployed: Deployment = try await Self.scheduler(
                fixture, SchedulerMethods.deploy, DeployRequest(model: "dishes", minReplicas: 1, maxReplicas: 3)
            )
            _ = try await Self.waitFor(fixture, deployed.id) { $0.readyReplicas == 1 }
            let scaled: Deployment = try await Self.scheduler(fixture, SchedulerMethods.scale, ScaleRequest(id: deployed.id, desiredReplicas: 2))
            #expect(scaled.desiredReplicas == 2)
            _ = try await Self.waitFor(fixture, deployed.id) { $0.readyReplicas == 2 && $0.state == .ready }
            let invalid = await Self.status {
                let _: Deployment = try await Self.scheduler(fixture, SchedulerMethods.scale, ScaleRequest(id: deployed.id, minReplicas: 5))
            }
            #expect(invalid == .invalidArgument)

            let undeployed: Deployment = try await Self.scheduler(fixture, SchedulerMethods.undeploy, UndeployRequest(id: deployed.id))
            #expect(undeployed.state == .deleting)
            let end = ContinuousClock.now + .seconds(120)
            var gone = false
            while ContinuousClock.now < end, !gone {
                gone = await Self.status {
                    let _: Deployment = try await Self.scheduler(fixture, SchedulerMethods.getDeployment, GetDeploymentRequest(id: deployed.id))
                } == .notFound
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(gone)
            let pool: GetPoolResponse = try await Self.scheduler(fixture, SchedulerMethods.getPool, GetPoolRequest())
            #expect(pool.workers.first?.replicas.isEmpty == true)
            #expect(fixture.platform.localWorker?.store.entries.isEmpty == true)
            // Not deployed any more: served by the lazy loader, as before deployments existed.
            let response: RecommendResponse = try await fixture.call(RecommendMethods.recommend, RecommendRequest(model: "dishes", userId: "alice"))
            #expect(response.servedBy?.workerId == "local")
        }
    }

    @Test("moving an alias rolls the deployments that follow it to the new version")
    func aliasMoveRolls() async throws {
        try await Self.withFixture { fixture in
            let registry = fixture.platform.registry
            let token = try String(contentsOfFile: registry.adminTokenPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let admin = try registry.authenticate(token: token)
            let dishes = RecommendServiceTests.repositoryRoot.appendingPathComponent("examples/dishes/interactions.tsv")
            let bytes = Array(try Data(contentsOf: dishes))
            let upload = try registry.beginUpload(
                model: "dishes",
                header: VersionHeader(
                    sizeBytes: Int64(bytes.count), sha256: try SHA256Hasher.hex(of: bytes),
                    manifest: ["algorithm": "itemcf", "neighbours": "3"]
                ),
                by: admin
            )
            try upload.append(bytes)
            _ = try upload.finish()
            let moved: SetAliasResponse = try await fixture.client.unary(
                ModelRegistryMethods.setAlias,
                request: SetAliasRequest(model: "dishes", alias: "production", version: 1), options: fixture.options
            )
            #expect(moved.change?.version == 1)
            let deployed: Deployment = try await Self.scheduler(
                fixture, SchedulerMethods.deploy, DeployRequest(model: "dishes", version: VersionSelector(alias: "production"))
            )
            #expect(deployed.id == "dishes@production" && deployed.resolvedVersion == 1)
            _ = try await Self.waitFor(fixture, deployed.id) { $0.readyReplicas == 1 }
            // No version asked for: the newest version with a ready replica (1), not the newest upload (2).
            let unpinned: RecommendResponse = try await fixture.call(RecommendMethods.recommend, RecommendRequest(model: "dishes", userId: "alice"))
            #expect(unpinned.servedBy?.version == 1)
            #expect(unpinned.servedBy?.workerId == fixture.platform.localWorker?.workerID)
            let _: SetAliasResponse = try await fixture.client.unary(
                ModelRegistryMethods.setAlias,
                request: SetAliasRequest(model: "dishes", alias: "production", version: 2), options: fixture.options
            )
            let rolled = try await Self.waitFor(fixture, deployed.id) {
                $0.resolvedVersion == 2 && $0.state == .ready && $0.replicas.allSatisfy { $0.version == 2 }
            }
            #expect(rolled.readyReplicas == 1)
            let response: RecommendResponse = try await fixture.call(
                RecommendMethods.recommend, RecommendRequest(model: "dishes", version: VersionSelector(alias: "production"), userId: "alice")
            )
            #expect(response.servedBy?.version == 2)
            #expect(response.servedBy?.workerId == fixture.platform.localWorker?.workerID)
        }
    }

    @Test("Join: the first message must be a hello, with a valid address and capacity")
    func joinProtocolErrors() async throws {
        try await Self.withFixture { fixture in
            func joinStatus(_ first: JoinRequest) async -> StatusCode? {
                await Self.status {
                    let call: ClientCall<JoinRequest, JoinResponse> = try await fixture.client.makeCall(
                        SchedulerMethods.join, options: fixture.options
                    )
                    try await call.send(first)
                    call.finishSending()
                    for try await _ in call.responses {}
                }
            }
            #expect(await joinStatus(JoinRequest(payload: .load(LoadReport()))) == .invalidArgument)
            #expect(await joinStatus(JoinRequest(payload: .hello(WorkerHello(address: "nowhere")))) == .invalidArgument)
            let noCapacity = WorkerHello(address: "127.0.0.1:1", capacity: Capacity(cpuMillis: 0, memoryBytes: 1, replicaSlots: 1))
            #expect(await joinStatus(JoinRequest(payload: .hello(noCapacity))) == .invalidArgument)
            // A hello and a clean half-close: welcomed, then the worker leaves the pool.
            let good = WorkerHello(address: "127.0.0.1:1", capacity: Capacity(cpuMillis: 1000, memoryBytes: 1 << 30, replicaSlots: 1))
            #expect(await joinStatus(JoinRequest(payload: .hello(good))) == .ok)
            var anonymous = fixture.options
            anonymous.metadata = [:]
            let unauthenticated = await Self.status {
                let call: ClientCall<JoinRequest, JoinResponse> = try await fixture.client.makeCall(
                    SchedulerMethods.join, options: anonymous
                )
                try await call.send(JoinRequest(payload: .hello(good)))
                call.finishSending()
                for try await _ in call.responses {}
            }
            #expect(unauthenticated == .unauthenticated)
        }
    }
}
