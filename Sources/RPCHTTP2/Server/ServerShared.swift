internal import CNGHTTP2
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
    /// How often each event loop's ``ConnectionTicker`` runs its connections' checks; `nil` when there are none.
    let tickInterval: Duration?

    private struct Connection {
        let handler: NIOLoopBound<ServerConnectionHandler>
        let eventLoop: any EventLoop
        let activity: ConnectionActivity
    }
    private struct State {
        var connections = ConnectionTable<Connection>()
        var draining = false
        /// ``ServerConfiguration/maxConnections``, lowered at start to fit the open-file limit.
        var maxConnections: Int
        var memoryTrim = MemoryTrimPolicy()
        /// One ``ConnectionTicker`` per event loop that has had a connection.
        var tickers: [ObjectIdentifier: NIOLoopBound<ConnectionTicker>] = [:]
        /// One ``FirstReadGate`` per event loop that has accepted a connection.
        var firstReadGates: [ObjectIdentifier: NIOLoopBound<FirstReadGate>] = [:]
    }
    private let state: Mutex<State>
    /// What the server refused or closed to protect itself.
    let abuseCounters = AbuseCounters()
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
        self.state = Mutex(State(maxConnections: max(1, configuration.maxConnections)))
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
        self.tickInterval = ConnectionTicker.interval(for: configuration.connection)
    }

    func connectionOpened(_ handler: ServerConnectionHandler, eventLoop: any EventLoop) {
        let id = ObjectIdentifier(handler)
        let (draining, evict) = state.withLock { state -> (Bool, Connection?) in
            state.connections.insert(
                Connection(handler: NIOLoopBound(handler, eventLoop: eventLoop), eventLoop: eventLoop, activity: handler.activity),
                id: id
            )
            state.memoryTrim.opened(count: state.connections.count)
            guard state.connections.countNotEvicting > state.maxConnections else { return (state.draining, nil) }
            let victim = state.connections.chooseToEvict(
                excluding: id, silent: { $0.activity.isSilent },
                unauthenticated: { $0.activity.isUnauthenticated }, idle: { $0.activity.isIdle }
            )
            return (state.draining, victim)
        }
        metrics?.connectionOpened()
        if draining { handler.beginDraining() }
        if let evict {
            abuseCounters.evicted()
            evict.eventLoop.execute { evict.handler.value.closeForRoom() }
        }
    }

    func connectionClosed(_ handler: ServerConnectionHandler, eventLoop: any EventLoop) {
        let (removed, trim) = state.withLock { state -> (Connection?, Bool) in
            let removed = state.connections.remove(id: ObjectIdentifier(handler))
            return (removed, state.memoryTrim.closed(count: state.connections.count))
        }
        if removed != nil { metrics?.connectionClosed() }
        if trim {
            eventLoop.scheduleTask(in: .seconds(1)) { [self] in
                _ = CNGHTTP2_malloc_trim(0)
                state.withLock { $0.memoryTrim.trimmed(count: $0.connections.count) }
            }
        }
    }

    /// The ticker of the connections on `eventLoop` (called on it); `nil` when no keepalive, idle or age limit is set.
    func ticker(for eventLoop: any EventLoop) -> ConnectionTicker? {
        guard let interval = tickInterval else { return nil }
        return loopLocal(\.tickers, on: eventLoop) { ConnectionTicker(eventLoop: eventLoop, interval: interval) }
    }

    /// The gate of new connections' first reads on `eventLoop` (called on it).
    func firstReadGate(for eventLoop: any EventLoop) -> FirstReadGate {
        loopLocal(\.firstReadGates, on: eventLoop) { FirstReadGate(eventLoop: eventLoop) }
    }

    /// The object of `eventLoop` kept at `path`, made the first time it is asked for (called on that loop, so only
    /// that loop makes it).
    private func loopLocal<Object>(
        _ path: any WritableKeyPath<State, [ObjectIdentifier: NIOLoopBound<Object>]> & Sendable,
        on eventLoop: any EventLoop, make: () -> Object
    ) -> Object {
        let id = ObjectIdentifier(eventLoop)
        if let object = state.withLock({ $0[keyPath: path][id] }) { return object.value }
        let object = NIOLoopBound(make(), eventLoop: eventLoop)
        state.withLock { $0[keyPath: path][id] = object }
        return object.value
    }

    /// Lowers the connection limit to what `openFiles` descriptors can hold (less the reserve and a margin for
    /// the listener, the event loops and the server's own files); returns the descriptors the server may then use
    /// (its connections, the reserve and that margin).
    @discardableResult
    func fitConnectionLimit(openFiles: UInt64) -> Int {
        let margin = configuration.fileDescriptorReserve + 32
        let room = Int(clamping: openFiles) - margin
        let limit = max(1, min(configuration.maxConnections, room))
        state.withLock { $0.maxConnections = limit }
        logger.debug("connection limit", metadata: ["max_connections": "\(limit)"])
        return min(limit + margin, Int(clamping: openFiles))
    }

    /// Sends GOAWAY on every connection, and on each one accepted from now on.
    func beginDrainingAll() {
        let connections = state.withLock { state -> [Connection] in
            state.draining = true
            return state.connections.connections
        }
        for connection in connections {
            connection.eventLoop.execute { connection.handler.value.beginDraining() }
        }
    }

    /// Closes (GOAWAY, then close) a connection to make room when the process runs out of file descriptors: the
    /// oldest that never sent a request, else the oldest that never completed an authenticated call, else the oldest
    /// with no call in flight, else the oldest, once its calls end.
    func closeOldestIdleConnection() {
        let victim = state.withLock { state -> Connection? in
            state.connections.chooseToEvict(
                excluding: nil, silent: { $0.activity.isSilent },
                unauthenticated: { $0.activity.isUnauthenticated }, idle: { $0.activity.isIdle }
            )
        }
        guard let victim else { return }
        abuseCounters.evicted()
        victim.eventLoop.execute { victim.handler.value.closeForRoom() }
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
        let connections = state.withLock { $0.connections.connections }
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

    /// Closes the connection to make room for new ones: at once when no call is in flight, else after its calls
    /// (GOAWAY first either way, so the client knows to reconnect).
    func closeForRoom() {
        guard channelContext != nil else { return }
        logger.debug(
            "closing a connection to make room",
            metadata: [
                "peer": "\(remotePeer)", "calls": "\(streams.count)", "silent": "\(activity.isSilent)",
                "authenticated": "\(!activity.isUnauthenticated)",
            ]
        )
        beginDraining()
    }

    func closeNow() {
        channelContext?.close(promise: nil)
    }
}
