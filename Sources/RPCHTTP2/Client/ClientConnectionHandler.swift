import Logging
import NIOCore
import RPCCore

/// The client end of one HTTP/2 connection: opens a stream per call on an nghttp2 client
/// session, feeds it the socket's bytes and writes what it produces. Runs on one event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let configuration: ClientConfiguration
    let authority: String
    let logger: Logger
    var session: HTTP2Session?
    var channelContext: ChannelHandlerContext?
    var streams: [Int32: ClientStream] = [:]
    let output = OutputPump()
    /// Set once the server sent GOAWAY or the connection closed: no new calls go here.
    var isUsable = true
    let onClose: @Sendable () -> Void
    /// When bytes last came from the server (for keepalive).
    var lastRead = NIODeadline.now()
    /// The next keepalive check, and the wait for a PING's acknowledgement (``startKeepalive(context:)``).
    var keepaliveTask: Scheduled<Void>?
    var pingTimeoutTask: Scheduled<Void>?
    /// Why the connection closed, for the calls it fails (the keepalive names itself).
    var closeReason = "the connection closed"

    init(configuration: ClientConfiguration, authority: String, logger: Logger, allocator: ByteBufferAllocator,
         onClose: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.authority = authority
        self.logger = logger
        self.onClose = onClose
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
        do {
            let session = try HTTP2Session(isServer: false)
            session.delegate = self
            try session.start(
                settings: .init(
                    maxConcurrentStreams: 100,
                    initialWindowSize: configuration.initialStreamWindowSize,
                    maxFrameSize: 16_384,
                    maxHeaderListSize: 16 * 1024,
                    connectionWindowSize: 8 * 1024 * 1024
                )
            )
            self.session = session
        } catch {
            context.close(promise: nil)
            return
        }
        startKeepalive(context: context)
        flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isUsable = false
        stopKeepalive()
        let open = streams.values
        streams.removeAll()
        for stream in open {
            fail(stream, with: RPCError(code: .unavailable, message: closeReason), reset: false)
            stream.call.detach()
        }
        session?.delegate = nil
        session = nil
        channelContext = nil
        onClose()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let session else { return }
        lastRead = .now()
        output.isReading = true
        do {
            try buffer.withUnsafeReadableBytes { try session.receive($0) }
        } catch {
            output.isReading = false
            logger.debug("HTTP/2 protocol error from the server", metadata: ["error": "\(error)"])
            flush()
            context.close(promise: nil)
            return
        }
        output.isReading = false
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush() }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func flush() {
        guard let session, let context = channelContext else { return }
        output.flush(session, to: context)
    }

    // MARK: Calls

    /// Opens the HTTP/2 stream of a call; `onlyRequest` (a framed message) is queued and the request stream
    /// closed before the headers are submitted, so nghttp2 writes HEADERS, DATA and END_STREAM together.
    func open(_ call: RawClientCall, onlyRequest: [UInt8]? = nil) throws(RPCError) {
        guard isUsable, let session else {
            throw RPCError(code: .unavailable, message: "the connection is closing")
        }
        var headers = HeaderList()
        headers.add(":method", "POST")
        headers.add(":scheme", "http")
        headers.add(":path", call.descriptor.path)
        headers.add(":authority", authority)
        headers.add("content-type", "application/grpc")
        headers.add("te", "trailers")
        headers.add("user-agent", "aimass-swift/1.0")
        if let timeout = call.options.timeout { headers.add("grpc-timeout", GRPCTimeout.format(timeout)) }
        if call.options.compressRequests { headers.add("grpc-encoding", "gzip") }
        headers.add("grpc-accept-encoding", "identity,gzip")
        ServerConnectionHandler.append(call.options.metadata, to: &headers)
        let stream = ClientStream(call: call)
        #if DEBUG
        stream.countedAs = authority
        #endif
        if let onlyRequest {
            stream.outbound.append(onlyRequest)
            stream.sendClosed = true
        }
        do {
            stream.id = try session.submitRequest(headers: headers)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot open a stream: \(error)")
        }
        streams[stream.id] = stream
        call.attach(stream)
        if let timeout = call.options.timeout, let eventLoop = channelContext?.eventLoop {
            let handler = NIOLoopBound(self, eventLoop: eventLoop)
            let bound = NIOLoopBound(stream, eventLoop: eventLoop)
            stream.deadlineTask = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                handler.value.fail(
                    bound.value,
                    with: RPCError(code: .deadlineExceeded, message: "the call did not finish within \(timeout)"),
                    reset: true
                )
            }
        }
        flush()
    }

    func enqueue(_ framed: [UInt8], on stream: ClientStream, continuation: CheckedContinuation<Void, any Error>) {
        // A call the server already ended swallows the message: its status surfaces when reading.
        if stream.finished { return continuation.resume() }
        guard !stream.sendClosed else {
            return continuation.resume(throwing: RPCError(code: .failedPrecondition, message: "the request stream was already closed"))
        }
        stream.outbound.append(framed)
        resumeIfDeferred(stream)
        if stream.outbound.byteCount < ServerConnectionHandler.highWatermark {
            continuation.resume()
        } else {
            stream.drainWaiters.append(continuation)
        }
        flush()
    }

    func closeSend(_ stream: ClientStream) {
        guard !stream.sendClosed else { return }
        stream.sendClosed = true
        resumeIfDeferred(stream)
        flush()
    }

    private func resumeIfDeferred(_ stream: ClientStream) {
        if stream.isDeferred {
            stream.isDeferred = false
            session?.resumeData(streamID: stream.id)
        }
    }

    /// Ends a call with an error (deadline, cancellation, lost connection), resetting the stream if asked.
    func fail(_ stream: ClientStream, with error: RPCError, reset: Bool) {
        guard !stream.finished else { return }
        finishCall(stream, status: RPCStatus(code: error.code, message: error.message), trailers: error.metadata)
        if reset, streams[stream.id] != nil {
            session?.resetStream(streamID: stream.id, errorCode: .cancel)
            flush()
        }
    }

    func finishCall(_ stream: ClientStream, status: RPCStatus, trailers: Metadata) {
        guard !stream.finished else { return }
        stream.finished = true
        stream.deadlineTask?.cancel()
        stream.deadlineTask = nil
        let waiters = stream.drainWaiters
        stream.drainWaiters = []
        for waiter in waiters { waiter.resume() }
        stream.call.publishStatus(status, trailers: trailers)
    }

    func releaseOwedWindow(_ stream: ClientStream) {
        guard streams[stream.id] != nil else { return }
        let owed = stream.flow.owed.exchange(0, ordering: .relaxed)
        if owed > 0 {
            session?.consume(streamID: stream.id, count: owed)
            flush()
        }
    }
}
