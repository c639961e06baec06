import NIOCore
import RPCCore

/// The call gate's side of a request: asking it once the request is complete, and resuming a call it queued.
extension ServerConnectionHandler {
    /// Asks the gate about a call whose request is complete, before its task starts or its message is decoded; a
    /// rejected call ends at once with the gate's status (trailers-only), its buffered request dropped.
    ///
    /// Why at the end of the request rather than at its headers: a slot held from the headers is also held while
    /// the client is still sending its message, which has nothing to do with the server's load — in the overload
    /// benchmark a busy client sent each call's DATA 1.8 ms (p50) after its HEADERS, and with the few slots the
    /// limit allows, goodput fell to 8 % of capacity. Gated methods are unary, so the request ends with its message.
    func admitGated(_ stream: ServerStream) -> Bool {
        stream.awaitingGate = false
        guard let gate = shared.gate, let context = stream.context, let eventLoop = channelContext?.eventLoop else {
            return true
        }
        let now = ContinuousClock.now
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let bound = NIOLoopBound(stream, eventLoop: eventLoop)
        let waiter = CallGateWaiter { result in
            eventLoop.execute { handler.value.gateResumed(bound.value, with: result) }
        }
        let call = GatedCall(
            method: context.descriptor, metadata: context.requestMetadata, deadline: context.deadline, now: now,
            waiter: waiter
        )
        switch gate.admit(call) {
        case .reject(let error):
            stream.pendingMessages = []
            finish(stream, status: error, trailers: error.metadata)
            return false
        case .admit(let token):
            gatedCallsHeld += 1
            stream.gateToken = token
            stream.gateAdmittedAt = now
            startGatedBody(stream, context: context)
            return true
        case .queued(let id):
            // The call keeps its stream and undecoded request until the gate resumes it (`gateResumed`).
            gatedCallsHeld += 1
            gatedCallsQueued += 1
            stream.gateQueuedID = id
            updateBackPressure()  // now, before NIO asks for the next read
            return false
        }
    }

    private func startGatedBody(_ stream: ServerStream, context: ServerContext) {
        if let body = stream.gatedBody {
            stream.gatedBody = nil
            startTask(stream, context: context, body: body)
        }
    }

    /// The gate's answer for a call it had queued: run it, or end it with the gate's status. A call that ended
    /// meanwhile (deadline, cancellation) was withdrawn; a token that raced the withdrawal goes straight back.
    func gateResumed(_ stream: ServerStream, with result: Result<any Sendable, RPCError>) {
        guard stream.gateQueuedID != nil, !stream.finished, let context = stream.context else {
            if case .success(let token) = result {
                shared.gate?.callEnded(token, outcome: GatedCallOutcome(duration: .zero, code: .cancelled))
            }
            return
        }
        stream.gateQueuedID = nil
        gatedCallsQueued -= 1
        switch result {
        case .success(let token):
            stream.gateToken = token
            stream.gateAdmittedAt = ContinuousClock.now
            startGatedBody(stream, context: context)
            runRequest(stream)
        case .failure(let error):
            gatedCallsHeld -= 1
            stream.pendingMessages = []
            finish(stream, status: error, trailers: error.metadata)
        }
        updateBackPressure()
        flush()
    }
}
