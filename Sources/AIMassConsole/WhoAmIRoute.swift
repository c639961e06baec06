import AIMassAPI
import Hummingbird
import RPCCore

/// `GET /api/whoami[?models=a,b]`: who the caller's token is and what it may do on some models (`Access.WhoAmI`), so
/// the page shows only the controls that can work (the server still decides every call).
///
/// Answer: `{"user": "ana", "admin": false, "groups": ["editors"], "roles": {"movies": "WRITER"},
/// "may_create_models": true}`; roles are
/// `OWNER`, `WRITER`, `READER` or `NONE` (not readable, or no such model), the user's groups and the token's scope
/// applied; an admin has `OWNER` on every model.
enum WhoAmIRoute {
    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        router.get("/api/whoami") { request, _ in
            await answering(g.logger) {
                let models = request.query("models").split(separator: ",").map(String.init).filter { !$0.isEmpty }
                let answer: WhoAmIResponse = try await g.client.unary(
                    AccessMethods.whoAmI, request: WhoAmIRequest(models: models), options: g.options(for: request))
                var roles: [String: String] = [:]
                for entry in answer.roles { roles[entry.model] = JSONForms.enumName(entry.role) }
                return JSONResponse.make(
                    [
                        "user": answer.user?.name ?? "", "admin": answer.admin, "groups": answer.user?.groups ?? [],
                        "roles": roles, "may_create_models": answer.mayCreateModels,
                    ] as [String: Any])
            }
        }
    }
}
