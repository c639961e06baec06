internal import FoundationEssentials

extension ModelRegistry {
    /// Resolves an API token to its user.
    ///
    /// Answers are cached by the token's SHA-256 (``Configuration/AccessCaching``); creating or revoking a token,
    /// or any other write through the registry, applies to the very next call. Unknown tokens are not cached.
    /// - Throws: `unauthenticated` if the token is unknown or revoked (the message does not say which).
    public func authenticate(token: String) throws(RegistryError) -> Principal {
        guard !token.isEmpty, token.utf8.count <= 512 else { throw .unauthenticated("invalid or revoked token") }
        let principal = try self.cachedPrincipal(token: token) { (database) throws(RegistryError) -> Principal in
            let hash = try Tokens.hash(token)
            guard
                let row = try database.queryOne(
                    """
                    SELECT u.id, u.name, u.is_admin, t.id, t.expires_at, t.role_ceiling, t.models,
                           t.requests_per_second
                    FROM tokens t JOIN users u ON u.id = t.user_id
                    WHERE t.hash = ? AND t.revoked_at IS NULL
                    """,
                    hash
                )
            else {
                throw .unauthenticated("invalid or revoked token")
            }
            return Principal(
                userID: row.int64(0), userName: row.string(1), isAdmin: row.bool(2), tokenID: row.int64(3),
                scope: try Database.decodeScope(ceiling: row.optionalInt64(5), models: row.string(6)),
                expiresAt: Timestamp.optionalDate(row.optionalInt64(4)),
                requestsPerSecond: UInt32(clamping: row.int64(7)))
        }
        // Checked on every call, cached or not: the cache does not know about time passing.
        if let expiresAt = principal.expiresAt, expiresAt <= Date() {
            throw .unauthenticated("token expired at \(expiresAt)")
        }
        if let tokenID = principal.tokenID { self.tokenUses.record(tokenID) }
        return principal
    }

    /// The principal of a user, without a token — for trusted in-process callers only (the scheduler fetching
    /// artifacts, a CLI running as the data directory's owner). Never expose it over the network.
    ///
    /// - Throws: `notFound` if there is no such user.
    public func principal(forUser name: String) throws(RegistryError) -> Principal {
        try Validate.principalName(name, kind: "user")
        return try self.withDatabase { (database) throws(RegistryError) -> Principal in
            guard let row = try database.queryOne("SELECT id, name, is_admin FROM users WHERE name = ?", name) else {
                throw .notFound("user '\(name)' does not exist")
            }
            return Principal(userID: row.int64(0), userName: row.string(1), isAdmin: row.bool(2))
        }
    }

    /// Creates a user. Needs admin.
    ///
    /// - Parameters:
    ///   - name: 1–64 characters of `[A-Za-z0-9._-]`, starting with a letter or digit.
    ///   - isAdmin: Whether the user is a global admin.
    /// - Throws: `invalidArgument`, `alreadyExists`, `permissionDenied`.
    @discardableResult
    public func createUser(_ name: String, isAdmin: Bool = false, by principal: Principal) throws(RegistryError) -> User {
        try Validate.principalName(name, kind: "user")
        return try self.withDatabase { (database) throws(RegistryError) -> User in
            try database.requireAdmin(principal, to: "create users")
            let now = Timestamp.now()
            try database.transaction { () throws(RegistryError) in
                guard try database.queryOne("SELECT 1 FROM users WHERE name = ?", name) == nil else {
                    throw .alreadyExists("user '\(name)' already exists")
                }
                try database.execute(
                    "INSERT INTO users (name, is_admin, created_at) VALUES (?, ?, ?)",
                    name,
                    isAdmin,
                    now
                )
            }
            return try Self.loadUser(database, name: name)
        }
    }

    /// Returns a user with their groups. Needs admin, or to be that user.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func getUser(_ name: String, by principal: Principal) throws(RegistryError) -> User {
        try Validate.principalName(name, kind: "user")
        return try self.withDatabase { (database) throws(RegistryError) -> User in
            if name != principal.userName { try database.requireAdmin(principal, to: "read other users") }
            return try Self.loadUser(database, name: name)
        }
    }

    /// Lists all users, sorted by name. Needs admin.
    public func listUsers(by principal: Principal) throws(RegistryError) -> [User] {
        try self.withDatabase { (database) throws(RegistryError) -> [User] in
            try database.requireAdmin(principal, to: "list users")
            var users: [User] = []
            for row in try database.query("SELECT name FROM users ORDER BY name") {
                users.append(try Self.loadUser(database, name: row.string(0)))
            }
            return users
        }
    }

    /// Grants or withdraws global admin. Needs admin; an admin cannot withdraw their own admin role (so the
    /// registry never loses its last admin by accident).
    ///
    /// - Throws: `notFound`, `permissionDenied`, `failedPrecondition` when withdrawing one's own admin role.
    @discardableResult
    public func setAdmin(_ name: String, isAdmin: Bool, by principal: Principal) throws(RegistryError) -> User {
        try Validate.principalName(name, kind: "user")
        return try self.withDatabase { (database) throws(RegistryError) -> User in
            try database.requireAdmin(principal, to: "change admin rights")
            if !isAdmin, name == principal.userName {
                throw .failedPrecondition("an admin cannot withdraw their own admin role")
            }
            _ = try Self.loadUser(database, name: name)
            try database.execute("UPDATE users SET is_admin = ? WHERE name = ?", isAdmin, name)
            return try Self.loadUser(database, name: name)
        }
    }

    /// Creates a group. Needs admin.
    ///
    /// - Throws: `invalidArgument`, `alreadyExists`, `permissionDenied`.
    @discardableResult
    public func createGroup(_ name: String, by principal: Principal) throws(RegistryError) -> Group {
        try Validate.principalName(name, kind: "group")
        return try self.withDatabase { (database) throws(RegistryError) -> Group in
            try database.requireAdmin(principal, to: "create groups")
            try database.transaction { () throws(RegistryError) in
                guard try database.queryOne("SELECT 1 FROM groups WHERE name = ?", name) == nil else {
                    throw .alreadyExists("group '\(name)' already exists")
                }
                try database.execute("INSERT INTO groups (name, created_at) VALUES (?, ?)", name, Timestamp.now())
            }
            return try Self.loadGroup(database, name: name)
        }
    }

    /// Returns a group with its members. Needs admin, or to be a member.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func getGroup(_ name: String, by principal: Principal) throws(RegistryError) -> Group {
        try Validate.principalName(name, kind: "group")
        return try self.withDatabase { (database) throws(RegistryError) -> Group in
            let group = try Self.loadGroup(database, name: name)
            if !group.members.contains(principal.userName) {
                try database.requireAdmin(principal, to: "read groups they are not in")
            }
            return group
        }
    }

    /// Lists all groups, sorted by name. Needs admin.
    public func listGroups(by principal: Principal) throws(RegistryError) -> [Group] {
        try self.withDatabase { (database) throws(RegistryError) -> [Group] in
            try database.requireAdmin(principal, to: "list groups")
            var groups: [Group] = []
            for row in try database.query("SELECT name FROM groups ORDER BY name") {
                groups.append(try Self.loadGroup(database, name: row.string(0)))
            }
            return groups
        }
    }

    /// Adds a user to a group; roles granted to the group apply to the user from the next call. Needs admin.
    /// Adding a member twice is not an error.
    ///
    /// - Throws: `notFound` for an unknown user or group, `permissionDenied`.
    public func addToGroup(user: String, group: String, by principal: Principal) throws(RegistryError) {
        try Validate.principalName(user, kind: "user")
        try Validate.principalName(group, kind: "group")
        try self.withDatabase { (database) throws(RegistryError) in
            try database.requireAdmin(principal, to: "change group membership")
            let (userID, groupID) = try Self.ids(database, user: user, group: group)
            try database.execute(
                "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)",
                groupID,
                userID
            )
        }
    }

    /// Removes a user from a group. Needs admin.
    ///
    /// - Throws: `notFound` for an unknown user or group, or if the user is not a member; `permissionDenied`.
    public func removeFromGroup(user: String, group: String, by principal: Principal) throws(RegistryError) {
        try Validate.principalName(user, kind: "user")
        try Validate.principalName(group, kind: "group")
        try self.withDatabase { (database) throws(RegistryError) in
            try database.requireAdmin(principal, to: "change group membership")
            let (userID, groupID) = try Self.ids(database, user: user, group: group)
            try database.execute("DELETE FROM group_members WHERE group_id = ? AND user_id = ?", groupID, userID)
            guard database.changes > 0 else { throw .notFound("user '\(user)' is not in group '\(group)'") }
        }
    }

    static func loadUser(_ database: Database, name: String) throws(RegistryError) -> User {
        guard let row = try database.queryOne("SELECT id, is_admin, created_at FROM users WHERE name = ?", name) else {
            throw .notFound("user '\(name)' does not exist")
        }
        let groups = try database.query(
            "SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name",
            row.int64(0)
        ).map { $0.string(0) }
        return User(name: name, isAdmin: row.bool(1), createdAt: Timestamp.date(row.int64(2)), groups: groups)
    }

    static func loadGroup(_ database: Database, name: String) throws(RegistryError) -> Group {
        guard let row = try database.queryOne("SELECT id, created_at FROM groups WHERE name = ?", name) else {
            throw .notFound("group '\(name)' does not exist")
        }
        let members = try database.query(
            "SELECT u.name FROM users u JOIN group_members m ON m.user_id = u.id WHERE m.group_id = ? ORDER BY u.name",
            row.int64(0)
        ).map { $0.string(0) }
        return Group(name: name, createdAt: Timestamp.date(row.int64(1)), members: members)
    }

    static func userID(_ database: Database, name: String) throws(RegistryError) -> Int64 {
        guard let row = try database.queryOne("SELECT id FROM users WHERE name = ?", name) else {
            throw .notFound("user '\(name)' does not exist")
        }
        return row.int64(0)
    }

    static func groupID(_ database: Database, name: String) throws(RegistryError) -> Int64 {
        guard let row = try database.queryOne("SELECT id FROM groups WHERE name = ?", name) else {
            throw .notFound("group '\(name)' does not exist")
        }
        return row.int64(0)
    }

    private static func ids(
        _ database: Database,
        user: String,
        group: String
    ) throws(RegistryError) -> (user: Int64, group: Int64) {
        (try self.userID(database, name: user), try self.groupID(database, name: group))
    }
}
