import AIMassAPI
import Foundation
import ModelRegistry
import RPCCore

/// Conversions between the `aimass.v1.Access` messages and the registry core's users, tokens and audit events.
enum AccessConversions {
    static func apiUser(_ user: DomainUser) -> AIMassAPI.User {
        AIMassAPI.User(
            name: user.name, admin: user.isAdmin, createdAtMs: RegistryConversions.milliseconds(user.createdAt),
            groups: user.groups)
    }

    static func apiToken(_ token: TokenInfo) -> Token {
        Token(
            id: token.id, user: token.user, label: token.label,
            createdAtMs: RegistryConversions.milliseconds(token.createdAt),
            expiresAtMs: token.expiresAt.map(RegistryConversions.milliseconds) ?? 0,
            revokedAtMs: token.revokedAt.map(RegistryConversions.milliseconds) ?? 0,
            lastUsedAtMs: token.lastUsedAt.map(RegistryConversions.milliseconds) ?? 0,
            scope: token.scope.isUnrestricted
                ? nil
                : AIMassAPI.TokenScope(
                    roleCeiling: token.scope.roleCeiling.map(\.description) ?? "", models: token.scope.models),
            requestsPerSecond: token.requestsPerSecond)
    }

    /// The core's scope of a request's; INVALID_ARGUMENT for a role that is not `reader`, `writer` or `owner`.
    static func domainScope(_ scope: AIMassAPI.TokenScope?) throws(RPCError) -> DomainTokenScope {
        guard let scope else { return .unrestricted }
        var ceiling: DomainRole? = nil
        if !scope.roleCeiling.isEmpty {
            guard let role = DomainRole(name: scope.roleCeiling) else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "scope.role_ceiling must be reader, writer or owner (got '\(scope.roleCeiling)')")
            }
            ceiling = role
        }
        return DomainTokenScope(roleCeiling: ceiling, models: scope.models)
    }

    static func apiEvent(_ event: DomainAuditEvent) -> AIMassAPI.AuditEvent {
        AIMassAPI.AuditEvent(
            id: event.id, atMs: RegistryConversions.milliseconds(event.at), user: event.user,
            tokenId: event.tokenID ?? 0, method: event.method, target: event.target, code: event.code,
            message: event.message, peer: event.peer)
    }
}
