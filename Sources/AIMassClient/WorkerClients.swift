import AIMassAPI
import Logging
import RPCCore
import RPCHTTP2
import Synchronization

/// One ``RPCClient`` per worker a balancer calls, opened on first use and closed when the worker leaves the view.
final class WorkerClients: Sendable {
    private struct State {
        var clients: [String: (endpoint: Endpoint, client: RPCClient)] = [:]
        var closed = false
    }
    private let state = Mutex(State())
    private let configuration: ClientConfiguration
    private let logger: Logger

    init(configuration: ClientConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The client for an endpoint; a worker whose address changed gets a new one (the old one is closed).
    func client(for endpoint: Endpoint) throws(RPCError) -> RPCClient {
        let (client, stale) = state.withLock { state -> (RPCClient?, RPCClient?) in
            guard !state.closed else { return (nil, nil) }
            if let existing = state.clients[endpoint.workerId], existing.endpoint == endpoint {
                return (existing.client, nil)
            }
            let client = RPCClient(host: endpoint.host, port: endpoint.port, configuration: configuration, logger: logger)
            let stale = state.clients[endpoint.workerId]?.client
            state.clients[endpoint.workerId] = (endpoint, client)
            return (client, stale)
        }
        if let stale { Task { await stale.close() } }
        guard let client else { throw RPCError(code: .unavailable, message: "the balancer is closed") }
        return client
    }

    /// Closes the clients of workers not in `live`.
    func retain(only live: Set<String>) async {
        let gone = state.withLock { state -> [RPCClient] in
            let ids = state.clients.keys.filter { !live.contains($0) }
            return ids.compactMap { state.clients.removeValue(forKey: $0)?.client }
        }
        for client in gone { await client.close() }
    }

    /// Ids of the workers with an open client.
    var workerIds: Set<String> { state.withLock { Set($0.clients.keys) } }

    /// Closes every client; later calls fail with `UNAVAILABLE`.
    func closeAll() async {
        let all = state.withLock { state -> [RPCClient] in
            state.closed = true
            defer { state.clients = [:] }
            return state.clients.values.map(\.client)
        }
        for client in all { await client.close() }
    }
}

/// What both balancers do in `run()`: follow the watcher's changes and close connections to workers that left.
struct BalancerMaintenance: Sendable {
    let watcher: MeshWatcher
    let ownsWatcher: Bool
    let clients: WorkerClients
    let subscription: (stream: AsyncStream<MeshWatcher.Change>, id: Int)
    let onChange: @Sendable (MeshView) -> Void

    func run() async {
        await withDiscardingTaskGroup { group in
            if ownsWatcher { group.addTask { await watcher.run() } }
            group.addTask {
                for await change in subscription.stream {
                    guard case .applied(let event) = change, event.kind != .heartbeat, event.kind != .loadReported
                    else { continue }
                    let view = watcher.view
                    onChange(view)
                    await clients.retain(only: Set(view.workers.keys))
                }
            }
        }
    }

    func close() async {
        watcher.removeSubscriber(subscription.id)
        if ownsWatcher { await watcher.close() }
        await clients.closeAll()
    }
}

/// A deadline and the options of one attempt: the caller's options with `timeout` set to the time left.
enum CallDeadline {
    /// The instant a call must end by: `deadline` if given, else now + `options.timeout`.
    static func deadline(_ deadline: ContinuousClock.Instant?, options: CallOptions) -> ContinuousClock.Instant? {
        deadline ?? options.timeout.map { ContinuousClock.now + $0 }
    }

    /// The options of an attempt started now; throws `DEADLINE_EXCEEDED` when no time is left.
    static func options(_ options: CallOptions, deadline: ContinuousClock.Instant?) throws(RPCError) -> CallOptions {
        guard let deadline else { return options }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else {
            throw RPCError(code: .deadlineExceeded, message: "the deadline passed before the call could be sent")
        }
        var options = options
        options.timeout = remaining
        return options
    }
}
