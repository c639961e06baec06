import DequeModule
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
    var method: String?
    var path: String?
    var contentType: String?
    var timeout: String?
    var encoding: String?
    var acceptEncoding: String?
    var metadata = Metadata()
    var headerListSize = 0
    var malformedHeader: String?

    // The call.
    var context: ServerContext?
    var deframer: MessageDeframer?
    var inlineHandler: (@Sendable (InboundMessage, ServerContext) throws(RPCError) -> [UInt8])?
    var inlineRequest: InboundMessage?
    var queue: InboundMessageQueue?
    var task: Task<Void, Never>?
    var deadlineTask: Scheduled<Void>?
    var startedAt = ContinuousClock.now
    var remoteClosed = false
    /// The status was submitted (or the call was abandoned): nothing more is sent.
    var finished = false
    var closed = false

    // Outbound.
    var headersSent = false
    var responseGzip = false
    var outbound = Deque<[UInt8]>()
    var outboundOffset = 0
    var outboundBytes = 0
    var trailers: HeaderList?
    var isDeferred = false
    var drainWaiters: [CheckedContinuation<Void, any Error>] = []

    // Inbound flow control: bytes handed to the handler but not yet consumed by it, and bytes
    // whose window we have not given back because the handler is behind.
    let unconsumedBytes = Atomic<Int>(0)
    let windowOwed = Atomic<Int>(0)

    init(id: Int32) {
        self.id = id
    }

    /// Copies queued outbound bytes into nghttp2's buffer.
    func readOutbound(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count, let chunk = outbound.first {
            let available = chunk.count - outboundOffset
            let count = min(available, buffer.count - written)
            chunk.withUnsafeBytes { source in
                let start = source.baseAddress! + outboundOffset  // chunk is never empty: frames have a 5-byte prefix
                UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(start: start, count: count))
            }
            written += count
            if count == available {
                outbound.removeFirst()
                outboundOffset = 0
            } else {
                outboundOffset += count
            }
        }
        outboundBytes -= written
        return written
    }
}
