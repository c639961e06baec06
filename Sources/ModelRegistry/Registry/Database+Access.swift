/// Role resolution on the connection. Roles are read from the database on every check, so grants, revocations and
/// group changes apply to the very next call.
extension Database {
    /// Whether the principal's user still exists and is an admin (through an unscoped token: a scoped one never
    /// acts as an admin); `unauthenticated` if the user is gone.
    func isAdmin(_ principal: Principal) throws(RegistryError) -> Bool {
        try self.userIsAdmin(principal) && principal.scope.isUnrestricted
    }

    /// Whether the principal's user is an admin, whatever the token's scope.
    private func userIsAdmin(_ principal: Principal) throws(RegistryError) -> Bool {
        guard let row = try self.queryOne("SELECT is_admin FROM users WHERE id = ?", principal.userID) else {
            throw .unauthenticated("user '\(principal.userName)' no longer exists")
        }
        return row.bool(0)
    }

    /// The highest role granted to the user directly or through any of their groups; `nil` if none.
    func grantedRole(userID: Int64, modelID: Int64) throws(RegistryError) -> Role? {
        let row = try self.queryOne(
            """
            SELECT MAX(role) FROM permissions
            WHERE model_id = ?1
              AND (user_id = ?2 OR group_id IN (SELECT group_id FROM group_members WHERE user_id = ?2))
            """,
            modelID,
            userID
        )
        return row?.optionalInt64(0).flatMap { Role(rawValue: Int($0)) }
    }

    /// The principal's effective role on a model: owner for admins, else the granted role; either capped by the
    /// token's scope.
    func effectiveRole(_ principal: Principal, model: ModelRef) throws(RegistryError) -> Role? {
        let role = try self.userIsAdmin(principal) ? .owner : try self.grantedRole(userID: principal.userID, modelID: model.id)
        return principal.scope.cap(role, model: model.name)
    }

    /// Looks up a model and checks that the principal has at least `required` on it.
    ///
    /// - Throws: `notFound` if the model does not exist, `permissionDenied` naming the role needed.
    func authorize(
        _ principal: Principal,
        model name: String,
        required: Role,
        to action: String
    ) throws(RegistryError) -> ModelRef {
        let model = try self.modelRef(named: name)
        try self.authorize(principal, model: model, required: required, to: action)
        return model
    }

    func authorize(
        _ principal: Principal,
        model: ModelRef,
        required: Role,
        to action: String
    ) throws(RegistryError) {
        let role = try self.effectiveRole(principal, model: model)
        guard let role, role >= required else {
            throw .permissionDenied(
                "\(principal) needs role \(required) on model '\(model.name)' to \(action)"
                    + " (has \(role.map(\.description) ?? "no role"))"
            )
        }
    }

    /// Checks that the principal is a global admin.
    func requireAdmin(_ principal: Principal, to action: String) throws(RegistryError) {
        guard try self.isAdmin(principal) else {
            throw .permissionDenied("\(principal) needs to be an admin to \(action)")
        }
    }

    /// Checks that the principal's user still exists (any authenticated user may do the action).
    func requireUser(_ principal: Principal) throws(RegistryError) {
        _ = try self.isAdmin(principal)
    }
}

extension Database {
    /// A token's scope from its columns.
    static func decodeScope(ceiling: Int64?, models: String) throws(RegistryError) -> TokenScope {
        TokenScope(
            roleCeiling: ceiling.flatMap { Role(rawValue: Int($0)) },
            models: try Codec.decode([String].self, from: models, column: "tokens.models"))
    }
}
