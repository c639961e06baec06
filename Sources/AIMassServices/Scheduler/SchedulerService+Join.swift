import AIMassAPI
import RPCCore
import SchedulerCore

extension SchedulerService {
    /// How a Join stream ended, seen from the reading side.
    private enum Ending: Sendable {
        /// The worker half-closed: it left.
        case clean
        /// The controller closed the stream (lease expired, shutdown).
        case closedByControlPlane
    }

    /// `Scheduler/Join`: hello → welcome, then placements down and load and statuses up, until either side ends.
    ///
    /// Errors are stream statuses: `INVALID_ARGUMENT` (first message not hello, bad address or capacity, bad
    /// status), `ALREADY_EXISTS` (the worker id is connected elsewhere), `PERMISSION_DENIED` (not an admin token),
    /// `UNAUTHENTICATED`, `UNAVAILABLE` (lease expired or control plane shutting down: join again).
    func join(_ requests: RPCRequestStream<JoinRequest>, writer: RPCWriter<JoinResponse>, context: ServerContext) async throws {
        let principal = try registry.principal(for: context)
        guard principal.isAdmin else {
            throw RPCError(
                code: .permissionDenied,
                message: "\(principal) may not join the pool as a worker: workers need an admin token"
            )
        }
        var iterator = requests.makeAsyncIterator()
        guard let first = try await iterator.next() else {
            throw RPCError(code: .invalidArgument, message: "the Join stream ended before the worker's hello")
        }
        guard case .hello(let hello)? = first.payload else {
            throw RPCError(code: .invalidArgument, message: "the first Join message must be a hello")
        }
        let session = try controller.attach(hello)
        let controller = self.controller
        let ending: Result<Ending, any Error> = await withTaskGroup(of: Result<Ending, any Error>.self) { group in
            group.addTask {
                do {
                    for await outbound in session.outbox {
                        switch outbound {
                        case .message(let message): try await writer.write(message)
                        case .close(let error): throw error
                        }
                    }
                    return .success(.closedByControlPlane)
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                do {
                    for try await request in requests {
                        try controller.receive(request, from: session)
                    }
                    return .success(.clean)
                } catch {
                    return .failure(error)
                }
            }
            let result = await group.next() ?? .success(.closedByControlPlane)
            group.cancelAll()
            return result
        }
        switch ending {
        case .success(.clean):
            controller.detach(session, clean: true)
        case .success(.closedByControlPlane):
            controller.detach(session, clean: false)
            throw RPCError(code: .unavailable, message: "worker \(session.workerID): stream closed by the control plane; join again")
        case .failure(let error):
            controller.detach(session, clean: false)
            throw error
        }
    }
}
