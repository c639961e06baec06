import ModelRegistry
import RPCCore

extension RegistryError: RPCErrorConvertible {
    /// The gRPC status a registry error is reported as.
    public var rpcError: RPCError {
        let status: StatusCode =
            switch code {
            case .invalidArgument: .invalidArgument
            case .notFound: .notFound
            case .alreadyExists: .alreadyExists
            case .permissionDenied: .permissionDenied
            case .unauthenticated: .unauthenticated
            case .dataLoss: .dataLoss
            case .resourceExhausted: .resourceExhausted
            case .failedPrecondition: .failedPrecondition
            default: .internalError
            }
        return RPCError(code: status, message: message)
    }
}

extension ModelRegistry {
    /// The principal behind a call's `authorization: Bearer TOKEN` metadata.
    ///
    /// - Throws: ``RPCError`` `UNAUTHENTICATED` when the header is missing, malformed or the token unknown.
    public func principal(for context: ServerContext) throws(RPCError) -> Principal {
        guard let header = context.requestMetadata.firstString(forKey: "authorization") else {
            throw RPCError(code: .unauthenticated, message: "missing authorization metadata: send 'Bearer <token>'")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else {
            throw RPCError(code: .unauthenticated, message: "authorization metadata must be 'Bearer <token>'")
        }
        let token = String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        do {
            return try authenticate(token: token)
        } catch {
            throw error.rpcError
        }
    }
}

import Foundation
