import NIOCore
import Synchronization
import RPCCore

/// The client side of one call on a connection: outbound messages, the response headers,
/// deframed responses and the final status. Touched only on the connection's event loop, except
/// the two atomics, which the consumer updates as it reads responses.
final class ClientStream {
    var id: Int32 = -1
    let call: RawClientCall
    var outbound = OutboundBuffer()
    var sendClosed = false
    var isDeferred = false
    var drainWaiters: [CheckedContinuation<Void, any Error>] = []
    var deframer: MessageDeframer?
    var sawResponseHeaders = false
    var httpStatus: String?
    var grpcStatus: String?
    var grpcMessage: String?
    var encoding: String?
    var headerMetadata = Metadata()
    var finished = false
    var deadlineTask: Scheduled<Void>?
    var flow: FlowCounters { call.flow }

    init(call: RawClientCall) {
        self.call = call
    }

    #if DEBUG
    /// Client streams alive now per server authority (debug builds): tests check that finished calls free theirs.
    static let live = Mutex<[String: Int]>([:])
    /// The authority this stream is counted under.
    var countedAs: String? {
        didSet { if let countedAs { Self.live.withLock { $0[countedAs, default: 0] += 1 } } }
    }
    deinit {
        if let countedAs { Self.live.withLock { $0[countedAs, default: 0] -= 1 } }
    }
    #endif
}
