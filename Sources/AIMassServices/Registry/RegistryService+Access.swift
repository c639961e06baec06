import AIMassAPI
import MeshCore
import ModelRegistry
import RPCCore

extension RegistryService {
    func registerAccessMethods(with router: inout RPCRouter) {
        router.registerUnary(ModelRegistryMethods.setAlias) { (request: SetAliasRequest, context) in
            try self.setAlias(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.setAliasSplit) { (request: SetAliasSplitRequest, context) in
            try self.setAliasSplit(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.listAliasHistory) { (request: ListAliasHistoryRequest, context) in
            try self.listAliasHistory(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.setPermission) { (request: SetPermissionRequest, context) in
            try self.setPermission(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.getPermissions) { (request: GetPermissionsRequest, context) in
            try self.getPermissions(request, context: context)
        }
    }

    /// Creates, moves or (version 0) deletes an alias; the request's reason is stored with the move. With
    /// `require_metric` the move must be earned (champion/challenger).
    func setAlias(_ request: SetAliasRequest, context: ServerContext) throws -> SetAliasResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        try Self.validateAlias(request.alias)
        if !request.requireMetric.isEmpty && request.version == 0 {
            throw RPCError(code: .invalidArgument, message: "require_metric needs a version to promote, not 0 (delete)")
        }
        let promotion =
            request.requireMetric.isEmpty
            ? nil : ModelRegistry.Promotion(metric: request.requireMetric, margin: request.margin)
        let response = try hidingUnreadable(request.model, principal) {
            let move =
                request.version == 0
                ? try self.registry.deleteAlias(
                    model: request.model,
                    alias: request.alias,
                    reason: request.reason,
                    by: principal
                )
                : try self.registry.setAlias(
                    model: request.model,
                    alias: request.alias,
                    version: .number(Int(request.version)),
                    reason: request.reason,
                    promotion: promotion,
                    by: principal
                )
            return SetAliasResponse(change: RegistryConversions.aliasChange(move))
        }
        onAliasMoved?(request.model, request.alias, request.version)
        if let change = response.change { onMeshEvent?(MeshCore.MeshEvent.Payload.aliasMoved(MeshCore.AliasChange(change))) }
        return response
    }

    /// Starts, changes or ends an alias's A/B split.
    func setAliasSplit(_ request: SetAliasSplitRequest, context: ServerContext) throws -> SetAliasSplitResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        try Self.validateAlias(request.alias)
        return try hidingUnreadable(request.model, principal) {
            let split = try self.registry.setAliasSplit(
                model: request.model, alias: request.alias, challenger: Int(request.challengerVersion),
                percent: Int(request.percent), by: principal)
            return SetAliasSplitResponse(split: split.map(RegistryConversions.aliasSplit) ?? AliasSplit(alias: request.alias))
        }
    }

    /// Alias moves, newest first, paged. The token is the number of (oldest) moves still to list: history is
    /// append-only, so positions from the oldest end are stable.
    func listAliasHistory(_ request: ListAliasHistoryRequest, context: ServerContext) throws -> ListAliasHistoryResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        return try hidingUnreadable(request.model, principal) {
            let all = try self.registry.aliasHistory(
                model: request.model,
                alias: request.alias.isEmpty ? nil : request.alias,
                by: principal
            )
            let end = try RegistryConversions.pagePosition(request.pageToken, kind: "h", limit: all.count) ?? all.count
            let start = max(0, end - RegistryConversions.pageSize(request.pageSize))
            return ListAliasHistoryResponse(
                changes: all[start..<end].reversed().map { RegistryConversions.aliasChange($0) },
                nextPageToken: start > 0 ? RegistryConversions.pageToken(kind: "h", position: start) : ""
            )
        }
    }

    func setPermission(_ request: SetPermissionRequest, context: ServerContext) throws -> PermissionsResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        let grantee = try RegistryConversions.grantee(request.principal)
        let role = try RegistryConversions.domainRole(request.role, model: request.model)
        return try hidingUnreadable(request.model, principal) {
            try self.registry.setPermission(model: request.model, grantee: grantee, role: role, by: principal)
            return try self.permissions(request.model, principal: principal)
        }
    }

    /// Every grant on a model; readers may list them (granting needs OWNER).
    func getPermissions(_ request: GetPermissionsRequest, context: ServerContext) throws -> PermissionsResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        return try hidingUnreadable(request.model, principal) {
            try self.permissions(request.model, principal: principal)
        }
    }

    private func permissions(_ model: String, principal: Principal) throws -> PermissionsResponse {
        let grants = try registry.getPermissions(model: model, by: principal)
        return PermissionsResponse(
            model: model,
            permissions: grants.map(RegistryConversions.apiPermission).sorted { $0.principal < $1.principal }
        )
    }

    /// The proto's alias rule: 1–64 characters of `[a-z0-9_-]` starting with a letter; `latest` is reserved.
    static func validateAlias(_ alias: String) throws(RPCError) {
        guard !alias.isEmpty, alias.utf8.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "alias must be 1–64 characters, got \(alias.utf8.count)")
        }
        let bytes = Array(alias.utf8)
        let allowed = bytes.allSatisfy {
            (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D
        }
        guard allowed, (0x61...0x7A).contains(bytes[0]) else {
            throw RPCError(
                code: .invalidArgument,
                message: "alias '\(alias)' must be [a-z0-9_-] starting with a letter"
            )
        }
        guard alias != "latest" else {
            throw RPCError(code: .invalidArgument, message: "'latest' is reserved and cannot be set")
        }
    }
}
