import AIMassAPI
import Hummingbird
import RPCCore

/// `/api/models…`: the ModelRegistry calls the console makes (uploads are in ``UploadRoute``).
enum RegistryRoutes {
    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        let methods = ModelRegistryMethods.self
        // Models: search by name prefix, tag and author; paged.
        router.get("/api/models") { request, _ in
            await answering(g.logger) {
                let message = ListModelsRequest(
                    pageSize: try request.queryInteger("page_size"), pageToken: request.query("page_token"),
                    tag: request.query("tag"), author: request.query("author"), namePrefix: request.query("name"))
                return try await g.unary(methods.listModels, message, for: request) { (r: ListModelsResponse) in
                    ["models": r.models.map(JSONForms.model), "next_page_token": r.nextPageToken] as [String: Any]
                }
            }
        }
        router.post("/api/models") { request, _ in
            await answering(g.logger) {
                let body = try await request.json()
                let model = AIMassAPI.Model(
                    name: try body.string("name"), description: try body.string("description"),
                    tags: try body.strings("tags"), dependencies: try body.strings("dependencies"),
                    intendedUse: try body.string("intended_use"), annotations: try body.stringMap("annotations"),
                    manifest: try body.stringMap("manifest"))
                return try await g.unary(methods.createModel, CreateModelRequest(model: model), for: request, status: .created, render: JSONForms.model)
            }
        }
        router.get("/api/models/:model") { request, context in
            await answering(g.logger) {
                try await g.unary(methods.getModel, GetModelRequest(name: try context.path("model")), for: request, render: JSONForms.model)
            }
        }
        router.get("/api/models/:model/versions") { request, context in
            await answering(g.logger) {
                let message = ListVersionsRequest(
                    model: try context.path("model"), pageSize: try request.queryInteger("page_size"),
                    pageToken: request.query("page_token"))
                return try await g.unary(methods.listVersions, message, for: request) { (r: ListVersionsResponse) in
                    ["versions": r.versions.map(JSONForms.version), "next_page_token": r.nextPageToken] as [String: Any]
                }
            }
        }
        router.get("/api/models/:model/versions/:version") { request, context in
            await answering(g.logger) {
                let message = GetVersionRequest(
                    model: try context.path("model"), version: versionSelector(try context.path("version")))
                return try await g.unary(methods.getVersion, message, for: request, render: JSONForms.version)
            }
        }
        router.get("/api/models/:model/diff") { request, context in
            await answering(g.logger) {
                let message = DiffVersionsRequest(
                    model: try context.path("model"), oldVersion: versionSelector(request.query("old")),
                    newVersion: versionSelector(request.query("new")))
                return try await g.unary(methods.diffVersions, message, for: request, render: JSONForms.diff)
            }
        }
        router.get("/api/models/:model/aliases") { request, context in
            await answering(g.logger) {
                let message = ListAliasHistoryRequest(
                    model: try context.path("model"), alias: request.query("alias"),
                    pageSize: try request.queryInteger("page_size"), pageToken: request.query("page_token"))
                return try await g.unary(methods.listAliasHistory, message, for: request) { (r: ListAliasHistoryResponse) in
                    ["changes": r.changes.map(JSONForms.aliasChange), "next_page_token": r.nextPageToken] as [String: Any]
                }
            }
        }
        // Sets, moves (or with version 0 deletes) an alias: {"version": 3, "reason": "..."}.
        router.put("/api/models/:model/aliases/:alias") { request, context in
            await answering(g.logger) {
                let body = try await request.json()
                let message = SetAliasRequest(
                    model: try context.path("model"), alias: try context.path("alias"),
                    version: try body.integer("version"), reason: try body.string("reason"))
                return try await g.unary(methods.setAlias, message, for: request) { (r: SetAliasResponse) in
                    r.change.map(JSONForms.aliasChange) ?? [:]
                }
            }
        }
        router.get("/api/models/:model/permissions") { request, context in
            await answering(g.logger) {
                try await g.unary(
                    methods.getPermissions, GetPermissionsRequest(model: try context.path("model")), for: request,
                    render: JSONForms.permissions)
            }
        }
        // Grants a role: {"principal": "user:ana", "role": "READER"} (NONE removes the grant).
        router.put("/api/models/:model/permissions") { request, context in
            await answering(g.logger) {
                let body = try await request.json()
                let roleName = try body.string("role").uppercased()
                guard let role = Role.allCases.first(where: { $0 != .unspecified && JSONForms.enumName($0) == roleName }) else {
                    throw RPCError(code: .invalidArgument, message: "field 'role' must be NONE, READER, WRITER or OWNER, got '\(roleName)'")
                }
                let message = SetPermissionRequest(
                    model: try context.path("model"), principal: try body.string("principal"), role: role)
                return try await g.unary(methods.setPermission, message, for: request, render: JSONForms.permissions)
            }
        }
    }
}
