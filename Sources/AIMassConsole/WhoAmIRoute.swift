import AIMassAPI
import Hummingbird
import RPCCore

/// `GET /api/whoami[?models=a,b]`: who the caller's token is and what it may do on some models, so the page shows
/// only the controls that can work (the server still decides every call).
///
/// The API has no "who am I" call, so the answer is assembled from the Access service and the registry with the
/// caller's own token: `ListUsers` succeeds only for an admin; a non-admin's `ListTokens` lists only their own
/// tokens, which name the user; a model's role comes from its `GetPermissions` (readable by any reader). A user's
/// groups are not readable by the user, so when a group holds a higher role on a model than the user's own grant the
/// role is `UNKNOWN` (the page then shows the controls and lets the server answer). A scoped token's role ceiling is
/// not known either (a user may hold several tokens): such a token may see a control the server then refuses.
///
/// Answer: `{"user": "ana", "admin": false, "roles": {"movies": "READER"}}`; roles are `OWNER`, `WRITER`, `READER`,
/// `NONE` (not readable, or no such model) or `UNKNOWN`; an admin has `OWNER` on every model.
enum WhoAmIRoute {
    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        router.get("/api/whoami") { request, _ in
            await answering(g.logger) {
                let options = g.options(for: request)
                // First: a bad token is a 401 here, whatever follows.
                let tokens: ListTokensResponse = try await g.client.unary(
                    AccessMethods.listTokens, request: ListTokensRequest(), options: options)
                let users: ListUsersResponse?
                do {
                    users = try await g.client.unary(AccessMethods.listUsers, request: ListUsersRequest(), options: options)
                } catch let error as RPCError where error.code == .permissionDenied {
                    users = nil
                }
                let admin = users != nil
                let user = name(admin: admin, tokens: tokens.tokens, users: users?.users ?? [])
                var roles: [String: String] = [:]
                for model in request.query("models").split(separator: ",").map(String.init) where !model.isEmpty {
                    if admin {
                        roles[model] = JSONForms.enumName(Role.owner)
                        continue
                    }
                    do {
                        let grants: PermissionsResponse = try await g.client.unary(
                            ModelRegistryMethods.getPermissions, request: GetPermissionsRequest(model: model), options: options)
                        roles[model] = role(of: user, in: grants.permissions)
                    } catch let error as RPCError where [.notFound, .permissionDenied, .invalidArgument].contains(error.code) {
                        roles[model] = JSONForms.enumName(Role.none)
                    }
                }
                return JSONResponse.make(["user": user, "admin": admin, "roles": roles] as [String: Any])
            }
        }
    }

    /// The caller's name: a non-admin's tokens are all theirs; an admin's listing holds everyone's, so the name is
    /// known only when there is one admin user (`""` otherwise).
    static func name(admin: Bool, tokens: [AIMassAPI.Token], users: [AIMassAPI.User]) -> String {
        if !admin { return tokens.first?.user ?? "" }
        let admins = users.filter(\.admin)
        return admins.count == 1 ? admins[0].name : ""
    }

    /// The role of `user` (not an admin) on a model with these grants: their own grant, or `UNKNOWN` when a group
    /// holds more (the user may or may not be in it).
    static func role(of user: String, in grants: [Permission]) -> String {
        let own = grants.first { $0.principal == "user:\(user)" }?.role ?? .none
        let groups = grants.filter { $0.principal.hasPrefix("group:") }.map(\.role.rawValue).max() ?? Role.none.rawValue
        return groups > own.rawValue ? "UNKNOWN" : JSONForms.enumName(own)
    }
}
