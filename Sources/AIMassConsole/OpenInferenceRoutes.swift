import AIMassAPI
import HTTPTypes
import Hummingbird
import RPCCore

/// `/v2/…`: the REST form of the Open Inference Protocol v2 (KServe's and Triton's HTTP/JSON API), each route a
/// gateway onto the same call of `inference.GRPCInferenceService` on the server's own port, so authorization,
/// admission, deadlines and metrics are the gRPC service's. `tritonclient.http` works against it with JSON tensors.
///
/// Errors are the spec's `{"error": "message"}` with the HTTP status of the gRPC code (400 for a bad tensor, 401
/// without a valid token, 403 without the role, 404 for an unknown model). Readiness answers are the status alone:
/// 200 for ready, 400 for not ready, as the spec and Triton do. The health routes are public, as gRPC's are.
enum OpenInferenceRoutes {
    /// The largest infer body accepted.
    static let bodyLimit = 16 << 20

    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        let methods = GRPCInferenceServiceMethods.self
        router.get("/v2/health/live") { request, _ in
            await answeringOIP(g) {
                let r: ServerLiveResponse = try await call(g, methods.serverLive, ServerLiveRequest(), request)
                return readiness(r.live)
            }
        }
        router.get("/v2/health/ready") { request, _ in
            await answeringOIP(g) {
                let r: ServerReadyResponse = try await call(g, methods.serverReady, ServerReadyRequest(), request)
                return readiness(r.ready)
            }
        }
        router.get("/v2") { request, _ in
            await answeringOIP(g) {
                let r: ServerMetadataResponse = try await call(g, methods.serverMetadata, ServerMetadataRequest(), request)
                return JSONResponse.make(["name": r.name, "version": r.version, "extensions": r.extensions] as [String: Any])
            }
        }
        for versioned in [false, true] {
            let base = versioned ? "/v2/models/:name/versions/:version" : "/v2/models/:name"
            router.get(RouterPath(base)) { request, context in
                await answeringOIP(g) {
                    let (name, version) = try model(context, versioned)
                    let r: ModelMetadataResponse = try await call(
                        g, methods.modelMetadata, ModelMetadataRequest(name: name, version: version), request)
                    return JSONResponse.make(OpenInferenceJSON.metadata(r))
                }
            }
            router.get(RouterPath(base + "/ready")) { request, context in
                await answeringOIP(g) {
                    let (name, version) = try model(context, versioned)
                    let r: ModelReadyResponse = try await call(
                        g, methods.modelReady, ModelReadyRequest(name: name, version: version), request)
                    return readiness(r.ready)
                }
            }
            router.post(RouterPath(base + "/infer")) { request, context in
                await answeringOIP(g) {
                    let (name, version) = try model(context, versioned)
                    if let binaryHeader = HTTPField.Name("Inference-Header-Content-Length"), request.headers[binaryHeader] != nil {
                        // Read to its end first: a body left unread would be parsed as the connection's next request.
                        _ = try? await request.body.collect(upTo: bodyLimit)
                        throw RPCError(
                            code: .invalidArgument,
                            message: "the binary tensor data extension is not supported: send tensors as JSON "
                                + "(tritonclient.http: binary_data=False on inputs and outputs)")
                    }
                    let body = try await request.json(limit: bodyLimit)
                    let message = try OpenInferenceJSON.request(body, model: name, version: version)
                    let r: ModelInferResponse = try await call(g, methods.modelInfer, message, request)
                    return JSONResponse.make(OpenInferenceJSON.response(r))
                }
            }
        }
    }

    private static func call<Req: WireMessage, Res: WireMessage>(
        _ g: Gateway, _ method: MethodDescriptor, _ message: Req, _ request: Request
    ) async throws -> Res {
        try await g.client.unary(method, request: message, options: g.options(for: request))
    }

    private static func model(_ context: BasicRequestContext, _ versioned: Bool) throws(RPCError) -> (String, String) {
        let name = try context.path("name")
        let version = try versioned ? context.path("version") : ""
        return (name, version)
    }

    /// 200 with an empty body for true, 400 for false.
    private static func readiness(_ ready: Bool) -> Response {
        Response(status: ready ? .ok : .badRequest)
    }

    /// Runs a route's body; any error becomes `{"error": "message"}` with the HTTP status of its gRPC code.
    private static func answeringOIP(_ g: Gateway, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            let mapped = error as? RPCError ?? RPCError(mapping: error)
            if !(error is RPCError) { g.logger.debug("open inference call failed", metadata: ["error": "\(error)"]) }
            return JSONResponse.make(["error": mapped.message], status: HTTPErrorMapping.httpStatus(mapped.code))
        }
    }
}
