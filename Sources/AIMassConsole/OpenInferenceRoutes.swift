import AIMassAPI
import Foundation
import HTTPTypes
import Hummingbird
import RPCCore

/// `/v2/…`: the REST form of the Open Inference Protocol v2 (KServe's and Triton's HTTP/JSON API), each route a
/// gateway onto the same call of `inference.GRPCInferenceService` on the server's own port, so authorization,
/// admission, deadlines and metrics are the gRPC service's. Tensors are JSON or, with the binary tensor data extension
/// (``OpenInferenceBinary``, `tritonclient.http`'s default), binary after a JSON header, both ways.
///
/// Errors are the spec's `{"error": "message"}` with the HTTP status of the gRPC code (400 for a bad tensor, 401
/// without a valid token, 403 without the role, 404 for an unknown model). Readiness answers are the status alone:
/// 200 for ready, 400 for not ready, as the spec and Triton do. The health routes are public, as gRPC's are. A 429
/// carries the server's wait as `Retry-After` (seconds) and `retry_after_ms` in the body.
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
                // This REST form adds the binary tensor data extension, which exists over HTTP only.
                let extensions = r.extensions.contains("binary_tensor_data") ? r.extensions : r.extensions + ["binary_tensor_data"]
                return JSONResponse.make(["name": r.name, "version": r.version, "extensions": extensions] as [String: Any])
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
                    let body = try await request.bytes(limit: bodyLimit)
                    if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
                        throw RPCError(
                            code: .invalidArgument,
                            message: "Content-Encoding '\(encoding)' is not supported: send the infer body uncompressed")
                    }
                    let (header, binary) = try OpenInferenceBinary.split(body, headerLength: request.headers[binaryHeaderLength])
                    let (message, wanted) = try OpenInferenceJSON.request(
                        try JSONBody(Data(header)), binary: binary, model: name, version: version)
                    let r: ModelInferResponse = try await call(g, methods.modelInfer, message, request)
                    return inferResponse(OpenInferenceJSON.response(r, binary: wanted))
                }
            }
        }
    }

    /// `Inference-Header-Content-Length`, of the binary tensor data extension.
    private static let binaryHeaderLength = HTTPField.Name(OpenInferenceBinary.headerLengthField)!

    /// The infer answer: JSON alone, or with binary outputs the JSON header followed by their bytes, its length in
    /// `Inference-Header-Content-Length` (the extension's framing, as Triton answers).
    private static func inferResponse(_ answer: (json: [String: Any], binaryData: [UInt8], anyBinary: Bool)) -> Response {
        guard answer.anyBinary else { return JSONResponse.make(answer.json) }
        let header = JSONForms.data(answer.json)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.cacheControl] = "no-store"
        headers[binaryHeaderLength] = String(header.count)
        var buffer = ByteBuffer()
        buffer.writeBytes(header)
        buffer.writeBytes(answer.binaryData)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    private static func call<Req: WireMessage, Res: WireMessage>(
        _ g: Gateway, _ method: MethodDescriptor, _ message: Req, _ request: Request
    ) async throws -> Res {
        try await g.serving.unary(method, request: message, options: g.options(for: request))
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
            var body: [String: Any] = ["error": mapped.message]
            if let milliseconds = HTTPErrorMapping.retryAfter(mapped) { body["retry_after_ms"] = milliseconds }
            return JSONResponse.make(body, status: HTTPErrorMapping.httpStatus(mapped.code), headers: HTTPErrorMapping.headers(mapped))
        }
    }
}
