import Synchronization

/// The event streams being served, so that shutdown can end them: an HTTP server's graceful shutdown waits for
/// every response to finish, and an event stream never finishes by itself.
final class OpenStreams: Sendable {
    private struct State {
        var nextID = 0
        var cancels: [Int: @Sendable () -> Void] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// Registers a stream's cancel action; returns `nil` (and cancels at once) when shutdown has begun.
    func open(cancel: @escaping @Sendable () -> Void) -> Int? {
        let id = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.nextID += 1
            state.cancels[state.nextID] = cancel
            return state.nextID
        }
        if id == nil { cancel() }
        return id
    }

    func close(_ id: Int?) {
        guard let id else { return }
        _ = state.withLock { $0.cancels.removeValue(forKey: id) }
    }

    /// Cancels every open stream and refuses new ones.
    func cancelAll() {
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            defer { state.cancels = [:] }
            return Array(state.cancels.values)
        }
        for cancel in cancels { cancel() }
    }
}
