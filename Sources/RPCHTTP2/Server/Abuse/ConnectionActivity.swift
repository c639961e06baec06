import RPCCore
import Synchronization

/// What the server's connection table needs to know of a connection to choose which one to close for room,
/// read from another thread than the connection's: relaxed atomics, touched once per stream.
final class ConnectionActivity: ConnectionAuthenticationObserver {
    private let openStreams = Atomic<Int>(0)
    private let sawRequest: Atomic<Bool>
    private let authenticated: Atomic<Bool>

    /// `trusted` for a connection made inside this process (an embedded worker's): it counts as a known caller
    /// from the start, so it is closed for room only when every other connection is one too.
    init(trusted: Bool = false) {
        sawRequest = Atomic(trusted)
        authenticated = Atomic(trusted)
    }

    /// The client has never opened a stream (a request): the cheapest connection to close.
    var isSilent: Bool { !sawRequest.load(ordering: .relaxed) }
    /// No call on this connection has presented credentials the server accepted (see
    /// `ServerContext.markAuthenticated()`): closed before connections of known callers.
    var isUnauthenticated: Bool { !authenticated.load(ordering: .relaxed) }
    /// No call is in flight.
    var isIdle: Bool { openStreams.load(ordering: .relaxed) == 0 }

    func streamOpened() {
        openStreams.add(1, ordering: .relaxed)
        if !sawRequest.load(ordering: .relaxed) { sawRequest.store(true, ordering: .relaxed) }
    }

    func streamClosed() {
        openStreams.subtract(1, ordering: .relaxed)
    }

    /// A call on this connection was authenticated (its context's ``ServerContext/markAuthenticated()``).
    func callerAuthenticated() {
        if !authenticated.load(ordering: .relaxed) { authenticated.store(true, ordering: .relaxed) }
    }
}
