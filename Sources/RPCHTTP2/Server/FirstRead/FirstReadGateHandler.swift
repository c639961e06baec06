import NIOCore

/// The first handler of an accepted connection: holds NIO's first read until the connection has sent something
/// (``FirstReadGate``), then leaves the pipeline. While it holds, NIO does not watch the socket for input.
final class FirstReadGateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let gate: FirstReadGate
    private var context: ChannelHandlerContext?
    private var isOpen = false
    /// NIO asked to read while the gate held.
    private var readRequested = false

    init(gate: FirstReadGate) {
        self.gate = gate
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        gate.arrived(self)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !isOpen { gate.left(self) }
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if isOpen {
            context.read()
        } else {
            readRequested = true
        }
    }

    /// Whether the peer has sent any byte (an unknown answer counts as yes: the connection is then read as usual).
    func hasSpoken() -> Bool {
        guard let provider = context?.channel as? any SocketOptionProvider else { return true }
        // On the channel's loop NIO answers at once: the future is complete, and its callback runs here.
        var spoken = true
        let info: EventLoopFuture<TCPInfoPrefix> = provider.unsafeGetSocketOption(level: .tcp, name: .tcp_info)
        info.assumeIsolated().whenSuccess { spoken = $0.hasReceivedBytes }
        return spoken
    }

    /// The read goes on, and the handler leaves the pipeline.
    func open() {
        guard !isOpen, let context else { return }
        isOpen = true
        if readRequested {
            readRequested = false
            context.read()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// The start of Linux's `struct tcp_info` (`<linux/tcp.h>`; glibc's copy stops before the fields read here), up to
/// `tcpi_bytes_received`. The kernel only ever appends to it, and zero-fills nothing it does not know: NIO zeroes the
/// buffer first, so a kernel too old for these fields (before 4.1) leaves `tcpi_max_pacing_rate` zero, which no newer
/// kernel reports (its default is "unlimited", all ones).
struct TCPInfoPrefix: Sendable {
    private var words: (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    /// `tcpi_max_pacing_rate` (offset 112).
    var maxPacingRate: UInt64 { words.14 }
    /// `tcpi_bytes_received` (offset 128).
    var bytesReceived: UInt64 { words.16 }

    /// Whether the peer sent any byte; `true` when the kernel did not say.
    var hasReceivedBytes: Bool { maxPacingRate == 0 || bytesReceived > 0 }
}
