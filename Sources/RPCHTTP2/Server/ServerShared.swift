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

    private struct Connection {
        let handler: NIOLoopBound<ServerConnectionHandler>
        let eventLoop: any EventLoop
    }
    private struct State {
        var connections: [ObjectIdentifier: Connection] = [:]
        var draining = false
        var drained: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    init(
        configuration: ServerConfiguration,
        router: RPCRouter,
        interceptors: [any ServerInterceptor],
        gate: (any ServerCallGate)?,
        logger: Logger
    ) {
        self.configuration = configuration
        self.router = router
        self.interceptors = interceptors
        self.gate = InstalledCallGate(gate, router: router)
        self.logger = logger
        self.spinner = configuration.busyPollWindow.map { IdleSpinner(window: $0) }
    }

    func connectionOpened(_ handler: ServerConnectionHandler, eventLoop: any EventLoop) {
        let connection = Connection(handler: NIOLoopBound(handler, eventLoop: eventLoop), eventLoop: eventLoop)
        let draining = state.withLock { state in
            state.connections[ObjectIdentifier(handler)] = connection
            return state.draining
        }
        if draining { handler.beginDraining() }
    }

    func connectionClosed(_ handler: ServerConnectionHandler) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connections[ObjectIdentifier(handler)] = nil
            guard state.draining, state.connections.isEmpty else { return [] }
            defer { state.drained = [] }
            return state.drained
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Sends GOAWAY on every connection and returns once all have closed.
    func drainAll() async {
        await withCheckedContinuation { continuation in
            let connections = state.withLock { state -> [Connection]? in
                state.draining = true
                if state.connections.isEmpty { return nil }
                state.drained.append(continuation)
                return Array(state.connections.values)
            }
            guard let connections else { return continuation.resume() }
            for connection in connections {
                connection.eventLoop.execute { connection.handler.value.beginDraining() }
            }
        }
    }

    /// Closes every connection at once.
    func closeAll() {
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections {
            connection.eventLoop.execute { connection.handler.value.closeNow() }
        }
    }
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

    func closeNow() {
        channelContext?.close(promise: nil)
    }
}
