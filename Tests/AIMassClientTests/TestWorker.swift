import AIMassAPI
import AIMassClient
import AIMassServer
import Foundation
import MeshCore
import RPCCore
import SchedulerCore
import RPCHTTP2
import Synchronization

/// A small worker: an `RPCServer` on loopback port 0 serving a test `aimass.v1.Recommend/Recommend` that answers
/// with its id in `served_by`, after an added delay, or fails as told.
final class TestWorker: Sendable {
    enum Mode: Sendable { case ok, unavailable, shed }

    private struct State {
        var delay: Duration = .zero
        var mode: Mode = .ok
        var calls = 0
        var timeRemaining: [Duration?] = []
    }

    let id: String
    let port: Int
    private let server: RPCServer
    private let state = Mutex(State())

    private init(id: String, port: Int, server: RPCServer) {
        self.id = id
        self.port = port
        self.server = server
    }

    static func start(id: String) async throws -> TestWorker {
        let box = StateBox()
        let server = RPCServer(
            configuration: .defaults {
                $0.host = "127.0.0.1"
                $0.port = 0
            },
            services: [Service(id: id, box: box)])
        let address = try await server.start()
        let worker = TestWorker(id: id, port: address.port ?? 0, server: server)
        box.worker.withLock { $0 = worker }
        return worker
    }

    var address: String { "127.0.0.1:\(port)" }
    var calls: Int { state.withLock { $0.calls } }
    var timeRemaining: [Duration?] { state.withLock { $0.timeRemaining } }

    func set(mode: Mode, delay: Duration = .zero) {
        state.withLock {
            $0.mode = mode
            $0.delay = delay
        }
    }

    func stop() async { await server.shutdown(gracePeriod: .milliseconds(200)) }

    fileprivate func handle(_ context: ServerContext) async throws -> RecommendResponse {
        let (delay, mode) = state.withLock { state in
            state.calls += 1
            state.timeRemaining.append(context.timeRemaining)
            return (state.delay, state.mode)
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        switch mode {
        case .ok: return RecommendResponse(items: [], servedBy: ServedBy(workerId: id))
        case .unavailable: throw RPCError(code: .unavailable, message: "\(id) is broken")
        case .shed: throw RPCError(code: .resourceExhausted, message: "\(id) sheds load")
        }
    }

    private final class StateBox: Sendable {
        let worker = Mutex<TestWorker?>(nil)
    }

    private struct Service: RPCService {
        let id: String
        let box: StateBox

        func registerMethods(with router: inout RPCRouter) {
            router.registerUnary(RecommendMethods.recommend) { (_: RecommendRequest, context) in
                guard let worker = box.worker.withLock({ $0 }) else {
                    throw RPCError(code: .unavailable, message: "starting")
                }
                return try await worker.handle(context)
            }
        }
    }
}

/// A control plane (a Platform) and three workers; events are published straight into `platform.mesh`.
struct MeshFixture {
    let platform: Platform
    let workers: [TestWorker]
    let token: String
    let directory: String

    static func start(workers count: Int = 3) async throws -> MeshFixture {
        let directory = NSTemporaryDirectory() + "aimass-client-\(UUID().uuidString)"
        let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory, role: .controlPlane))
        let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var workers: [TestWorker] = []
        for index in 1...count { workers.append(try await TestWorker.start(id: "w\(index)")) }
        return MeshFixture(platform: platform, workers: workers, token: token, directory: directory)
    }

    var controlPlane: String { "127.0.0.1:\(platform.address.port ?? 0)" }

    func watcher() -> MeshWatcher {
        MeshWatcher(
            controlPlanes: [controlPlane],
            configuration: .defaults {
                $0.token = token
                // The watchdog ends a stream silent for three intervals: 500 ms let a loaded machine cut streams the
                // tests expected to stay up (a load report published meanwhile was then not replayed).
                $0.heartbeatInterval = .seconds(5)
            })
    }

    func publish(_ payload: MeshCore.MeshEvent.Payload) throws {
        try platform.mesh.publish(payload)
    }

    /// Joins worker `index` (0-based) with `health` and, if `replica` is set, a replica of `movies` in that state.
    func join(_ index: Int, health: SchedulerCore.HealthStatus = .serving, replica: SchedulerCore.ReplicaState? = .ready) throws {
        let worker = workers[index]
        try publish(.workerJoined(SchedulerCore.Worker(id: WorkerID(worker.id), address: worker.address)))
        try publish(.healthChanged(MeshCore.HealthChanged(workerId: worker.id, health: health)))
        if let replica {
            try setReplica(index, replica)
        }
    }

    func setReplica(_ index: Int, _ state: SchedulerCore.ReplicaState, model: String = "movies") throws {
        let id = workers[index].id
        let replica = SchedulerCore.Replica(
            id: ReplicaID("\(model)-\(id)"), deploymentID: DeploymentID("d-\(model)"), model: model, version: 1,
            workerID: WorkerID(id), state: state)
        switch state {
        case .ready: try publish(.replicaReady(replica))
        case .draining: try publish(.replicaDraining(replica))
        case .removed, .failed: try publish(.replicaRemoved(replica))
        default: try publish(.replicaPlaced(replica))
        }
    }

    func setHealth(_ index: Int, _ health: SchedulerCore.HealthStatus) throws {
        try publish(.healthChanged(MeshCore.HealthChanged(workerId: workers[index].id, health: health)))
    }

    func stop() async {
        for worker in workers { await worker.stop() }
        await platform.shutdown(gracePeriod: .milliseconds(500))
        try? FileManager.default.removeItem(atPath: directory)
    }
}

