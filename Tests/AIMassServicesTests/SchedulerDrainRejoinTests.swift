import AIMassAPI
import AIMassServer
import Foundation
import RPCCore
import RPCHTTP2
import Testing

/// DrainWorker / UncordonWorker and a worker's rejoin, on an embedded platform (its local worker) with a second
/// worker: a real `WorkerServer`, or a raw Join stream acting as one.
@Suite("Scheduler drain and rejoin", .serialized)
struct SchedulerDrainRejoinTests {
    typealias Fixture = RecommendServiceTests.Fixture
    typealias S = SchedulerServiceTests

    static func adminToken(_ fixture: Fixture) throws -> String {
        try String(contentsOfFile: fixture.platform.registry.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func pool(_ fixture: Fixture) async throws -> [Worker] {
        let pool: GetPoolResponse = try await S.scheduler(fixture, SchedulerMethods.getPool, GetPoolRequest())
        return pool.workers
    }

    /// Polls GetPool until `done` holds (120 s at most: a bound against hangs, generous for a loaded machine).
    static func waitForPool(_ fixture: Fixture, _ what: String, _ done: ([Worker]) -> Bool) async throws -> [Worker] {
        let end = ContinuousClock.now + .seconds(120)
        while true {
            let workers = try await pool(fixture)
            if done(workers) { return workers }
            guard ContinuousClock.now < end else {
                Issue.record("timed out waiting for \(what): \(workers)")
                return workers
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("DrainWorker re-places the replica on another worker before draining it, then the worker is DRAINING")
    func drainMovesReplicasFirst() async throws {
        try await S.withFixture { fixture in
            let second = try await WorkerServer.start(
                configuration: .init(
                    controlPlaneHost: "127.0.0.1", controlPlanePort: fixture.platform.address.port ?? 0,
                    capacity: Capacity(cpuMillis: 4000, memoryBytes: 4 << 30, replicaSlots: 4), token: try Self.adminToken(fixture)
                )
            )
            do {
                _ = try await Self.waitForPool(fixture, "two workers") { $0.count == 2 }
                let deployed: Deployment = try await S.scheduler(fixture, SchedulerMethods.deploy, DeployRequest(model: "dishes", minReplicas: 1))
                let ready = try await S.waitFor(fixture, deployed.id) { $0.readyReplicas == 1 }
                let original = try #require(ready.replicas.first)
                let holder = original.workerId

                let drained: Worker = try await S.scheduler(
                    fixture, SchedulerMethods.drainWorker, DrainWorkerRequest(workerId: holder, reason: "maintenance")
                )
                #expect(drained.cordoned && drained.drainReason == "maintenance")
                #expect(drained.health == .serving)  // still serving its replica until the replacement is ready
                // Never fewer ready replicas than before, until the replica runs on the other worker alone.
                let end = ContinuousClock.now + .seconds(120)
                var moved: Deployment?
                while ContinuousClock.now < end {
                    let now: Deployment = try await S.scheduler(fixture, SchedulerMethods.getDeployment, GetDeploymentRequest(id: deployed.id))
                    #expect(now.readyReplicas >= 1, "\(now.replicas)")
                    if now.replicas.count == 1, let only = now.replicas.first, only.workerId != holder, only.state == .ready {
                        moved = now
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let after = try #require(moved)
                #expect(after.state == .ready)
                let workers = try await Self.waitForPool(fixture, "the drained worker DRAINING and empty") { workers in
                    workers.contains { $0.id == holder && $0.health == .draining && $0.replicas.isEmpty }
                }
                #expect(workers.first { $0.id == holder }?.cordoned == true)
                #expect(fixture.platform.mesh.state.workers[holder]?.health == .draining)
                let response: RecommendResponse = try await fixture.call(RecommendMethods.recommend, RecommendRequest(model: "dishes", userId: "alice"))
                #expect(response.servedBy != nil)

                let uncordoned: Worker = try await S.scheduler(fixture, SchedulerMethods.uncordonWorker, UncordonWorkerRequest(workerId: holder))
                #expect(!uncordoned.cordoned && uncordoned.health == .serving && uncordoned.drainReason.isEmpty)
                #expect(fixture.platform.mesh.state.workers[holder]?.health == .serving)

                let unknown = await S.status {
                    let _: Worker = try await S.scheduler(fixture, SchedulerMethods.drainWorker, DrainWorkerRequest(workerId: "worker-99"))
                }
                #expect(unknown == .notFound)
                let empty = await S.status {
                    let _: Worker = try await S.scheduler(fixture, SchedulerMethods.uncordonWorker, UncordonWorkerRequest())
                }
                #expect(empty == .invalidArgument)
            } catch {
                await second.shutdown()
                throw error
            }
            await second.shutdown()
        }
    }

    @Test("A worker whose stream broke rejoins with its id and keeps its replica; one it does not know is removed")
    func rejoinKeepsReplicas() async throws {
        // A lease far longer than the test: the worker must stay NOT_SERVING until it rejoins, however slowly a
        // loaded machine runs the steps between (with the 5 s default, CI once saw the lease expire first).
        try await S.withFixture(scheduler: .init(lease: 600)) { fixture in
            let hello = WorkerHello(address: "127.0.0.1:1", capacity: Capacity(cpuMillis: 4000, memoryBytes: 4 << 30, replicaSlots: 4))
            func open() async throws -> ClientCall<JoinRequest, JoinResponse> {
                try await fixture.client.makeCall(
                    SchedulerMethods.join, options: fixture.options
                )
            }
            // The next instruction, past the access rules the control plane pushes after the Welcome and on changes.
            func instruction(_ call: ClientCall<JoinRequest, JoinResponse>) async throws -> JoinResponse.Payload? {
                while let message = try await call.next() {
                    if case .grants = message.payload { continue }
                    return message.payload
                }
                return nil
            }
            // A worker reports load within its lease, or it is gone (a slow test would otherwise lose it).
            func heartbeat(_ call: ClientCall<JoinRequest, JoinResponse>, _ id: String) -> Task<Void, Never> {
                Task {
                    while !Task.isCancelled {
                        try? await call.send(JoinRequest(payload: .load(LoadReport(workerId: id, reportedAtMs: 0, total: nil, replicas: []))))
                        try? await Task.sleep(for: .milliseconds(300))
                    }
                }
            }
            let first = try await open()
            try await first.send(JoinRequest(payload: .hello(hello)))
            guard case .welcome(let welcome)? = try await first.next()?.payload else {
                Issue.record("no welcome")
                return
            }
            let firstBeat = heartbeat(first, welcome.workerId)
            // The platform's local worker joins in the background: until it has, the raw worker is the only one and
            // would get both replicas (it acknowledges one only, so readyReplicas stayed 1: a rare timeout below).
            _ = try await Self.waitForPool(fixture, "the local worker and the raw one") { $0.count == 2 }
            // Two replicas: spread puts one on the local worker and one on this raw worker.
            let deployed: Deployment = try await S.scheduler(fixture, SchedulerMethods.deploy, DeployRequest(model: "dishes", minReplicas: 2))
            guard case .place(let place)? = try await instruction(first) else {
                Issue.record("no place on the raw worker")
                return
            }
            #expect(place.deploymentId == deployed.id && place.version == 1)
            for state in [ReplicaState.downloading, .loading, .ready] {
                try await first.send(JoinRequest(payload: .status(ReplicaStatus(replicaId: place.replicaId, state: state))))
            }
            _ = try await S.waitFor(fixture, deployed.id) { $0.readyReplicas == 2 }
            firstBeat.cancel()
            await firstBeat.value
            first.cancel()  // the stream breaks (no clean half-close): the lease runs
            _ = try await Self.waitForPool(fixture, "the raw worker NOT_SERVING") { workers in
                workers.contains { $0.id == welcome.workerId && $0.health == .notServing }
            }

            let second = try await open()
            var again = hello
            again.workerId = welcome.workerId
            again.replicas = [
                ReplicaStatus(replicaId: place.replicaId, state: .ready, deploymentId: deployed.id, version: 1),
                ReplicaStatus(replicaId: "gone@1#7", state: .ready, deploymentId: "gone@1", version: 1),
            ]
            try await second.send(JoinRequest(payload: .hello(again)))
            guard case .welcome(let rejoined)? = try await second.next()?.payload else {
                Issue.record("no welcome on rejoin")
                return
            }
            #expect(rejoined.workerId == welcome.workerId)
            let secondBeat = heartbeat(second, welcome.workerId)
            defer { secondBeat.cancel() }
            guard case .remove(let remove)? = try await instruction(second) else {
                Issue.record("the unknown replica was not removed")
                return
            }
            #expect(remove.replicaId == "gone@1#7" && remove.drain)
            let workers = try await Self.waitForPool(fixture, "the raw worker SERVING again") { workers in
                workers.contains { $0.id == welcome.workerId && $0.health == .serving }
            }
            #expect(workers.first { $0.id == welcome.workerId }?.replicas.map(\.id) == [place.replicaId])
            let kept: Deployment = try await S.scheduler(fixture, SchedulerMethods.getDeployment, GetDeploymentRequest(id: deployed.id))
            #expect(kept.readyReplicas == 2 && kept.replicas.contains { $0.id == place.replicaId && $0.state == .ready })
            second.finishSending()
            for try await _ in second.responses {}
        }
    }
}
