import NIOCore
import RPCCore
import Synchronization

/// One gRPC call on a server connection: the request headers as they arrive, the deframer, the
/// running handler, and the outbound bytes waiting for nghttp2 to pull them.
///
/// Owned by its ``ServerConnectionHandler`` and touched only on that connection's event loop,
/// except the two atomics, which the handler's task updates as it consumes messages.
final class ServerStream {
    let id: Int32

    // Request headers, as they arrive.
    var isPost = false
    var path: String?
    var sawContentType = false
    /// The content-type, kept only when it is not gRPC's (for the error message).
    var contentType: String?
    var timeout: String?
    var encoding: String?
    var acceptsGzip = false
    var metadata = Metadata()
    var headerListSize = 0
    /// The header list passed the server's limit (its fields past the limit were dropped).
    var headerListTooLarge = false
    /// Why the request headers are refused, if they are: the call ends with this status once they are in.
    var headerProblem: RPCError?

    // The call.
    var context: ServerContext?
    var deframer: MessageDeframer?
    var inlineHandler: (@Sendable (InboundMessage, ServerContext) throws(RPCError) -> UnaryOutcome<[UInt8]>)?
    var inlineRequest: InboundMessage?
    var queue: InboundMessageQueue?
    var task: Task<Void, Never>?
    var deadlineTask: Scheduled<Void>?
    var startedAt = ContinuousClock.now
    /// The method's metrics, from the call's start until its end is recorded.
    var instruments: (any ServerCallInstruments)?
    /// Message bytes sent (framing excluded); DATA bytes and messages received (for the metrics' message sizes).
    var sentMessageBytes = 0
    var receivedDataBytes = 0
    var receivedMessages = 0
    // A gated call: its handler and request messages wait for the end of the request and the gate's decision;
    // an admitted call holds its token until it ends.
    var awaitingGate = false
    var gatedBody: (@Sendable (InboundMessageQueue, any ResponseSink, ServerContext) async throws -> Void)?
    var pendingMessages: [InboundMessage] = []
    var gateToken: (any Sendable)?
    var gateAdmittedAt: ContinuousClock.Instant?
    /// Set while the gate holds the call in its queue.
    var gateQueuedID: CallGateQueueID?
    var remoteClosed = false
    /// The status was submitted (or the call was abandoned): nothing more is sent.
    var finished = false
    var closed = false

    // Outbound.
    var headersSent = false
    var responseGzip = false
    var outbound = OutboundBuffer()
    var trailers: HeaderList?
    var isDeferred = false
    var drainWaiters: [CheckedContinuation<Void, any Error>] = []

    /// Inbound flow control, shared with the handler's task.
    let flow = FlowCounters()

    init(id: Int32) {
        self.id = id
    }

    #if DEBUG
    /// The server whose live streams this one is counted in (debug builds: tests check finished calls free theirs).
    var countedIn: ServerShared? {
        didSet { countedIn?.liveStreams.add(1, ordering: .relaxed) }
    }
    deinit { countedIn?.liveStreams.subtract(1, ordering: .relaxed) }
    #endif

    /// Drops what the stream holds for its handler once the connection is done with it. The handler's task and
    /// its message queue both reference this stream (through their closures), so keeping them here would make a
    /// cycle that outlives the call: every task-based call would leak its stream, task and queue.
    func release() {
        task = nil
        queue = nil
        inlineHandler = nil
        inlineRequest = nil
        gatedBody = nil
        pendingMessages = []
        deframer = nil
    }
}
