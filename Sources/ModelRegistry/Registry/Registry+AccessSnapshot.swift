/// Everything an inference call's authorization needs, read in one go: valid tokens (by SHA-256), who may read
/// each model, and where its aliases point. The control plane sends it to its workers (`AccessGrants` on the Join
/// stream) so that they authorize calls on their own.
public struct AccessSnapshot: Sendable, Hashable {
    /// A valid token.
    public struct Token: Sendable, Hashable {
        /// SHA-256 of the token, lowercase hex (what the registry stores; never the token).
        public var sha256: String
        /// The user it authenticates as.
        public var user: String
        /// Whether the token acts as a global admin: its user is one and the token is unscoped.
        public var isAdmin: Bool
        /// When it stops working, milliseconds since 1970; `nil` = never.
        public var expiresAtMs: Int64?
        /// The models it is scoped to; empty = every model its user may read.
        public var models: [String]
        /// The token's id (what error messages and the audit log name; never the token).
        public var id: Int64
        /// The calls per second it may make; 0 = no limit.
        public var requestsPerSecond: UInt32
    }

    /// A model as inference needs it.
    public struct ModelAccess: Sendable, Hashable {
        /// The model's name.
        public var name: String
        /// Users holding at least ``Role/reader`` on it, directly or through a group, sorted (admins not listed).
        public var readers: [String]
        /// Alias → version number.
        public var aliases: [String: Int]
        /// The highest version number; 0 without versions.
        public var latestVersion: Int
        /// The aliases with an A/B split, by alias name.
        public var splits: [AliasSplit] = []
    }

    /// Valid (not revoked) tokens, sorted by hash.
    public var tokens: [Token]
    /// Every model, sorted by name.
    public var models: [ModelAccess]
}

extension ModelRegistry {
    /// A counter that changes with every write through the registry (tokens, grants, aliases, versions…): compare it
    /// to decide whether a new ``accessSnapshot()`` is worth reading. Reading it takes no lock.
    public var dataGeneration: UInt64 { self.accessCache.generation }

    /// The access rules of the whole registry now (see ``AccessSnapshot``). For the control plane only: it holds
    /// token hashes.
    ///
    /// - Throws: ``RegistryError`` `failedPrecondition` when closed, or the SQLite error.
    public func accessSnapshot() throws(RegistryError) -> AccessSnapshot {
        try self.withDatabase { (database) throws(RegistryError) -> AccessSnapshot in
            let tokens = try database.query(
                """
                SELECT t.hash, u.name, u.is_admin, t.expires_at, t.role_ceiling, t.models, t.id, t.requests_per_second
                FROM tokens t
                JOIN users u ON u.id = t.user_id
                WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) ORDER BY t.hash
                """,
                Timestamp.now()
            ).map { (row) throws(RegistryError) -> AccessSnapshot.Token in
                let scope = try Database.decodeScope(ceiling: row.optionalInt64(4), models: row.string(5))
                return AccessSnapshot.Token(
                    sha256: row.string(0), user: row.string(1), isAdmin: row.bool(2) && scope.isUnrestricted,
                    expiresAtMs: row.optionalInt64(3), models: scope.models, id: row.int64(6),
                    requestsPerSecond: UInt32(clamping: row.int64(7)))
            }
            var readers: [Int64: Set<String>] = [:]
            let granted = try database.query(
                """
                SELECT p.model_id, u.name FROM permissions p JOIN users u ON u.id = p.user_id WHERE p.role >= ?1
                UNION
                SELECT p.model_id, u.name FROM permissions p
                JOIN group_members m ON m.group_id = p.group_id JOIN users u ON u.id = m.user_id WHERE p.role >= ?1
                """,
                Role.reader.rawValue
            )
            for row in granted { readers[row.int64(0), default: []].insert(row.string(1)) }
            var aliases: [Int64: [String: Int]] = [:]
            var splits: [Int64: [AliasSplit]] = [:]
            for row in try database.query(
                "SELECT model_id, name, version, challenger_version, challenger_percent FROM aliases ORDER BY name")
            {
                aliases[row.int64(0), default: [:]][row.string(1)] = row.int(2)
                if row.int(4) > 0 {
                    splits[row.int64(0), default: []].append(
                        AliasSplit(alias: row.string(1), version: row.int(2), challengerVersion: row.int(3), percent: row.int(4)))
                }
            }
            var latest: [Int64: Int] = [:]
            for row in try database.query("SELECT model_id, MAX(number) FROM versions GROUP BY model_id") {
                latest[row.int64(0)] = row.int(1)
            }
            let models = try database.query("SELECT id, name FROM models ORDER BY name").map { row in
                let id = row.int64(0)
                return AccessSnapshot.ModelAccess(
                    name: row.string(1), readers: (readers[id] ?? []).sorted(), aliases: aliases[id] ?? [:],
                    latestVersion: latest[id] ?? 0, splits: splits[id] ?? []
                )
            }
            return AccessSnapshot(tokens: tokens, models: models)
        }
    }
}
