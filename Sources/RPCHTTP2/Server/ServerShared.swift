import Logging
import NIOCore
import RPCCore
import Synchronization

/// What every connection of one server shares: configuration, router, interceptors, call gate, and the set
/// of open connections (to drain them on shutdown).
final class ServerShared: Sendable {
    let configuration: ServerConfiguration
    let router: RPCRouter
    let interceptors: [any ServerInterceptor]
    /// Present when a ``ServerCallGate`` gates at least one registered method.
    let gate: InstalledCallGate?
    let logger: Logger
    /// Present when ``ServerConfiguration/busyPollWindow`` is set.
    let spinner: IdleSpinner?
    /// Present when the server reports metrics.
    let metrics: (any ServerMetricsObserver)?
    /// Every served path with what a call to it needs, resolved once: one lookup per call.
    let methods: [String: ServedMethod]
    /// The instruments of calls to paths the server does not serve (A66's `other`).
    let unknownMethodInstruments: (any ServerCallInstruments)?

    private struct Connection {
        let handler: NIOLoopBound<ServerConnectionHandler>
        let eventLoop: any EventLoop
        /// Order of opening: the lowest is the oldest.
        let sequence: UInt64
    }
    private struct State {
        var connections: [ObjectIdentifier: Connection] = [:]
        var draining = false
        var opened: UInt64 = 0
    }
    private let state = Mutex(State())
    /// Handler tasks started and not yet done with the event loop (an atomic: touched twice per task-based call).
    private let runningTasks = Atomic<Int>(0)
    #if DEBUG
    /// Stream objects of this server alive now (debug builds): tests check that finished calls free theirs.
    let liveStreams = Atomic<Int>(0)
    #endif

    init(
        configuration: ServerConfiguration,
        router: RPCRouter,
        interceptors: [any ServerInterceptor],
        gate: (any ServerCallGate)?,
        metrics: (any ServerMetricsObserver)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.router = router
        self.interceptors = interceptors
        self.gate = InstalledCallGate(gate, router: router)
        self.logger = logger
        self.spinner = configuration.busyPollWindow.map { IdleSpinner(window: $0) }
        self.metrics = metrics
        let installedGate = self.gate
        self.methods = Dictionary(
            uniqueKeysWithValues: router.paths.compactMap { path in
                router.route(forPath: path).map { route in
                    (
                        path,
                        ServedMethod(
                            route: route, instruments: metrics?.instruments(for: route.descriptor),
                            gated: installedGate?.gates(path: path) == true
                        )
                    )
                }
            }
        )
        self.unknownMethodInstruments = metrics?.instruments(for: nil)
    }

    func connectionOpened(_ handler: ServerConnectionHandler, eventLoop: any EventLoop) {
        let draining = state.withLock { state in
            state.opened += 1
            state.connections[ObjectIdentifier(handler)] = Connection(
                handler: NIOLoopBound(handler, eventLoop: eventLoop), eventLoop: eventLoop, sequence: state.opened
            )
            return state.draining
        }
        metrics?.connectionOpened()
        if draining { handler.beginDraining() }
    }

    func connectionClosed(_ handler: ServerConnectionHandler) {
        let removed = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(handler)) }
        if removed != nil { metrics?.connectionClosed() }
    }

    /// Sends GOAWAY on every connection, and on each one accepted from now on.
    func beginDrainingAll() {
        let connections = state.withLock { state -> [Connection] in
            state.draining = true
            return Array(state.connections.values)
        }
        for connection in connections {
            connection.eventLoop.execute { connection.handler.value.beginDraining() }
        }
    }

    /// Closes (GOAWAY, then close) the oldest connection with no call in flight, if one of the oldest few hundred
    /// is; to make room when the process runs out of file descriptors. Rare, so it asks each candidate in turn on
    /// its own event loop.
    func closeOldestIdleConnection() {
        let candidates = state.withLock { state in
            state.connections.values.sorted { $0.sequence < $1.sequence }.prefix(256)
        }
        Self.closeFirstIdle(of: candidates)
    }

    private static func closeFirstIdle(of candidates: ArraySlice<Connection>) {
        guard let first = candidates.first else { return }
        first.eventLoop.submit { first.handler.value.closeIfIdle() }.whenSuccess { closed in
            if !closed { closeFirstIdle(of: candidates.dropFirst()) }
        }
    }

    /// Connections still open.
    var openConnections: Int { state.withLock { $0.connections.count } }

    /// Handler tasks that may still hop to an event loop.
    var runningHandlerTasks: Int { runningTasks.load(ordering: .acquiring) }

    /// A handler task starts; it must call ``handlerTaskEnded()`` after its last hop to the event loop.
    func handlerTaskStarted() {
        runningTasks.add(1, ordering: .relaxed)
    }

    /// A handler task has made its last hop to the event loop.
    func handlerTaskEnded() {
        runningTasks.subtract(1, ordering: .releasing)
    }

    /// Closes every connection at once.
    func closeAll() {
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections {
            connection.eventLoop.execute { connection.handler.value.closeNow() }
        }
    }
}

/// A served path: its route, its metrics and whether the call gate sees its calls.
struct ServedMethod: Sendable {
    let route: RPCRouter.Route
    let instruments: (any ServerCallInstruments)?
    let gated: Bool
}

extension ServerConnectionHandler {
    /// Graceful shutdown: GOAWAY, in-flight calls finish, new streams are refused, then close.
    func beginDraining() {
        guard !draining else { return }
        draining = true
        session?.submitGoAway(errorCode: .noError)
        flush()
        if streams.isEmpty { channelContext?.close(promise: nil) }
    }

    /// Drains the connection if it has no call in flight; returns whether it did.
    func closeIfIdle() -> Bool {
        guard streams.isEmpty, !draining, channelContext != nil else { return false }
        beginDraining()
        return true
    }

    func closeNow() {
        channelContext?.close(promise: nil)
    }
}
