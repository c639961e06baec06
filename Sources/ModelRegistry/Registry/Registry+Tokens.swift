public import FoundationEssentials

extension ModelRegistry {
    /// Issues a new API token for a user. Needs admin, or to be that user.
    ///
    /// The plaintext is returned once, in ``IssuedToken/token``; only its SHA-256 is stored.
    /// - Parameters:
    ///   - user: Who the token authenticates as.
    ///   - label: A note for listings (where the token is used), at most 256 characters.
    ///   - expiresAt: When it stops working; `nil` for never. Must be in the future.
    ///   - scope: What it is limited to (a role ceiling, a set of models); by default what its user may do.
    ///   - requestsPerSecond: The calls per second it may make (``admitRequest(of:)``); 0 = no limit.
    /// - Throws: `notFound`, `permissionDenied`, `invalidArgument` for a bad label, model name or expiry.
    public func createToken(
        for user: String,
        label: String = "",
        expiresAt: Date? = nil,
        scope: TokenScope = .unrestricted,
        requestsPerSecond: UInt32 = 0,
        by principal: Principal
    ) throws(RegistryError) -> IssuedToken {
        try Validate.principalName(user, kind: "user")
        try Validate.text(label, field: "token label", limit: Validate.maxKey)
        for model in scope.models { try Validate.modelName(model) }
        if let expiresAt, expiresAt <= Date() {
            throw .invalidArgument("a token's expiry must be in the future (got \(expiresAt))")
        }
        let token = try Tokens.generate()
        let hash = try Tokens.hash(token)
        let models = try Codec.json(scope.models)
        return try self.withDatabase { (database) throws(RegistryError) -> IssuedToken in
            if user != principal.userName { try database.requireAdmin(principal, to: "create tokens for other users") }
            // A token never widens what its creator's own token allows.
            if !principal.scope.isUnrestricted {
                throw .permissionDenied("a scoped token cannot create tokens; use an unscoped one")
            }
            let userID = try Self.userID(database, name: user)
            try database.execute(
                """
                INSERT INTO tokens (user_id, hash, label, created_at, expires_at, role_ceiling, models,
                                    requests_per_second)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                userID,
                hash,
                label,
                Timestamp.now(),
                expiresAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) },
                scope.roleCeiling.map { Int64($0.rawValue) },
                models,
                Int64(requestsPerSecond)
            )
            return IssuedToken(id: database.lastInsertRowID, user: user, token: token)
        }
    }

    /// Lists tokens (never their plaintext), oldest first: a user's, or with `user` nil every user's. Needs admin,
    /// or to be that user.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func listTokens(for user: String?, by principal: Principal) throws(RegistryError) -> [TokenInfo] {
        if let user { try Validate.principalName(user, kind: "user") }
        try self.persistTokenUses()
        return try self.withDatabase { (database) throws(RegistryError) -> [TokenInfo] in
            if user != principal.userName { try database.requireAdmin(principal, to: "list other users' tokens") }
            let userID = try user.map { (name) throws(RegistryError) in try Self.userID(database, name: name) }
            return try database.query(
                """
                SELECT t.id, u.name, t.label, t.created_at, t.revoked_at, t.expires_at, t.role_ceiling, t.models,
                       t.last_used_at, t.requests_per_second
                FROM tokens t JOIN users u ON u.id = t.user_id
                WHERE ?1 IS NULL OR t.user_id = ?1 ORDER BY t.id
                """,
                userID
            ).map { (row) throws(RegistryError) in
                TokenInfo(
                    id: row.int64(0),
                    user: row.string(1),
                    label: row.string(2),
                    createdAt: Timestamp.date(row.int64(3)),
                    revokedAt: Timestamp.optionalDate(row.optionalInt64(4)),
                    expiresAt: Timestamp.optionalDate(row.optionalInt64(5)),
                    scope: try Database.decodeScope(ceiling: row.optionalInt64(6), models: row.string(7)),
                    lastUsedAt: Timestamp.optionalDate(row.optionalInt64(8)),
                    requestsPerSecond: UInt32(clamping: row.int64(9))
                )
            }
        }
    }

    /// One token (never its plaintext). Needs admin, or to own it.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func token(id: Int64, by principal: Principal) throws(RegistryError) -> TokenInfo {
        let owner = try self.withDatabase { (database) throws(RegistryError) -> String in
            guard
                let row = try database.queryOne(
                    "SELECT u.name FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?", id)
            else { throw .notFound("token \(id) does not exist") }
            return row.string(0)
        }
        guard let token = try self.listTokens(for: owner, by: principal).first(where: { $0.id == id }) else {
            throw .notFound("token \(id) does not exist")
        }
        return token
    }

    /// Writes the token uses noted in memory to `tokens.last_used_at` (``listTokens(for:by:)`` and ``close()`` do).
    public func persistTokenUses() throws(RegistryError) {
        let uses = self.tokenUses.take()
        guard !uses.isEmpty else { return }
        // Not replicated: each control plane keeps its own record of last uses (see docs/operations.md).
        try self.withDatabase(invalidatingCaches: false, replicated: false) { (database) throws(RegistryError) in
            try database.transaction { () throws(RegistryError) in
                for (tokenID, at) in uses {
                    try database.execute(
                        "UPDATE tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?", at, tokenID)
                }
            }
        }
    }

    /// Revokes a token given its plaintext; later ``authenticate(token:)`` calls with it fail. Needs admin, or to
    /// own the token. Revoking a revoked token is not an error.
    ///
    /// - Throws: `notFound` for an unknown token, `permissionDenied`.
    public func revokeToken(_ token: String, by principal: Principal) throws(RegistryError) {
        let hash = try Tokens.hash(token)
        try self.withDatabase { (database) throws(RegistryError) in
            guard let row = try database.queryOne("SELECT id FROM tokens WHERE hash = ?", hash) else {
                throw .notFound("no such token")
            }
            try Self.revoke(database, tokenID: row.int64(0), by: principal)
        }
    }

    /// Revokes a token by its id (from ``IssuedToken/id`` or ``listTokens(for:by:)``). Needs admin, or to own it.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func revokeToken(id: Int64, by principal: Principal) throws(RegistryError) {
        try self.withDatabase { (database) throws(RegistryError) in
            try Self.revoke(database, tokenID: id, by: principal)
        }
    }

    private static func revoke(_ database: Database, tokenID: Int64, by principal: Principal) throws(RegistryError) {
        guard let row = try database.queryOne("SELECT user_id FROM tokens WHERE id = ?", tokenID) else {
            throw .notFound("token \(tokenID) does not exist")
        }
        if row.int64(0) != principal.userID {
            try database.requireAdmin(principal, to: "revoke other users' tokens")
        }
        try database.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            Timestamp.now(),
            tokenID
        )
    }
}
