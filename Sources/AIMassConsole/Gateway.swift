import AIMassAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RPCCore
import RPCHTTP2

/// The console's way into the platform: every JSON call is the same gRPC call on the server's own port, over
/// loopback, with the caller's `Authorization` header forwarded as is. Authentication and authorization are
/// therefore exactly gRPC's; the gateway adds none of its own.
struct Gateway: Sendable {
    /// The registry, scheduler, mesh and access calls: the server's own port, or a worker's control plane.
    let client: RPCClient
    /// The serving calls (Recommend, the Open Inference Protocol): the server's own port, also on a worker.
    let serving: RPCClient
    let logger: Logger
    /// The event streams in progress (ended at shutdown).
    let streams: OpenStreams
    /// The deadline of one unary call.
    let unaryTimeout: Duration

    /// The gRPC call options for `request`: its bearer token (if any) and, for unary calls, the deadline.
    func options(for request: Request, unary: Bool = true) -> CallOptions {
        var metadata: Metadata = [:]
        if let authorization = request.headers[.authorization] { metadata.add(authorization, forKey: "authorization") }
        return CallOptions(timeout: unary ? unaryTimeout : nil, metadata: metadata)
    }

    /// Calls a unary method and answers with `render(response)` as JSON.
    func unary<Req: WireMessage, Res: WireMessage>(
        _ method: MethodDescriptor, _ message: Req, for request: Request, status: HTTPResponse.Status = .ok,
        via client: RPCClient? = nil, render: (Res) -> Any
    ) async throws -> Response {
        let response: Res = try await (client ?? self.client).unary(method, request: message, options: options(for: request))
        return JSONResponse.make(render(response), status: status)
    }
}

/// Runs a route's body; any error becomes the JSON error response of its gRPC status (a route never throws).
func answering(_ logger: Logger, _ body: () async throws -> Response) async -> Response {
    do {
        return try await body()
    } catch let error as RPCError {
        return HTTPErrorMapping.response(error)
    } catch {
        let mapped = RPCError(mapping: error)
        logger.debug("console call failed", metadata: ["error": "\(error)"])
        return HTTPErrorMapping.response(mapped)
    }
}

extension Request {
    /// A query parameter, or `""`.
    func query(_ name: String) -> String { uri.queryParameters.get(name) ?? "" }

    /// A query parameter that must be an unsigned integer (absent means 0).
    func queryInteger<T: FixedWidthInteger>(_ name: String, as: T.Type = T.self) throws(RPCError) -> T {
        let text = query(name)
        if text.isEmpty { return 0 }
        guard let value = T(text), value >= 0 else {
            throw RPCError(code: .invalidArgument, message: "query parameter '\(name)' must be an integer >= 0, got '\(text)'")
        }
        return value
    }

    /// The JSON body, at most `limit` bytes.
    func json(limit: Int = 1 << 20) async throws -> JSONBody {
        try JSONBody(Data(try await bytes(limit: limit)))
    }

    /// The whole body, at most `limit` bytes.
    ///
    /// - Throws: ``RPCError`` `RESOURCE_EXHAUSTED` when it is longer.
    func bytes(limit: Int) async throws -> [UInt8] {
        do {
            return Array(try await body.collect(upTo: limit).readableBytesView)
        } catch {
            throw RPCError(code: .resourceExhausted, message: "the request body is larger than \(limit) bytes")
        }
    }
}

extension BasicRequestContext {
    /// A path parameter the route declares (always present when the route matched).
    func path(_ name: String) throws(RPCError) -> String {
        guard let value = parameters.get(name), !value.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "missing '\(name)' in the path")
        }
        return value
    }
}
