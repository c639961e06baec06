import AIMassAPI
import HTTPTypes
import Hummingbird
import RPCCore
import RPCHTTP2

/// `GET /api/events`: Mesh/Watch as server-sent events (see ``ServerSentEvents`` for the framing), resumed from
/// `Last-Event-ID` or `?since=`; `?model=` (repeatable) keeps only that model's deployments, replicas and versions.
enum EventsRoute {
    static let heartbeatMs: UInt32 = 15_000
    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        router.get("/api/events") { request, _ in
            await answering(g.logger) {
                guard let revision = ServerSentEvents.resumeRevision(
                    lastEventID: request.headers[lastEventID], since: request.query("since"))
                else {
                    throw RPCError(code: .invalidArgument, message: "Last-Event-ID and since must be a revision number")
                }
                // A Watch that resumes at the current revision sends nothing until something happens, so a refused
                // token would only show as an event. One cheap authenticated call first makes it a 401 instead.
                let _: ListModelsResponse = try await g.client.unary(
                    ModelRegistryMethods.listModels, request: ListModelsRequest(pageSize: 1), options: g.options(for: request))
                let watch = WatchRequest(
                    resumeFromRevision: revision, models: request.uri.queryParameters.getAll("model"),
                    heartbeatIntervalMs: heartbeatMs)
                let call: ClientCall<WatchRequest, MeshEvent> = try await g.client.serverStreaming(
                    MeshMethods.watch, request: watch, options: g.options(for: request, unary: false))
                var headers = HTTPFields()
                headers[.contentType] = "text/event-stream; charset=utf-8"
                headers[.cacheControl] = "no-store"
                let body = ResponseBody { writer in
                    // The HTTP client going away makes a write throw: the Watch call is cancelled with it.
                    let registration = g.streams.open { call.cancel() }
                    defer {
                        g.streams.close(registration)
                        call.cancel()
                    }
                    try await writer.write(ByteBuffer(string: ServerSentEvents.preamble))
                    do {
                        for try await event in call.responses {
                            try await writer.write(ByteBuffer(string: ServerSentEvents.frame(event)))
                        }
                    } catch let error as RPCError {
                        let frame = ServerSentEvents.errorFrame(code: error.code.description, message: error.message)
                        try await writer.write(ByteBuffer(string: frame))
                    }
                    try await writer.finish(nil)
                }
                return Response(status: .ok, headers: headers, body: body)
            }
        }
    }
}
