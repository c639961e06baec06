import AIMassAPI
import Hummingbird
import NIOCore
import RPCCore
import RPCHTTP2

/// `POST /api/models/{model}/versions`: the request body is the artifact itself (any length, `Content-Length`
/// required), and the query carries the header of the upload: `sha256` (required, the client's own digest),
/// `description`, `manifest.KEY=VALUE`, `metric.KEY=NUMBER`, `annotation.KEY=VALUE`. The gateway streams the body
/// into the UploadVersion client stream in chunks as it arrives (nothing is buffered whole); the server checks the
/// size and the sha256 and stores nothing on a mismatch (DATA_LOSS → 500 with the server's message).
enum UploadRoute {
    /// The gRPC chunk size: well under the server's 4 MiB message limit.
    static let chunkBytes = 256 * 1024

    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        router.post("/api/models/:model/versions") { request, context in
            await answering(g.logger) {
                let header = try versionHeader(model: try context.path("model"), request: request)
                let call: ClientCall<UploadVersionRequest, Version> = try await g.client.makeCall(
                    ModelRegistryMethods.uploadVersion, options: g.options(for: request, unary: false))
                do {
                    try await call.send(UploadVersionRequest(part: .header(header)))
                    var pending: [UInt8] = []
                    pending.reserveCapacity(chunkBytes)
                    for try await buffer in request.body {
                        var buffer = buffer
                        while buffer.readableBytes > 0 {
                            let take = min(chunkBytes - pending.count, buffer.readableBytes)
                            pending += buffer.readBytes(length: take) ?? []
                            if pending.count == chunkBytes {
                                try await call.send(UploadVersionRequest(part: .chunk(pending)))
                                pending.removeAll(keepingCapacity: true)
                            }
                        }
                    }
                    if !pending.isEmpty { try await call.send(UploadVersionRequest(part: .chunk(pending))) }
                    call.finishSending()
                } catch let error as RPCError where error.code != .cancelled {
                    // The server may have ended the call early (bad header, permission): its status says why.
                    _ = try await call.next()
                    throw error
                } catch {
                    call.cancel()
                    throw error
                }
                guard let version = try await call.next() else {
                    throw RPCError(code: .internalError, message: "the server sent no version")
                }
                return JSONResponse.make(JSONForms.version(version), status: .created)
            }
        }
    }

    /// The upload's header from the query and `Content-Length`.
    static func versionHeader(model: String, request: Request) throws(RPCError) -> VersionHeader {
        guard let lengthText = request.headers[.contentLength], let size = Int64(lengthText), size > 0 else {
            throw RPCError(code: .invalidArgument, message: "an upload needs a non-empty body with a Content-Length")
        }
        let sha256 = request.query("sha256")
        guard !sha256.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "an upload needs the query parameter sha256 (64 hex characters)")
        }
        var manifest: [String: String] = [:]
        var metrics: [String: Double] = [:]
        var annotations: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let key = String(key), value = String(value)
            if key.hasPrefix("manifest.") {
                manifest[String(key.dropFirst("manifest.".count))] = value
            } else if key.hasPrefix("annotation.") {
                annotations[String(key.dropFirst("annotation.".count))] = value
            } else if key.hasPrefix("metric.") {
                guard let number = Double(value), number.isFinite else {
                    throw RPCError(code: .invalidArgument, message: "metric '\(key)' must be a number, got '\(value)'")
                }
                metrics[String(key.dropFirst("metric.".count))] = number
            }
        }
        return VersionHeader(
            model: model, description: request.query("description"), sizeBytes: size, sha256: sha256,
            manifest: manifest, metrics: metrics, annotations: annotations)
    }
}
