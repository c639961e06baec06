import AIMassAPI
import AIMassServer
import AIMassServices
import Foundation
import MeshCore
import RPCCore
import RPCHTTP2
import RPCHealth
import SchedulerCore
import TestSupport
import Testing

/// `Mesh/Watch` over a real socket: events published into `platform.mesh` reach a watcher in order, resume works,
/// errors carry the last revision, and `grpc.health.v1` follows the mesh.
@Suite("Mesh service", .serialized)
struct MeshServiceTests {
    static let watch = MeshMethods.watch

    struct Fixture {
        let platform: Platform
        let client: RPCClient
        let options: CallOptions
        let directory: String

        static func start(mesh: MeshHub.Configuration = .defaults) async throws -> Fixture {
            let directory = NSTemporaryDirectory() + "aimass-mesh-\(UUID().uuidString)"
            let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory, role: .controlPlane, mesh: mesh))
            let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let client = RPCClient(host: "127.0.0.1", port: platform.address.port ?? 0)
            // A bound against hangs only: the whole suite in parallel on 2 cores kept one watch waiting past 20 s.
            let options = CallOptions(timeout: .seconds(120), metadata: ["authorization": .string("Bearer \(token)")])
            return Fixture(platform: platform, client: client, options: options, directory: directory)
        }

        func stop() async {
            await client.close()
            await platform.shutdown(gracePeriod: .seconds(1))
            try? FileManager.default.removeItem(atPath: directory)
        }

        func watch(_ request: WatchRequest) async throws -> ClientCall<WatchRequest, AIMassAPI.MeshEvent> {
            try await client.serverStreaming(MeshServiceTests.watch, request: request, options: options)
        }

        func publish(_ payload: MeshCore.MeshEvent.Payload) throws {
            try platform.mesh.publish(payload)
        }
    }

    static func replica(_ id: String, model: String = "movies", on worker: String) -> SchedulerCore.Replica {
        SchedulerCore.Replica(
            id: ReplicaID(id), deploymentID: DeploymentID("d-\(model)"), model: model, version: 1, workerID: WorkerID(worker),
            state: .ready)
    }

    @Test("a watcher gets the snapshot, then every change in order; a resumed one only what it missed")
    func snapshotThenChangesThenResume() async throws {
        let fixture = try await Fixture.start()
        do {
            try fixture.publish(.workerJoined(SchedulerCore.Worker(id: "w1", address: "127.0.0.1:1", health: .serving)))
            try fixture.publish(.replicaReady(Self.replica("r1", on: "w1")))
            let call = try await fixture.watch(WatchRequest())
            let first = try #require(try await call.next())
            guard case .snapshot(let snapshot)? = first.payload else {
                Issue.record("expected a snapshot, got \(first.kind)")
                return
            }
            #expect(first.kind == .snapshot && first.revision == 2 && !snapshot.reset)
            #expect(snapshot.workers.map(\.id) == ["w1"] && snapshot.workers.first?.health == .serving)
            #expect(snapshot.replicas.map(\.id) == ["r1"] && snapshot.replicas.first?.state == .ready)

            try fixture.publish(.workerJoined(SchedulerCore.Worker(id: "w2", address: "127.0.0.1:2")))
            try fixture.publish(.healthChanged(MeshCore.HealthChanged(workerId: "w2", health: .serving)))
            try fixture.publish(.loadReported(SchedulerCore.LoadReport(workerId: "w2", total: SchedulerCore.Load(inFlight: 3))))
            try fixture.publish(.replicaReady(Self.replica("r2", on: "w2")))
            var seen: [(UInt64, AIMassAPI.EventKind)] = []
            while seen.count < 4, let event = try await call.next() {
                if event.kind != .heartbeat { seen.append((event.revision, event.kind)) }
            }
            #expect(seen.map(\.1) == [.workerJoined, .healthChanged, .loadReported, .replicaReady])
            #expect(seen.map(\.0) == [3, 4, 4, 5])
            call.cancel()

            // Resume from revision 3: exactly 4 and 5 (the load report is not replayed), then live.
            let resumed = try await fixture.watch(WatchRequest(resumeFromRevision: 3))
            let missed = [try await resumed.next(), try await resumed.next()].compactMap { $0 }
            #expect(missed.map(\.revision) == [4, 5] && missed.map(\.kind) == [.healthChanged, .replicaReady])
            resumed.cancel()

            // Filters: only movies replica events (worker events always pass).
            try fixture.publish(.replicaReady(Self.replica("x1", model: "books", on: "w1")))
            let draining = Self.replica("r1", on: "w1").with(state: .draining)
            try fixture.publish(.replicaDraining(draining))
            let filtered = try await fixture.watch(
                WatchRequest(resumeFromRevision: 5, models: ["movies"], kinds: [.replicaDraining]))
            let only = try #require(try await filtered.next())
            #expect(only.revision == 7 && only.kind == .replicaDraining)
            filtered.cancel()
        } catch {
            Issue.record(error)
        }
        await fixture.stop()
    }

    @Test("no token is UNAUTHENTICATED; an UNSPECIFIED kind is INVALID_ARGUMENT")
    func rejectsBadRequests() async throws {
        let fixture = try await Fixture.start()
        let anonymous: ClientCall<WatchRequest, AIMassAPI.MeshEvent> = try await fixture.client.serverStreaming(
            Self.watch, request: WatchRequest(), options: CallOptions(timeout: .seconds(10)))
        await #expect(throws: RPCError.self) { _ = try await anonymous.next() }
        #expect(anonymous.status?.code == .unauthenticated)
        let bad = try await fixture.watch(WatchRequest(kinds: [.unspecified]))
        await #expect(throws: RPCError.self) { _ = try await bad.next() }
        #expect(bad.status?.code == .invalidArgument)
        await fixture.stop()
    }

    @Test("heartbeats when idle; shutdown ends the stream with UNAVAILABLE and the last revision")
    func heartbeatsAndShutdown() async throws {
        let fixture = try await Fixture.start()
        try fixture.publish(.workerJoined(SchedulerCore.Worker(id: "w1", address: "127.0.0.1:1")))
        let call = try await fixture.watch(WatchRequest(heartbeatIntervalMs: 100))
        #expect(try await call.next()?.kind == .snapshot)
        let heartbeat = try await call.next()
        #expect(heartbeat?.kind == .heartbeat && heartbeat?.revision == 1)
        fixture.platform.mesh.shutdown()
        var ended: RPCError?
        do {
            while try await call.next() != nil {}
        } catch let error as RPCError {
            ended = error
        }
        #expect(ended?.code == .unavailable)
        #expect(call.trailingMetadata?.firstString(forKey: MeshService.lastRevisionKey) == "1")
        await fixture.stop()
    }

    @Test("a subscriber that falls behind ends with RESOURCE_EXHAUSTED and the revision to resume from")
    func tooSlowCarriesRevision() async throws {
        let fixture = try await Fixture.start(mesh: .defaults { $0.bufferLimit = 2 })
        try fixture.publish(.workerJoined(SchedulerCore.Worker(id: "w1", address: "127.0.0.1:1")))
        let call = try await fixture.watch(WatchRequest())
        #expect(try await call.next()?.kind == .snapshot)
        // A burst far beyond the bound, published without a pause: the server-side consumer falls behind.
        for index in 0..<5_000 {  // within the log (10,000), so a resume replays
            try fixture.publish(.replicaReady(Self.replica("r\(index)", on: "w1")))
        }
        var delivered: UInt64 = 1
        var ended: RPCError?
        do {
            while let event = try await call.next() { delivered = event.revision }
        } catch let error as RPCError {
            ended = error
        }
        #expect(ended?.code == .resourceExhausted)
        // The server's figure can be ahead of what this client read: RPCClient drops messages still buffered when
        // the call ends with an error. A client resumes from the last revision it applied itself.
        let carried = try #require(
            call.trailingMetadata?.firstString(forKey: MeshService.lastRevisionKey).flatMap { UInt64($0) })
        #expect(carried >= delivered)
        #expect(ended?.message.contains("\(carried)") == true)
        let resumed = try await fixture.watch(WatchRequest(resumeFromRevision: delivered))
        #expect(try await resumed.next()?.revision == delivered + 1)
        resumed.cancel()
        await fixture.stop()
    }

    @Test("grpc.health.v1 follows worker health from the mesh")
    func healthFollowsMesh() async throws {
        let fixture = try await Fixture.start()
        #expect(fixture.platform.health.status(of: MeshService.serviceName) == .serving)
        try fixture.publish(.workerJoined(SchedulerCore.Worker(id: "w1", address: "127.0.0.1:1")))
        try fixture.publish(.healthChanged(MeshCore.HealthChanged(workerId: "w1", health: .serving)))
        try fixture.publish(.replicaReady(Self.replica("r1", on: "w1")))
        #expect(await eventually { fixture.platform.health.status(of: "worker/w1") == .serving })
        #expect(await eventually { fixture.platform.health.status(of: "model/movies") == .serving })
        try fixture.publish(.healthChanged(MeshCore.HealthChanged(workerId: "w1", health: .draining)))
        #expect(await eventually { fixture.platform.health.status(of: "worker/w1") == .notServing })
        #expect(await eventually { fixture.platform.health.status(of: "model/movies") == .notServing })
        try fixture.publish(.workerLeft(MeshCore.WorkerLeft(workerId: "w1")))
        #expect(fixture.platform.health.status(of: "") == .serving)
        await fixture.stop()
    }
}
