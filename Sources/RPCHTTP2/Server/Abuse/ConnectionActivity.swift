import Synchronization

/// What the server's connection table needs to know of a connection to choose which one to close for room,
/// read from another thread than the connection's: two relaxed atomics, touched once per stream.
final class ConnectionActivity: Sendable {
    private let openStreams = Atomic<Int>(0)
    private let sawRequest = Atomic<Bool>(false)

    /// The client has never opened a stream (a request): the cheapest connection to close.
    var isSilent: Bool { !sawRequest.load(ordering: .relaxed) }
    /// No call is in flight.
    var isIdle: Bool { openStreams.load(ordering: .relaxed) == 0 }

    func streamOpened() {
        openStreams.add(1, ordering: .relaxed)
        if !sawRequest.load(ordering: .relaxed) { sawRequest.store(true, ordering: .relaxed) }
    }

    func streamClosed() {
        openStreams.subtract(1, ordering: .relaxed)
    }
}
