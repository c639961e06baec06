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

/// Runs around every client call: to add credentials, log or count.
public protocol ClientInterceptor: Sendable {
    /// Called before the call starts; may add metadata (e.g. `authorization`). Throwing fails the
    /// call with that status before anything is sent.
    func callStarting(_ descriptor: MethodDescriptor, metadata: inout Metadata) throws(RPCError)
    /// Called once the call's status is known.
    func callEnded(_ descriptor: MethodDescriptor, status: RPCStatus, duration: Duration)
}

extension ClientInterceptor {
    public func callStarting(_ descriptor: MethodDescriptor, metadata: inout Metadata) throws(RPCError) {}
    public func callEnded(_ descriptor: MethodDescriptor, status: RPCStatus, duration: Duration) {}
}
