extension ModelRegistry {
    /// Issues a new API token for a user. Needs admin, or to be that user.
    ///
    /// The plaintext is returned once, in ``IssuedToken/token``; only its SHA-256 is stored.
    /// - Parameters:
    ///   - user: Who the token authenticates as.
    ///   - label: A note for listings (where the token is used), at most 256 characters.
    /// - Throws: `notFound`, `permissionDenied`, `invalidArgument` for a bad label.
    public func createToken(
        for user: String,
        label: String = "",
        by principal: Principal
    ) throws(RegistryError) -> IssuedToken {
        try Validate.principalName(user, kind: "user")
        try Validate.text(label, field: "token label", limit: Validate.maxKey)
        let token = try Tokens.generate()
        let hash = try Tokens.hash(token)
        return try self.withDatabase { (database) throws(RegistryError) -> IssuedToken in
            if user != principal.userName { try database.requireAdmin(principal, to: "create tokens for other users") }
            let userID = try Self.userID(database, name: user)
            try database.execute(
                "INSERT INTO tokens (user_id, hash, label, created_at) VALUES (?, ?, ?, ?)",
                userID,
                hash,
                label,
                Timestamp.now()
            )
            return IssuedToken(id: database.lastInsertRowID, user: user, token: token)
        }
    }

    /// Lists a user's tokens (never their plaintext), oldest first. Needs admin, or to be that user.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func listTokens(for user: String, by principal: Principal) throws(RegistryError) -> [TokenInfo] {
        try Validate.principalName(user, kind: "user")
        return try self.withDatabase { (database) throws(RegistryError) -> [TokenInfo] in
            if user != principal.userName { try database.requireAdmin(principal, to: "list other users' tokens") }
            let userID = try Self.userID(database, name: user)
            return try database.query(
                "SELECT id, label, created_at, revoked_at FROM tokens WHERE user_id = ? ORDER BY id",
                userID
            ).map {
                TokenInfo(
                    id: $0.int64(0),
                    user: user,
                    label: $0.string(1),
                    createdAt: Timestamp.date($0.int64(2)),
                    revokedAt: Timestamp.optionalDate($0.optionalInt64(3))
                )
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
