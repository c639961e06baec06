import DequeModule
import Synchronization

/// One received message: its bytes (already decompressed) and whether it came compressed.
public struct InboundMessage: Sendable {
    public var bytes: [UInt8]
    public var wasCompressed: Bool

    public init(bytes: [UInt8], wasCompressed: Bool) {
        self.bytes = bytes
        self.wasCompressed = wasCompressed
    }
}

/// A single-consumer queue of received messages between a transport and a handler.
///
/// The transport pushes on its I/O thread; the handler awaits ``next()``. Every message taken is
/// reported to `onConsumed` with its size, which the transport uses to open its flow-control window
/// again: a handler that reads slowly makes the peer stop sending, instead of letting bytes pile up.
public final class InboundMessageQueue: Sendable {
    private struct State {
        var buffer = Deque<InboundMessage>()
        var end: Result<Void, RPCError>?
        var waiter: CheckedContinuation<InboundMessage?, any Error>?
    }
    private let state = Mutex(State())
    private let onConsumed: @Sendable (Int) -> Void

    public init(onConsumed: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.onConsumed = onConsumed
    }

    /// Adds a message; ignored after the queue ended.
    public func push(_ message: InboundMessage) {
        let waiter = state.withLock { state -> CheckedContinuation<InboundMessage?, any Error>? in
            guard state.end == nil else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(message)
            return nil
        }
        if let waiter {
            onConsumed(message.bytes.count)
            waiter.resume(returning: message)
        }
    }

    /// Ends the stream: normally (`nil`) or with an error that the consumer will throw.
    ///
    /// - Parameter keepBuffered: With an error, whether messages already received are still handed out
    ///   before it (a client reading responses that precede a non-OK status) or dropped (a cancelled call).
    public func finish(throwing error: RPCError? = nil, keepBuffered: Bool = false) {
        let waiter = state.withLock { state -> CheckedContinuation<InboundMessage?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = error.map { .failure($0) } ?? .success(())
            if error != nil && !keepBuffered { state.buffer.removeAll() }
            // A waiter exists only when the buffer is empty, so it gets the end at once.
            defer { state.waiter = nil }
            return state.waiter
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    /// The next message, `nil` at the end of the stream; throws the error the stream failed with.
    public func next() async throws -> InboundMessage? {
        if case .some(let ready) = try takeReady() { return ready }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate: Result<InboundMessage?, RPCError>? = state.withLock { state in
                    if let message = state.buffer.popFirst() { return .success(message) }
                    switch state.end {
                    case .some(.success): return .success(nil)
                    case .some(.failure(let error)): return .failure(error)
                    case nil:
                        state.waiter = continuation
                        return nil
                    }
                }
                if let immediate {
                    if case .success(let message?) = immediate { onConsumed(message.bytes.count) }
                    continuation.resume(with: immediate)
                }
            }
        } onCancel: {
            finish(throwing: RPCError(code: .cancelled, message: "the call was cancelled"))
        }
    }

    /// A message or the end if one is ready now; `.none` when the consumer has to wait.
    private func takeReady() throws -> InboundMessage?? {
        let result: Result<InboundMessage?, RPCError>? = state.withLock { state in
            if let message = state.buffer.popFirst() { return .success(message) }
            switch state.end {
            case .some(.success): return .success(nil)
            case .some(.failure(let error)): return .failure(error)
            case nil: return nil
            }
        }
        guard let result else { return nil }
        let message = try result.get()
        if let message { onConsumed(message.bytes.count) }
        return .some(message)
    }
}

/// Where a server handler's response messages go; implemented by the transport.
public protocol ResponseSink: Sendable {
    /// Sends one encoded message. Suspends while the peer is not reading (back-pressure) and throws
    /// once the call is over (cancelled, reset or past its deadline).
    func send(_ message: [UInt8], compress: Bool) async throws
}

/// The typed request messages of a streaming call.
public struct RPCRequestStream<Message: WireMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    private let queue: InboundMessageQueue
    private let context: ServerContext?

    public init(queue: InboundMessageQueue, context: ServerContext? = nil) {
        self.queue = queue
        self.context = context
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: InboundMessageQueue
        let context: ServerContext?

        public mutating func next() async throws -> Message? {
            guard let message = try await queue.next() else { return nil }
            context?.requestWasCompressed = message.wasCompressed
            return try Message(wireBytes: message.bytes)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: queue, context: context) }
}

@available(*, unavailable)
extension RPCRequestStream.AsyncIterator: Sendable {}

/// Writes typed response messages of a server-streaming or bidirectional call.
public struct RPCWriter<Message: WireMessage>: Sendable {
    private let sink: any ResponseSink
    private let context: ServerContext

    public init(sink: any ResponseSink, context: ServerContext) {
        self.sink = sink
        self.context = context
    }

    /// Sends a message, compressed when the context asks for it (or `compress` overrides).
    /// Suspends while the peer is not reading.
    public func write(_ message: Message, compress: Bool? = nil) async throws {
        try await sink.send(message.wireBytes(), compress: compress ?? context.compressResponses)
    }
}
