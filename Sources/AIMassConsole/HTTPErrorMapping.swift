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

    /// The JSON body of an error.
    static func body(_ error: RPCError) -> [String: Any] {
        ["code": error.code.description, "message": error.message]
    }

    /// The error response for `error`.
    static func response(_ error: RPCError) -> Response {
        JSONResponse.make(body(error), status: httpStatus(error.code))
    }
}

/// JSON responses with the console's headers.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONForms.data(object))))
    }
}
