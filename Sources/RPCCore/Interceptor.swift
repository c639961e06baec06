/// Runs around every server call: to authenticate, log or count.
///
/// Both hooks are synchronous so that they also run on the inline fast path.
public protocol ServerInterceptor: Sendable {
    /// Called before the handler; throwing ends the call with that status and the handler never runs.
    func callStarted(_ context: ServerContext) throws(RPCError)
    /// Called once the call's status is known.
    func callEnded(_ context: ServerContext, status: RPCStatus, duration: Duration)
}

extension ServerInterceptor {
    public func callStarted(_ context: ServerContext) throws(RPCError) {}
    public func callEnded(_ context: ServerContext, status: RPCStatus, duration: Duration) {}
}
