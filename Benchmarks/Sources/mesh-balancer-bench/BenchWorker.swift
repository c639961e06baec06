import AIMassAPI
import AIMassClient
import RPCCore
import RPCHTTP2
import Synchronization

/// The benchmark worker (run in a child process by ``WorkerProcess``): serves `aimass.v1.Recommend/Recommend` after an added delay and keeps
/// the figures it reports to the mesh (in-flight calls, latency EWMA).
final class BenchWorker: Sendable {
    private struct Figures {
        var inFlight: UInt32 = 0
        var latencyEwmaUs: Double = 0
    }

    let id: String
    let delay: Duration
    private let figures = Mutex(Figures())
    private let server = Mutex<RPCServer?>(nil)
    private let portBox = Mutex(0)

    init(id: String, delay: Duration) {
        self.id = id
        self.delay = delay
    }

    /// The port it listens on (loopback), once started.
    var port: Int { portBox.withLock { $0 } }

    /// In-flight calls and latency EWMA (µs).
    var load: (inFlight: UInt32, latencyEwmaUs: Int64) {
        figures.withLock { ($0.inFlight, Int64($0.latencyEwmaUs)) }
    }

    func start() async throws {
        let server = RPCServer(
            configuration: .defaults {
                $0.host = "127.0.0.1"
                $0.port = 0
            },
            services: [Service(worker: self)])
        let address = try await server.start()
        portBox.withLock { $0 = address.port ?? 0 }
        self.server.withLock { $0 = server }
    }

    func stop(gracePeriod: Duration) async {
        let server = self.server.withLock { server -> RPCServer? in
            defer { server = nil }
            return server
        }
        await server?.shutdown(gracePeriod: gracePeriod)
    }

    fileprivate func handle() async throws -> RecommendResponse {
        let started = ContinuousClock.now
        figures.withLock { $0.inFlight += 1 }
        if delay > .zero { try? await Task.sleep(for: delay) }
        let elapsed = ContinuousClock.now - started
        let sample = Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
        figures.withLock {
            $0.inFlight -= 1
            $0.latencyEwmaUs = $0.latencyEwmaUs == 0 ? sample : $0.latencyEwmaUs + 0.2 * (sample - $0.latencyEwmaUs)
        }
        return RecommendResponse(items: [ScoredItem(itemId: "i1", score: 1)], servedBy: ServedBy(workerId: id))
    }

    private struct Service: RPCService {
        let worker: BenchWorker

        func registerMethods(with router: inout RPCRouter) {
            router.registerUnary(RecommendMethods.recommend) { (_: RecommendRequest, _) in
                try await worker.handle()
            }
        }
    }
}
