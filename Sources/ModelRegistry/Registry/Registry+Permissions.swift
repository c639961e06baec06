extension ModelRegistry {
    /// Grants a role on a model to a user or group, replacing any role it had; `role: nil` removes it.
    /// Needs ``Role/owner`` (or admin).
    ///
    /// A model always keeps at least one owner: removing or downgrading the last owning grant fails.
    /// - Throws: `notFound` for an unknown model, user or group; `permissionDenied`; `failedPrecondition` if the
    ///   model would be left without an owner.
    public func setPermission(
        model: String,
        grantee: Grantee,
        role: Role?,
        by principal: Principal
    ) throws(RegistryError) {
        try Validate.modelName(model)
        try Self.validate(grantee)
        try self.withDatabase { (database) throws(RegistryError) in
            let ref = try database.authorize(principal, model: model, required: .owner, to: "change its permissions")
            let (column, id) = try Self.resolve(database, grantee)
            try database.transaction { () throws(RegistryError) in
                try database.execute("DELETE FROM permissions WHERE model_id = ? AND \(column) = ?", ref.id, id)
                if let role {
                    try database.execute(
                        """
                        INSERT INTO permissions (model_id, \(column), role, granted_at, granted_by)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                        ref.id,
                        id,
                        role.rawValue,
                        Timestamp.now(),
                        principal.userName
                    )
                }
                let owners = try database.queryOne(
                    "SELECT COUNT(*) FROM permissions WHERE model_id = ? AND role = ?",
                    ref.id,
                    Role.owner.rawValue
                )?.int(0) ?? 0
                guard owners > 0 else {
                    throw .failedPrecondition("model '\(ref.name)' must keep at least one owner")
                }
            }
        }
    }

    /// The grants on a model, users first then groups, each sorted by name. Needs ``Role/reader``: whoever can use a
    /// model may see who else can (and whom to ask for access); changing grants needs ``Role/owner``.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func getPermissions(model: String, by principal: Principal) throws(RegistryError) -> [Permission] {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> [Permission] in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its permissions")
            return try database.query(
                """
                SELECT u.name, g.name, p.role, p.granted_at, p.granted_by FROM permissions p
                LEFT JOIN users u ON u.id = p.user_id
                LEFT JOIN groups g ON g.id = p.group_id
                WHERE p.model_id = ?
                ORDER BY p.group_id IS NOT NULL, COALESCE(u.name, g.name)
                """,
                ref.id
            ).compactMap { row in
                guard let role = Role(rawValue: row.int(2)) else { return nil }
                let grantee: Grantee =
                    if let user = row.optionalString(0) { .user(user) } else { .group(row.string(1)) }
                return Permission(
                    model: ref.name,
                    grantee: grantee,
                    role: role,
                    grantedAt: Timestamp.date(row.int64(3)),
                    grantedBy: row.string(4)
                )
            }
        }
    }

    /// Checks that a principal has at least `required` on a model (admins always do).
    ///
    /// For the service layer, to authorise an operation before starting work (e.g. before reading a stream), and
    /// for inference calls. Answers are cached (``Configuration/AccessCaching``); a grant changed through the
    /// registry applies to the very next call.
    /// - Throws: `notFound` if the model does not exist; `permissionDenied` naming the role needed and the role
    ///   held; `unauthenticated` if the user no longer exists.
    public func checkRole(_ principal: Principal, model: String, required: Role) throws(RegistryError) {
        try Validate.modelName(model)
        _ = try self.cachedAnswer(.role(required), model: model, by: principal) {
            (database) throws(RegistryError) -> AccessCache.Answer in
            _ = try database.authorize(principal, model: model, required: required, to: "do this")
            return .allowed
        }
    }

    /// The principal's effective role on a model: ``Role/owner`` for admins, the highest of the user's and their
    /// groups' grants otherwise, `nil` for none.
    ///
    /// - Throws: `notFound` if the model does not exist.
    public func role(of principal: Principal, model: String) throws(RegistryError) -> Role? {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> Role? in
            try database.effectiveRole(principal, model: try database.modelRef(named: model))
        }
    }

    private static func validate(_ grantee: Grantee) throws(RegistryError) {
        switch grantee {
        case .user(let name): try Validate.principalName(name, kind: "user")
        case .group(let name): try Validate.principalName(name, kind: "group")
        }
    }

    /// The permissions column and row id of a grantee.
    private static func resolve(
        _ database: Database,
        _ grantee: Grantee
    ) throws(RegistryError) -> (column: String, id: Int64) {
        switch grantee {
        case .user(let name): ("user_id", try self.userID(database, name: name))
        case .group(let name): ("group_id", try self.groupID(database, name: name))
        }
    }
}
