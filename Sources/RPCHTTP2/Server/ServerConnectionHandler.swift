import Logging
import NIOCore
import RPCCore

/// Serves gRPC on one accepted connection: feeds the socket's bytes to an nghttp2 server session,
/// dispatches each request stream to its handler, and writes what nghttp2 produces.
///
/// Everything here runs on the channel's event loop; handler tasks reach back through
/// `eventLoop.execute` with a loop-bound reference.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let shared: ServerShared
    let logger: Logger
    var session: HTTP2Session?
    var channelContext: ChannelHandlerContext?
    var streams: [Int32: ServerStream] = [:]
    var remotePeer = "unknown"
    let output = OutputPump()
    var draining = false
    /// A flush is scheduled for the end of this event-loop tick (see `channelReadComplete`).
    var flushScheduled = false
    var management: ConnectionManagementState
    /// Runs `management`'s checks, with those of the event loop's other connections.
    var ticker: ConnectionTicker?
    /// Streams of this connection running or queued at the call gate, and of those, queued.
    var gatedCallsHeld = 0
    var gatedCallsQueued = 0
    /// Read back-pressure while the call gate is saturated (see ``BackPressure``).
    var backPressure: BackPressure
    /// NIO asked for a read while reading was paused.
    var readPending = false
    /// The connection is closing after a GOAWAY for an error: what the peer still sends is dropped.
    var lingering = false
    /// Streams opened and closed since the last report to the server's metrics (see ``reportStreams()``).
    var streamsOpenedUnreported = 0
    var streamsClosedUnreported = 0
    /// Offences of this connection against the server's ``AbuseLimits``.
    var abuse: ConnectionAbuseState
    /// How much NIO reads from this connection each time it is ready.
    var readAllowance = ReadAllowance()
    /// Whether a request was ever made, by a known caller, and how many are in flight, for the server's choice of a
    /// connection to close.
    let activity: ConnectionActivity

    /// `inProcess` for a connection made inside this process (``RPCServer/serveInProcess(socket:)``).
    init(shared: ServerShared, allocator: ByteBufferAllocator, inProcess: Bool = false) {
        self.shared = shared
        self.activity = ConnectionActivity(trusted: inProcess)
        self.logger = shared.logger
        self.management = ConnectionManagementState(configuration: shared.configuration.connection)
        self.backPressure = BackPressure()
        self.abuse = ConnectionAbuseState(limits: shared.configuration.abuseLimits, now: .now)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        channelContext = context
        context.channel.applyReadAllowance(readAllowance.size)
        remotePeer = Self.describe(context.channel.remoteAddress)
        do {
            let session = try HTTP2Session(isServer: true)
            session.delegate = self
            let configuration = shared.configuration
            try session.start(
                settings: .init(
                    maxConcurrentStreams: configuration.maxConcurrentStreams,
                    initialWindowSize: configuration.initialStreamWindowSize,
                    maxFrameSize: 16_384,
                    maxHeaderListSize: configuration.maxHeaderListSize,
                    connectionWindowSize: configuration.connectionWindowSize
                )
            )
            self.session = session
        } catch {
            logger.error("cannot create an HTTP/2 session", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        logger.debug("connection opened", metadata: ["peer": "\(remotePeer)"])
        shared.connectionOpened(self, eventLoop: context.eventLoop)
        ticker = shared.ticker(for: context.eventLoop)
        ticker?.add(self)
        // No flush here: the server's SETTINGS wait in nghttp2 for the flush after the client's preface is read and
        // go out in one write with the ACK of the client's SETTINGS. Setting up a connection then costs one socket
        // write instead of two (on loopback a write also wakes the peer): a quarter of a setup's CPU was writes.
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for stream in streams.values {
            abandon(stream, reason: "the connection closed")
            stream.release()
            streamsClosedUnreported += 1
        }
        reportStreams()
        streams.removeAll()
        ticker?.remove(self)
        ticker = nil
        shared.connectionClosed(self, eventLoop: context.eventLoop)
        session?.delegate = nil
        session = nil
        channelContext = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        management.readHappened()
        shared.spinner?.activity()
        guard let session, !lingering else { return }
        output.isReading = true
        do {
            try buffer.withUnsafeReadableBytes { bytes in try session.receive(bytes) }
            output.isReading = false
        } catch {
            output.isReading = false
            // An abort for abuse was counted and logged where it was decided.
            if !session.isAborted { shared.metrics?.frameRejected() }
            logger.debug("HTTP/2 protocol error, closing", metadata: ["peer": "\(remotePeer)", "error": "\(error)"])
            closeAfterGoAway(context: context)
            return
        }
    }

    /// Closes after a connection error (nghttp2's, or an abuse limit): the GOAWAY is written, then the write side
    /// is shut and what the peer still sends is read and dropped for up to a second. Closing at once with its bytes
    /// unread would make the kernel answer with a TCP reset, and the peer would lose the GOAWAY that says why.
    func closeAfterGoAway(context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        flush()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let closeOutput = context.eventLoop.makePromise(of: Void.self)
        // A channel that cannot half-close (TLS, say) closes at once.
        closeOutput.futureResult.whenFailure { _ in handler.value.channelContext?.close(promise: nil) }
        context.close(mode: .output, promise: closeOutput)
        context.eventLoop.scheduleTask(in: .seconds(1)) { handler.value.channelContext?.close(promise: nil) }
    }

    /// Flushes once the event loop has read every connection that was ready, not at once.
    ///
    /// Why: the responses of one loop tick then go out back to back, so a client woken by the first (a wake-up of a
    /// sleeping peer cost ~10 µs of this server's CPU per write on the measured VMs) finds the next ones already
    /// there. Responses written outside a read (handler tasks, timers) still flush at once.
    func channelReadComplete(context: ChannelHandlerContext) {
        if let size = readAllowance.turnEnded(suspect: abuse.isSuspect) {
            context.channel.applyReadAllowance(size)
        }
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            handler.value.updateBackPressure()
            handler.value.flush()
        }
    }

    /// Holds NIO's read while back-pressure pauses this connection (see ``BackPressure``).
    func read(context: ChannelHandlerContext) {
        if backPressure.readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Re-evaluates back-pressure against the gate's saturation: pauses reading, or resumes it (see ``BackPressure``).
    func updateBackPressure() {
        guard let gate = shared.gate else { return }
        // Nothing to look at (nor a lock to take for the connection count) with no call of this connection queued.
        guard gatedCallsQueued > 0 || backPressure.readsPaused else { return }
        let resume = backPressure.update(
            saturation: gate.saturation, connections: shared.openConnections, held: gatedCallsHeld, queued: gatedCallsQueued)
        if resume, readPending, let context = channelContext {
            readPending = false
            context.read()
        }
    }

    /// Writes whatever nghttp2 has queued, and closes the connection once the session is done.
    func flush() {
        defer { reportStreams() }  // after the writes: nghttp2 closes streams as it sends their last frames
        guard let session, let context = channelContext else { return }
        let nested = output.isBusy
        guard output.flush(session, to: context), !nested, !lingering else { return }
        if !session.isAlive || (draining && streams.isEmpty) {
            context.close(promise: nil)
        }
    }

    /// Hands the streams opened and closed since the last report to the metrics: once per flush (after each batch
    /// of reads, and after writes), so a saturated connection pays for it once per batch instead of per stream.
    func reportStreams() {
        guard streamsOpenedUnreported != 0 || streamsClosedUnreported != 0 else { return }
        shared.metrics?.streamsChanged(opened: streamsOpenedUnreported, closed: streamsClosedUnreported)
        streamsOpenedUnreported = 0
        streamsClosedUnreported = 0
    }

    static func describe(_ address: SocketAddress?) -> String {
        switch address {
        case .v4(let v4)?: "ipv4:\(v4.host):\(address?.port ?? 0)"
        case .v6(let v6)?: "ipv6:[\(v6.host)]:\(address?.port ?? 0)"
        case .unixDomainSocket?: "unix:\(address?.pathname ?? "")"
        case nil: "unknown"
        }
    }
}
