import AIMassAPI
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
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw RPCError(code: .unauthenticated, message: "authorization metadata must be 'Bearer <token>'")
        }
        // Trimmed by hand: Foundation's `trimmingCharacters(in:)` cost ~4 µs a call, as much as the cached
        // authentication itself (tokens are ASCII, so spaces and tabs are all there is to trim).
        var token = header.dropFirst(prefix.count)
        while token.first == " " || token.first == "\t" { token.removeFirst() }
        while token.last == " " || token.last == "\t" { token.removeLast() }
        do {
            return try authenticate(token: String(token))
        } catch {
            throw error.rpcError
        }
    }
}

import Foundation

extension VersionSelector {
    /// The registry reference this selector names: a number, an alias, or (when empty) the latest version.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` when both a number and an alias are set.
    public func reference() throws(RPCError) -> VersionReference {
        switch (number, alias.isEmpty) {
        case (0, true): return .latest
        case (0, false): return alias == "latest" ? .latest : .alias(alias)
        case (_, true): return .number(Int(number))
        default: throw RPCError(code: .invalidArgument, message: "set either a version number or an alias, not both")
        }
    }
}

extension Optional where Wrapped == VersionSelector {
    /// The registry reference of an optional selector; absent means the latest version.
    public func reference() throws(RPCError) -> VersionReference {
        guard let selector = self else { return .latest }
        return try selector.reference()
    }
}
