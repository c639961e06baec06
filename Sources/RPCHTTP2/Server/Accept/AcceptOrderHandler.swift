import NIOCore

/// On the listening channel, just before NIO's accept handler: holds accepted connections and hands them on in the
/// order of ``AcceptOrder`` (newest first, `window` at a time). The listener runs on an event loop of its own, so
/// it keeps accepting while the connections' event loops are busy setting up the ones before.
final class AcceptOrderHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// An accepted connection and the value NIO's accept handler expects for it.
    struct Accepted {
        let channel: any Channel
        let data: NIOAny
    }

    private var order: AcceptOrder<Accepted>
    private var context: ChannelHandlerContext?

    init(window: Int, capacity: Int) {
        self.order = AcceptOrder(window: window, capacity: capacity)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeWaiting()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeWaiting()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let accepted = Accepted(channel: Self.unwrapInboundIn(data), data: data)
        perform(order.accepted(accepted), context: context)
    }

    private func perform(_ actions: [AcceptOrder<Accepted>.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .setUp(let accepted):
                // NIO's accept handler queues the setup on the connection's event loop before this returns, so a
                // task queued on that loop after it runs once the setup is done (or has failed).
                context.fireChannelRead(accepted.data)
                let listener = NIOLoopBound(self, eventLoop: context.eventLoop)
                let listenerLoop = context.eventLoop
                accepted.channel.eventLoop.execute {
                    listenerLoop.execute { listener.value.setUpFinished() }
                }
            case .close(let accepted):
                accepted.channel.close(promise: nil)
            }
        }
    }

    private func setUpFinished() {
        guard let context else { return }  // the listener is gone; what waited was closed with it
        perform(order.setUpFinished(), context: context)
    }

    private func closeWaiting() {
        for accepted in order.listenerClosed() { accepted.channel.close(promise: nil) }
    }
}
