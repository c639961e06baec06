import AIMassAPI
import Logging
import RPCCore
import RPCHTTP2
import Synchronization

/// The baseline balancer with ``MeshBalancer``'s interface: round robin over the workers that are SERVING and hold a
/// READY replica of the model, with no load awareness, no ejection and no retries.
public final class RoundRobinBalancer: Sendable {
    /// The watcher whose view it routes on.
    public let watcher: MeshWatcher
    private let next = Mutex<Int>(0)
    private let clients: WorkerClients
    private let maintenance: BalancerMaintenance

    /// A balancer on a watcher that someone else runs.
    public convenience init(watcher: MeshWatcher, client: ClientConfiguration = .defaults, logger: Logger = Logger(label: "aimass.balancer")) {
        self.init(watcher: watcher, owns: false, client: client, logger: logger)
    }

    /// A balancer with its own watcher on `controlPlanes` (`host:port`); ``run()`` runs it, ``close()`` closes it.
    public convenience init(
        controlPlanes: [String], watcher watcherConfiguration: MeshWatcher.Configuration = .defaults,
        client: ClientConfiguration = .defaults, logger: Logger = Logger(label: "aimass.balancer")
    ) {
        let watcher = MeshWatcher(controlPlanes: controlPlanes, configuration: watcherConfiguration, logger: logger)
        self.init(watcher: watcher, owns: true, client: client, logger: logger)
    }

    private init(watcher: MeshWatcher, owns: Bool, client: ClientConfiguration, logger: Logger) {
        self.watcher = watcher
        self.clients = WorkerClients(configuration: client, logger: logger)
        self.maintenance = BalancerMaintenance(
            watcher: watcher, ownsWatcher: owns, clients: clients, subscription: watcher.addSubscriber()
        ) { _ in }
    }

    /// Follows the mesh (and runs the watcher if it owns it) until ``close()``.
    public func run() async { await maintenance.run() }

    /// Stops: ends ``run()``, closes the worker connections (and its own watcher).
    public func close() async { await maintenance.close() }

    /// The next worker in turn for `model`; nil when no serving worker holds a ready replica.
    public func pick(model: String) -> Endpoint? {
        let workers = watcher.withView { $0.eligibleWorkers(model: model) }
        guard !workers.isEmpty else { return nil }
        let index = next.withLock { next in
            defer { next &+= 1 }
            return next
        }
        return Endpoint(workers[index % workers.count])
    }

    /// A unary call for `model` on the next worker in turn, with the time left before the deadline; no retry.
    public func unary<Request: WireMessage, Response: WireMessage>(
        model: String, method: MethodDescriptor, request: Request, options: CallOptions = .defaults,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> Response {
        let deadline = CallDeadline.deadline(deadline, options: options)
        guard let endpoint = pick(model: model) else {
            throw RPCError(code: .unavailable, message: "no serving worker holds a ready replica of \(model)")
        }
        let attemptOptions = try CallDeadline.options(options, deadline: deadline)
        return try await clients.client(for: endpoint).unary(method, request: request, options: attemptOptions)
    }
}
