import AIMassAPI
import AIMassServices
import RPCCore
import RPCHTTP2

/// `aimass.v1.Feedback/Record` on a worker, so that a client sends what its users did to the worker that served
/// them: each message is forwarded to the control plane (whose store records it, and which checks the WRITER role)
/// under the caller's own authorization, its events first attributed here (``AIMassAPI/FeedbackEvent/attributed(by:)``):
/// one that names only `served_alias` gets the version that alias serves its user on this worker (``servingVersion``:
/// the A/B split the control plane pushed, routed as Recommend routes it here).
/// `ListFeedback` stays the control plane's. The response is the control plane's; so is any error, except
/// `UNAVAILABLE` when it cannot be reached (nothing of an unacknowledged message is lost: resend it, ids are
/// idempotent).
struct WorkerFeedbackService: RPCService {
    static let serviceName = FeedbackMethods.serviceName

    /// The control plane's client (the one the worker is joined to).
    let client: @Sendable () -> RPCClient
    /// The version an alias serves a user here (nil: not known here; the control plane then attributes the event).
    let servingVersion: @Sendable (_ model: String, _ alias: String, _ user: String) -> UInt32?

    func registerMethods(with router: inout RPCRouter) {
        router.registerClientStreaming(FeedbackMethods.record) {
            (requests: RPCRequestStream<RecordFeedbackRequest>, context) in
            try await forward(requests, context: context)
        }
    }

    func forward(_ requests: RPCRequestStream<RecordFeedbackRequest>, context: ServerContext) async throws
        -> RecordFeedbackResponse
    {
        guard let authorization = context.requestMetadata.firstString(forKey: "authorization"), !authorization.isEmpty
        else {
            throw RPCError(code: .unauthenticated, message: "missing authorization metadata: send 'Bearer <token>'")
        }
        let call: ClientCall<RecordFeedbackRequest, RecordFeedbackResponse>
        do {
            call = try await client().makeCall(
                FeedbackMethods.record, options: CallOptions(metadata: ["authorization": .string(authorization)]))
        } catch {
            throw RPCError(code: .unavailable, message: "cannot reach the control plane to record feedback: \(error)")
        }
        do {
            for try await message in requests {
                var attributed = message
                attributed.events = message.events.map { event in
                    event.attributed(by: servingVersion)
                }
                try await call.send(attributed)
            }
            call.finishSending()
        } catch let failure {
            // The control plane may have ended the call first (a bad event): its status is the answer.
            call.finishSending()
            do {
                while try await call.next() != nil {}
            } catch let status as RPCError {
                throw status
            }
            call.cancel()
            throw failure
        }
        guard let response = try await call.next() else {
            throw RPCError(code: .internalError, message: "the control plane sent no response to Feedback/Record")
        }
        while try await call.next() != nil {}
        return response
    }
}
