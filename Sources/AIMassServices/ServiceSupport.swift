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
            case .unavailable: .unavailable
            default: .internalError
            }
        return RPCError(code: status, message: message)
    }
}

extension ModelRegistry {
    /// Runs `body`; a `PERMISSION_DENIED` for a caller with no role at all on the model becomes `NOT_FOUND`, as
    /// registry.proto asks (a model the caller cannot read is not revealed).
    public func hidingUnreadable<T>(_ model: String, _ principal: Principal, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as RegistryError where error.code == .permissionDenied {
            if !principal.isAdmin, (try? role(of: principal, model: model)) ?? nil == nil {
                throw RPCError(code: .notFound, message: "model '\(model)' does not exist")
            }
            throw error
        }
    }

    /// The principal behind a call's `authorization: Bearer TOKEN` metadata.
    ///
    /// - Throws: ``RPCError`` `UNAUTHENTICATED` when the header is missing, malformed or the token unknown;
    ///   `RESOURCE_EXHAUSTED` with `retry-after-ms` when the token is over its request quota.
    public func principal(for context: ServerContext) throws(RPCError) -> Principal {
        guard let header = context.requestMetadata.firstString(forKey: "authorization") else {
            throw RPCError(code: .unauthenticated, message: "missing authorization metadata: send 'Bearer <token>'")
        }
        // On UTF-8 bytes: Character-wise prefix, lowercasing and trimming (grapheme breaking) cost several µs a call,
        // as much as the cached authentication itself; tokens are ASCII.
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else {
            throw RPCError(code: .unauthenticated, message: "authorization metadata must be 'Bearer <token>'")
        }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        let rest = bytes.dropFirst(scheme.count)
        let start = rest.firstIndex { !isBlank($0) } ?? rest.endIndex
        let end = rest[start...].lastIndex { !isBlank($0) }.map { bytes.index(after: $0) } ?? start
        let token = String(decoding: bytes[start..<end], as: UTF8.self)
        let principal: Principal
        do {
            principal = try authenticate(token: token)
        } catch {
            throw error.rpcError
        }
        context.markAuthenticated()
        if let wait = admitRequest(of: principal) {
            throw .quotaExceeded(
                tokenID: principal.tokenID ?? 0, requestsPerSecond: principal.requestsPerSecond, retryAfter: wait)
        }
        return principal
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
