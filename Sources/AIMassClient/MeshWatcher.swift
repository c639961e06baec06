import AIMassAPI
import Logging
import RPCCore
import RPCHTTP2
import Synchronization

/// Follows the mesh: subscribes to `Mesh/Watch` on one of its control planes, keeps the last state
/// (``MeshView``), and when the stream drops reconnects with exponential backoff and resumes from the last revision
/// it applied, so it misses nothing and applies nothing twice. A `reset` snapshot replaces the view.
///
/// ```swift
/// let watcher = MeshWatcher(controlPlanes: ["10.0.0.1:50051"], configuration: .defaults { $0.token = token })
/// Task { await watcher.run() }
/// for await change in watcher.changes() { … }
/// ```
public final class MeshWatcher: Sendable {
    /// How a watcher connects and what it asks for.
    public struct Configuration: Sendable {
        /// Bearer token sent as `authorization`.
        public var token: String?
        /// Only these models (empty = all); worker events always come.
        public var models: [String]
        /// Only these kinds (empty = all); snapshots and heartbeats always come.
        public var kinds: [EventKind]
        /// Heartbeat interval asked of the server; a stream silent for 3 intervals is treated as dead.
        public var heartbeatInterval: Duration
        /// First pause before reconnecting; doubles on each failure up to ``maxBackoff`` (±20 % jitter).
        public var initialBackoff: Duration
        /// Longest pause before reconnecting.
        public var maxBackoff: Duration
        /// Options of the control-plane connections.
        public var client: ClientConfiguration
        /// Revision to resume from on the first Watch (0 = start with a snapshot). The view starts empty either way.
        public var startRevision: UInt64 = 0

        /// All models and kinds, heartbeats every 2 s, backoff 100 ms … 5 s, keepalive PINGs on the connection
        /// (``ClientConfiguration/Keepalive/streams``: a silent peer is also noticed below the gRPC layer).
        public static var defaults: Configuration {
            Configuration(
                token: nil, models: [], kinds: [], heartbeatInterval: .seconds(2), initialBackoff: .milliseconds(100),
                maxBackoff: .seconds(5),
                client: .defaults {
                    $0.initialBackoff = .milliseconds(50)
                    $0.keepalive = .streams
                })
        }

        /// The defaults, changed by `configure`.
        public static func defaults(configure: (inout Configuration) -> Void) -> Configuration {
            var configuration = Configuration.defaults
            configure(&configuration)
            return configuration
        }

        /// Creates a configuration.
        public init(
            token: String?, models: [String], kinds: [EventKind], heartbeatInterval: Duration,
            initialBackoff: Duration, maxBackoff: Duration, client: ClientConfiguration
        ) {
            self.token = token
            self.models = models
            self.kinds = kinds
            self.heartbeatInterval = heartbeatInterval
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.client = client
        }
    }

    /// What happened to the watcher's view or stream.
    public enum Change: Sendable {
        /// A stream to this control plane (`host:port`) delivered its first message.
        case connected(String)
        /// An event was applied (snapshot, state change, load report or heartbeat), leaving the view at `revision`.
        case applied(MeshEvent)
        /// The stream ended; the watcher reconnects after `retryIn` and resumes from its revision.
        case disconnected(RPCError, retryIn: Duration)
    }

    private struct State {
        var view = MeshView()
        var subscribers: [Int: AsyncStream<Change>.Continuation] = [:]
        var nextSubscriber = 0
        var currentCall: (@Sendable () -> Void)?
        var closed = false
    }

    /// The control planes, as `host:port`, tried in turn.
    public let controlPlanes: [String]
    /// The configuration it was made with.
    public let configuration: Configuration
    private let clients: [RPCClient]
    private let state = Mutex(State())
    private let logger: Logger

    /// Creates a watcher over one or more control planes (`host:port`); nothing happens until ``run()``.
    /// Addresses that are not `host:port` are skipped.
    public init(
        controlPlanes: [String], configuration: Configuration = .defaults,
        logger: Logger = Logger(label: "aimass.mesh.watcher")
    ) {
        let parsed = controlPlanes.compactMap { address in Endpoint.split(address).map { (address, $0) } }
        self.controlPlanes = parsed.map(\.0)
        self.clients = parsed.map { RPCClient(host: $0.1.host, port: $0.1.port, configuration: configuration.client, logger: logger) }
        self.configuration = configuration
        self.logger = logger
        self.state.withLock { $0.view = MeshView(revision: configuration.startRevision) }
    }

    /// The current view.
    public var view: MeshView { state.withLock { $0.view } }

    /// Reads the current view under the lock (no copy).
    public func withView<T>(_ body: (MeshView) -> T) -> T {
        state.withLock { body($0.view) }
    }

    /// A new stream of every change from now on; it ends when the watcher closes. Each call makes its own stream.
    public func changes(bufferingNewest limit: Int = 10_000) -> AsyncStream<Change> {
        addSubscriber(bufferingNewest: limit).stream
    }

    /// A stream of changes and its id for ``removeSubscriber(_:)``, which ends it.
    func addSubscriber(bufferingNewest limit: Int = 10_000) -> (stream: AsyncStream<Change>, id: Int) {
        let (stream, continuation) = AsyncStream<Change>.makeStream(bufferingPolicy: .bufferingNewest(limit))
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            defer { state.nextSubscriber += 1 }
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        guard let id else {
            continuation.finish()
            return (stream, -1)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return (stream, id)
    }

    /// Ends a stream made by ``addSubscriber(bufferingNewest:)``.
    func removeSubscriber(_ id: Int) {
        state.withLock { $0.subscribers.removeValue(forKey: id) }?.finish()
    }

    /// Ends the current stream as if it had dropped; the watcher reconnects and resumes (for tests and operators).
    public func restartStream() {
        state.withLock { $0.currentCall }?()
    }

    /// Stops watching: ends ``run()`` and every ``changes()`` stream, and closes the connections.
    public func close() async {
        let (subscribers, cancel) = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return (Array(state.subscribers.values), state.currentCall)
        }
        cancel?()
        for subscriber in subscribers { subscriber.finish() }
        for client in clients { await client.close() }
    }

    /// Watches until ``close()`` or the task is cancelled: connects, applies events, reconnects and resumes.
    public func run() async {
        guard !clients.isEmpty else { return }
        var failures = 0
        var index = 0
        while !Task.isCancelled && !state.withLock({ $0.closed }) {
            let delivered: Bool
            let error: RPCError
            (delivered, error) = await watchOnce(clients[index], address: controlPlanes[index])
            if Task.isCancelled || state.withLock({ $0.closed }) { break }
            failures = delivered ? 1 : failures + 1
            if !delivered { index = (index + 1) % clients.count }
            let pause = backoff(failures: failures)
            logger.debug("mesh stream ended", metadata: ["error": "\(error)", "retry_in": "\(pause)"])
            publish(.disconnected(error, retryIn: pause))
            try? await Task.sleep(for: pause)
        }
    }

    /// One stream: returns whether it delivered anything, and how it ended.
    private func watchOnce(_ client: RPCClient, address: String) async -> (Bool, RPCError) {
        var options = CallOptions()
        if let token = configuration.token { options.metadata.add("Bearer \(token)", forKey: "authorization") }
        let interval = configuration.heartbeatInterval
        let request = WatchRequest(
            resumeFromRevision: state.withLock { $0.view.revision }, models: configuration.models,
            kinds: configuration.kinds, heartbeatIntervalMs: UInt32(clamping: interval.milliseconds))
        let call: ClientCall<WatchRequest, MeshEvent>
        do {
            call = try await client.serverStreaming(MeshMethods.watch, request: request, options: options)
        } catch {
            return (false, RPCError(mapping: error))
        }
        let lastReceived = Mutex<ContinuousClock.Instant?>(nil)
        let proceed = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.currentCall = { call.cancel() }
            return true
        }
        guard proceed else {
            call.cancel()
            return (false, RPCError(code: .cancelled, message: "the watcher is closed"))
        }
        // A watchdog ends a stream that stays silent for three heartbeat intervals after its first event (a dead
        // peer). Not before: a loaded control plane may take longer than that to send the snapshot, and cancelling
        // it there made the watcher start over and over without ever getting one (seen in the Swift suite beside a
        // CPU hog); a dead peer before the first event is noticed by the connection's keepalive PINGs.
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if let last = lastReceived.withLock({ $0 }), ContinuousClock.now - last > interval * 3 {
                    call.cancel()
                    return
                }
            }
        }
        defer {
            watchdog.cancel()
            state.withLock { $0.currentCall = nil }
        }
        var delivered = false
        do {
            while let event = try await call.next() {
                lastReceived.withLock { $0 = .now }
                if !delivered { publish(.connected(address)) }
                delivered = true
                let applied = state.withLock { $0.view.apply(event) }
                if applied { publish(.applied(event)) }
            }
            return (delivered, RPCError(code: .unavailable, message: "the control plane ended the stream"))
        } catch {
            return (delivered, RPCError(mapping: error))
        }
    }

    private func publish(_ change: Change) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(change) }
    }

    private func backoff(failures: Int) -> Duration {
        let initial = configuration.initialBackoff
        var pause = initial
        for _ in 1..<max(1, failures) where pause < configuration.maxBackoff { pause = pause * 2 }
        return min(pause, configuration.maxBackoff) * Double.random(in: 0.8...1.2)
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
