import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// On the listening channel, in front of NIO's accept handler: when accept fails because the process (or system)
/// has no descriptor left, gives the reserve back so that the waiting connections can be accepted, and closes the
/// oldest idle connection to make room; refills the reserve as descriptors come back. Without it a server at its
/// limit leaves new clients in the backlog, unanswered, however many idle connections it holds.
final class AcceptExhaustionHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let shared: ServerShared
    private let reserve: FileDescriptorReserve

    init(shared: ServerShared, reserve: FileDescriptorReserve) {
        self.shared = shared
        self.reserve = reserve
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if reserve.count < reserve.size { reserve.refill() }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == EMFILE || error.errnoCode == ENFILE {
            let freed = reserve.release()
            shared.logger.warning(
                "out of file descriptors: closing the oldest idle connection to accept new ones",
                metadata: ["open_connections": "\(shared.openConnections)", "reserve_released": "\(freed)"]
            )
            shared.closeOldestIdleConnection()
        }
        context.fireErrorCaught(error)
    }
}
