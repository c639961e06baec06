import NIOCore
import RPCCore
import Synchronization

/// One client call in bytes: what the typed ``ClientCall`` and the unary helpers are built on.
///
/// Sending hops to the connection's event loop; responses arrive on ``responses``; the initial
/// metadata and the final status are published once known.
final class RawClientCall: Sendable {
    let descriptor: MethodDescriptor
    let options: CallOptions
    let responses: InboundMessageQueue
    let eventLoop: any EventLoop
    private let handler: NIOLoopBound<ClientConnectionHandler>

    private struct State {
        var stream: ClientStream?
        var initialMetadata: Metadata?
        var trailingMetadata: Metadata?
        var status: RPCStatus?
        var metadataWaiters: [CheckedContinuation<Metadata, Never>] = []
        var finishHandlers: [@Sendable (RPCStatus) -> Void] = []
    }
    // The stream reference is only dereferenced on the event loop.
    private let state: Mutex<State>

    init(descriptor: MethodDescriptor, options: CallOptions, handler: NIOLoopBound<ClientConnectionHandler>, eventLoop: any EventLoop) {
        self.descriptor = descriptor
        self.options = options
        self.handler = handler
        self.eventLoop = eventLoop
        self.state = Mutex(State())
        let holder = StreamHolder()
        let flow = FlowCounters()
        self.flow = flow
        self.responses = InboundMessageQueue { size in
            if flow.consumed(size) {
                eventLoop.execute { if let stream = holder.stream { handler.value.releaseOwedWindow(stream) } }
            }
        }
        self.holder = holder
    }

    private let holder: StreamHolder
    /// The response stream's flow-control counters, shared with its ``ClientStream``.
    let flow: FlowCounters

    func attach(_ stream: ClientStream) {
        holder.stream = stream
    }

    /// Forgets the stream once the connection is done with it (on the event loop): the stream references this
    /// call, so keeping it would make a cycle that leaks both after every call.
    func detach() {
        holder.stream = nil
    }

    /// Sends one message (framed and compressed here), waiting while the server is behind.
    func send(_ message: [UInt8], compress: Bool) async throws {
        let framed = MessageFramer.frame(message, compress: compress)
        let handler = self.handler
        let holder = self.holder
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            eventLoop.execute {
                guard let stream = holder.stream else { return continuation.resume() }
                handler.value.enqueue(framed, on: stream, continuation: continuation)
            }
        }
    }

    /// Ends the request stream.
    func closeSend() {
        let handler = self.handler
        let holder = self.holder
        eventLoop.execute {
            if let stream = holder.stream { handler.value.closeSend(stream) }
        }
    }

    /// Cancels the call: RST_STREAM(CANCEL) and status CANCELLED.
    func cancel() {
        let handler = self.handler
        let holder = self.holder
        eventLoop.execute {
            if let stream = holder.stream {
                handler.value.fail(stream, with: RPCError(code: .cancelled, message: "cancelled by the client"), reset: true)
            }
        }
    }

    // MARK: Published by the connection

    func publishInitialMetadata(_ metadata: Metadata) {
        let waiters = state.withLock { state -> [CheckedContinuation<Metadata, Never>] in
            guard state.initialMetadata == nil else { return [] }
            state.initialMetadata = metadata
            defer { state.metadataWaiters = [] }
            return state.metadataWaiters
        }
        for waiter in waiters { waiter.resume(returning: metadata) }
    }

    func publishStatus(_ status: RPCStatus, trailers: Metadata) {
        publishInitialMetadata(Metadata())
        let handlers = state.withLock { state -> [@Sendable (RPCStatus) -> Void] in
            guard state.status == nil else { return [] }
            state.status = status
            state.trailingMetadata = trailers
            defer { state.finishHandlers = [] }
            return state.finishHandlers
        }
        for handler in handlers { handler(status) }
        if status.code == .ok {
            responses.finish()
        } else {
            // Responses received before the status are still read, in order, then the status is thrown.
            responses.finish(
                throwing: RPCError(code: status.code, message: status.message, metadata: trailers),
                keepBuffered: true
            )
        }
    }

    /// Runs `handler` with the final status once the call ends (at once if it has).
    func onFinish(_ handler: @escaping @Sendable (RPCStatus) -> Void) {
        let ended = state.withLock { state -> RPCStatus? in
            if let status = state.status { return status }
            state.finishHandlers.append(handler)
            return nil
        }
        if let ended { handler(ended) }
    }

    /// The response headers' metadata (empty for a trailers-only response).
    func initialMetadata() async -> Metadata {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Metadata? in
                if let metadata = state.initialMetadata { return metadata }
                state.metadataWaiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The trailing metadata, once the call is over.
    var trailingMetadata: Metadata? { state.withLock { $0.trailingMetadata } }

    /// The final status, once the call is over.
    var status: RPCStatus? { state.withLock { $0.status } }
}

/// Gives the response queue's consumer access to the stream's flow-control counters.
private final class StreamHolder: @unchecked Sendable {
    // Written and read only on the connection's event loop.
    var stream: ClientStream?
}
