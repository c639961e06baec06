import Foundation
import HTTPTypes
import Hummingbird
import RPCCore

/// How a gRPC status becomes an HTTP response: one status per code (the mapping of Google's API design guide),
/// and the body `{"code": "NOT_FOUND", "message": "..."}` with the gRPC code's name and the server's message.
enum HTTPErrorMapping {
    static func httpStatus(_ code: StatusCode) -> HTTPResponse.Status {
        switch code {
        case .ok: .ok
        case .invalidArgument, .outOfRange: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .failedPrecondition, .aborted: .conflict
        case .resourceExhausted: .tooManyRequests
        case .cancelled: .init(code: 499, reasonPhrase: "Client Closed Request")
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .dataLoss, .internalError, .unknown: .internalServerError
        }
    }

    /// The JSON body of an error; with `retry_after_ms` when the server said how long to wait (see ``retryAfter(_:)``).
    static func body(_ error: RPCError) -> [String: Any] {
        var body: [String: Any] = ["code": error.code.description, "message": error.message]
        if let milliseconds = retryAfter(error) { body["retry_after_ms"] = milliseconds }
        return body
    }

    /// The error response for `error`.
    static func response(_ error: RPCError) -> Response {
        JSONResponse.make(body(error), status: httpStatus(error.code), headers: headers(error))
    }

    /// The wait the server asks for before a retry, in milliseconds: its `retry-after-ms` trailer (sent with
    /// `RESOURCE_EXHAUSTED` for a token over its quota or a call shed under load).
    static func retryAfter(_ error: RPCError) -> Int? {
        guard let text = error.metadata.firstString(forKey: "retry-after-ms"), let milliseconds = Int(text), milliseconds >= 0 else {
            return nil
        }
        return milliseconds
    }

    /// HTTP headers for an error response: `Retry-After` in whole seconds (rounded up; HTTP has no finer unit) when the
    /// server asked for a wait.
    static func headers(_ error: RPCError) -> HTTPFields {
        var headers = HTTPFields()
        if let milliseconds = retryAfter(error) { headers[.retryAfter] = String((milliseconds + 999) / 1000) }
        return headers
    }
}

/// JSON responses with the console's headers.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONForms.data(object))))
    }
}
