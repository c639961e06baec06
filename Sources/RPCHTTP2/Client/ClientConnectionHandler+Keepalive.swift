import NIOCore
import RPCCore

/// Client-side keepalive (``ClientConfiguration/Keepalive``): after `interval` without reading anything from the
/// server, with a call in flight (or always, with `permitWithoutCalls`), a PING is sent; no acknowledgement within
/// `timeout` closes the connection, failing its calls with `UNAVAILABLE` naming the keepalive, so a silent peer
/// (a partition that drops packets without a reset) is noticed within `interval + timeout` instead of TCP's minutes.
extension ClientConnectionHandler {
    /// Starts the keepalive timer (on the connection's event loop).
    func startKeepalive(context: ChannelHandlerContext) {
        guard let keepalive = configuration.keepalive else { return }
        lastRead = .now()
        scheduleKeepaliveCheck(in: keepalive.interval, on: context.eventLoop)
    }

    private func scheduleKeepaliveCheck(in delay: Duration, on eventLoop: any EventLoop) {
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        keepaliveTask = eventLoop.scheduleTask(in: TimeAmount(delay)) { handler.value.keepaliveCheck() }
    }

    private func keepaliveCheck() {
        guard let keepalive = configuration.keepalive, let context = channelContext, session != nil else { return }
        let silent = NIODeadline.now() - lastRead
        let interval = TimeAmount(keepalive.interval)
        guard silent >= interval else {
            scheduleKeepaliveCheck(in: .nanoseconds((interval - silent).nanoseconds), on: context.eventLoop)
            return
        }
        guard pingTimeoutTask == nil, !streams.isEmpty || keepalive.permitWithoutCalls else {
            scheduleKeepaliveCheck(in: keepalive.interval, on: context.eventLoop)
            return
        }
        session?.submitPing()
        flush()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTimeoutTask = context.eventLoop.scheduleTask(in: TimeAmount(keepalive.timeout)) {
            handler.value.keepaliveTimedOut()
        }
        scheduleKeepaliveCheck(in: keepalive.interval, on: context.eventLoop)
    }

    /// The server acknowledged our PING: the connection is alive.
    func keepaliveAcknowledged() {
        pingTimeoutTask?.cancel()
        pingTimeoutTask = nil
    }

    private func keepaliveTimedOut() {
        pingTimeoutTask = nil
        guard let keepalive = configuration.keepalive, let context = channelContext else { return }
        logger.warning(
            "keepalive PING not acknowledged: closing the connection",
            metadata: ["authority": "\(authority)", "timeout": "\(keepalive.timeout)"]
        )
        closeReason = "keepalive PING not acknowledged within \(keepalive.timeout) (the server is silent)"
        isUsable = false
        context.close(promise: nil)
    }

    /// Stops the keepalive timers (the connection is going away).
    func stopKeepalive() {
        keepaliveTask?.cancel()
        keepaliveTask = nil
        pingTimeoutTask?.cancel()
        pingTimeoutTask = nil
    }
}
