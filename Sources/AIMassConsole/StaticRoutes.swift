import HTTPTypes
import Hummingbird
import RPCCore

/// `/` and `/assets/…`: the console's page, served from ``WebAssets`` (embedded in the binary), and a JSON 404 for
/// any other `/api/…` path.
enum StaticRoutes {
    /// Only this origin's scripts and styles, no inline script, no framing.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

    static func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in asset("index.html", request: request) }
        router.get("/assets/**") { request, context in
            asset(context.parameters.getCatchAll().joined(separator: "/"), request: request)
        }
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("/api/**", method: method) { request, _ in
                HTTPErrorMapping.response(
                    RPCError(code: .notFound, message: "no such console API: \(request.method) \(request.uri.path)"))
            }
        }
    }

    static func asset(_ name: String, request: Request) -> Response {
        guard let file = WebAssets.files[name] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.eTag] = file.etag
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if request.headers[.ifNoneMatch] == file.etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: file.text)))
    }
}
