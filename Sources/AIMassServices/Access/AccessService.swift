import AIMassAPI
import Foundation
import Logging
import ModelRegistry
import RPCCore

/// `aimass.v1.Access` over the registry core: users, tokens and the audit log, managed while the server runs
/// (`proto/aimass/v1/access.proto`). The core checks who may do what; its errors reach the caller as their gRPC
/// statuses (``RegistryError`` is ``RPCErrorConvertible``).
public struct AccessService: RPCService {
    /// The gRPC service name.
    public static let serviceName = AccessMethods.serviceName

    let registry: ModelRegistry

    public init(registry: ModelRegistry) {
        self.registry = registry
    }

    public func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(AccessMethods.createUser) { (request: CreateUserRequest, context) in
            try self.createUser(request, context: context)
        }
        router.registerUnary(AccessMethods.listUsers) { (_: ListUsersRequest, context) in
            try self.listUsers(context: context)
        }
        router.registerUnary(AccessMethods.createToken) { (request: CreateTokenRequest, context) in
            try self.createToken(request, context: context)
        }
        router.registerUnary(AccessMethods.listTokens) { (request: ListTokensRequest, context) in
            try self.listTokens(request, context: context)
        }
        router.registerUnary(AccessMethods.revokeToken) { (request: RevokeTokenRequest, context) in
            try self.revokeToken(request, context: context)
        }
        router.registerUnary(AccessMethods.listAuditEvents) { (request: ListAuditEventsRequest, context) in
            try self.listAuditEvents(request, context: context)
        }
        router.registerUnary(AccessMethods.whoAmI) { (request: WhoAmIRequest, context) in
            try self.whoAmI(request, context: context)
        }
    }

    func createUser(_ request: CreateUserRequest, context: ServerContext) throws -> AIMassAPI.User {
        let principal = try registry.principal(for: context)
        return AccessConversions.apiUser(try registry.createUser(request.name, isAdmin: request.admin, by: principal))
    }

    func listUsers(context: ServerContext) throws -> ListUsersResponse {
        let principal = try registry.principal(for: context)
        let users = try registry.listUsers(by: principal)
        return ListUsersResponse(users: users.map(AccessConversions.apiUser))
    }

    func createToken(_ request: CreateTokenRequest, context: ServerContext) throws -> CreateTokenResponse {
        let principal = try registry.principal(for: context)
        guard request.ttlMs >= 0 else {
            throw RPCError(code: .invalidArgument, message: "ttl_ms must be 0 (never expires) or positive")
        }
        let scope = try AccessConversions.domainScope(request.scope)
        let user = request.user.isEmpty ? principal.userName : request.user
        let expiresAt = request.ttlMs == 0 ? nil : Date(timeIntervalSinceNow: Double(request.ttlMs) / 1000)
        let issued = try registry.createToken(
            for: user, label: request.label, expiresAt: expiresAt, scope: scope,
            requestsPerSecond: request.requestsPerSecond, by: principal)
        let token = try registry.token(id: issued.id, by: principal)
        return CreateTokenResponse(token: AccessConversions.apiToken(token), secret: issued.token)
    }

    func listTokens(_ request: ListTokensRequest, context: ServerContext) throws -> ListTokensResponse {
        let principal = try registry.principal(for: context)
        // No user named: everyone's for an admin, the caller's own for anyone else.
        let user = request.user.isEmpty ? (principal.isAdmin ? nil : principal.userName) : request.user
        let tokens = try registry.listTokens(for: user, by: principal)
        return ListTokensResponse(tokens: tokens.map(AccessConversions.apiToken))
    }

    func revokeToken(_ request: RevokeTokenRequest, context: ServerContext) throws -> Token {
        let principal = try registry.principal(for: context)
        try registry.revokeToken(id: request.id, by: principal)
        return AccessConversions.apiToken(try registry.token(id: request.id, by: principal))
    }

    func listAuditEvents(_ request: ListAuditEventsRequest, context: ServerContext) throws -> ListAuditEventsResponse {
        let principal = try registry.principal(for: context)
        let filter = AuditFilter(
            user: request.user.isEmpty ? nil : request.user, method: request.method.isEmpty ? nil : request.method,
            afterID: request.afterId, limit: request.pageSize == 0 ? 100 : Int(request.pageSize))
        let events = try registry.listAuditEvents(filter, by: principal)
        return ListAuditEventsResponse(events: events.map(AccessConversions.apiEvent))
    }

    func whoAmI(_ request: WhoAmIRequest, context: ServerContext) throws -> WhoAmIResponse {
        let principal = try registry.principal(for: context)
        guard request.models.count <= 1000 else {
            throw RPCError(code: .invalidArgument, message: "at most 1000 models (got \(request.models.count))")
        }
        let user = try registry.getUser(principal.userName, by: principal)
        var token: TokenInfo?
        if let id = principal.tokenID { token = try registry.token(id: id, by: principal) }
        var roles: [ModelRole] = []
        for model in request.models {
            let role: DomainRole?
            do {
                role = try registry.role(of: principal, model: model)
            } catch {
                guard error.code == .notFound else { throw error }
                role = nil  // like a model the caller cannot read: existence is not revealed
            }
            roles.append(ModelRole(model: model, role: role.map(RegistryConversions.apiRole) ?? .none))
        }
        return WhoAmIResponse(
            user: AccessConversions.apiUser(user), admin: principal.isAdmin, token: token.map(AccessConversions.apiToken),
            roles: roles, mayCreateModels: principal.scope.allowsCreatingModels)
    }
}
