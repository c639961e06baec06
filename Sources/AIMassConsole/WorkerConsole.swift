import HTTPTypes
import Hummingbird
import RPCCore
import RPCHTTP2

extension ConsoleServer {
    /// A worker's console (`aimass serve --role worker --http-port P`): read-only views of the pool, the registry
    /// and the events, read from the control plane with the caller's token, and this worker's own serving ("try it"
    /// and the Open Inference Protocol's REST form call the worker). Every write is refused by ``ReadOnlyMiddleware``.
    public struct WorkerConsole: Sendable {
        /// The address the worker advertises in the pool (`HOST:PORT` of its gRPC listener): the page shows this
        /// worker's card and replicas.
        public var address: String
        public var controlPlaneHost: String
        public var controlPlanePort: Int
        /// How to reach the control plane over TLS (`nil`: plaintext).
        public var controlPlaneTLS: ClientTLSConfiguration?

        public init(address: String, controlPlaneHost: String, controlPlanePort: Int, controlPlaneTLS: ClientTLSConfiguration? = nil) {
            self.address = address
            self.controlPlaneHost = controlPlaneHost
            self.controlPlanePort = controlPlanePort
            self.controlPlaneTLS = controlPlaneTLS
        }
    }
}

/// On a worker's console, answers every write under `/api/` (anything but GET, and the two read-only POSTs
/// `/api/recommend` and `/api/similar`) with 405, `Allow: GET` and a body saying where writes are done.
struct ReadOnlyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let workerAddress: String

    /// POST routes that only read.
    static let readingPosts: Set<String> = ["/api/recommend", "/api/similar"]

    static func refuses(_ method: HTTPRequest.Method, path: String) -> Bool {
        guard path.hasPrefix("/api/"), method != .get, method != .head else { return false }
        return !(method == .post && readingPosts.contains(path))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.refuses(request.method, path: request.uri.path) else { return try await next(request, context) }
        // Read to its end (discarding it, an upload may be large): a body left unread would be parsed as the
        // connection's next request.
        do {
            for try await _ in request.body {}
        } catch {}
        let error = RPCError(
            code: .failedPrecondition,
            message: "this is the console of worker \(workerAddress), which is read-only: create, upload, alias moves, "
                + "grants, evaluations, deploy, scale and drain are done on the control plane's console")
        var headers = HTTPErrorMapping.headers(error)
        headers[.allow] = "GET"
        return JSONResponse.make(HTTPErrorMapping.body(error), status: .methodNotAllowed, headers: headers)
    }
}

/// `GET /api/console` (public): which console this is, so the page shows what it can do there:
/// `{"role": "control-plane"}` or `{"role": "worker", "worker_address": "HOST:PORT", "read_only": true}`.
enum ConsoleInfoRoute {
    static func register(on router: Router<BasicRequestContext>, worker: ConsoleServer.WorkerConsole?) {
        router.get("/api/console") { _, _ in
            guard let worker else { return JSONResponse.make(["role": "control-plane", "read_only": false] as [String: Any]) }
            return JSONResponse.make(["role": "worker", "worker_address": worker.address, "read_only": true] as [String: Any])
        }
    }
}
