public import FoundationEssentials

/// One mutating call, as the audit log keeps it: who, what, when, and how it ended.
public struct AuditEvent: Sendable, Hashable {
    /// Its position in the log (assigned when stored; 0 before).
    public var id: Int64
    public var at: Date
    /// The caller's user name; empty when the call was not authenticated.
    public var user: String
    /// The token the call carried, by id (never the token).
    public var tokenID: Int64?
    /// The gRPC method, `package.Service/Method`.
    public var method: String
    /// What it acted on (a model, a deployment, a user), when known.
    public var target: String
    /// The gRPC status code it ended with (0 = OK).
    public var code: Int32
    /// The status message.
    public var message: String
    /// The caller's address.
    public var peer: String

    public init(
        id: Int64 = 0, at: Date, user: String, tokenID: Int64?, method: String, target: String, code: Int32,
        message: String, peer: String
    ) {
        self.id = id
        self.at = at
        self.user = user
        self.tokenID = tokenID
        self.method = method
        self.target = target
        self.code = code
        self.message = message
        self.peer = peer
    }
}

/// Which audit events to list.
public struct AuditFilter: Sendable, Hashable {
    /// Only this user's; `nil` for everyone's.
    public var user: String?
    /// Only calls of this method (`package.Service/Method`) or of this service (`package.Service`); `nil` for all.
    public var method: String?
    /// Only events after this id (paging: the last id of the previous page).
    public var afterID: Int64
    /// At most this many.
    public var limit: Int

    public init(user: String? = nil, method: String? = nil, afterID: Int64 = 0, limit: Int = 100) {
        self.user = user
        self.method = method
        self.afterID = afterID
        self.limit = limit
    }
}

extension ModelRegistry {
    /// Appends events to the audit log, in transactions of at most ``auditBatch`` events (each one replicated
    /// whole, within etcd's default 128 operations a transaction); when one fails, the batches before it are
    /// written. The log is append-only: nothing here edits or deletes.
    public func appendAuditEvents(_ events: [AuditEvent]) throws(RegistryError) {
        for start in stride(from: 0, to: events.count, by: Self.auditBatch) {
            try self.appendAuditBatch(events[start..<min(start + Self.auditBatch, events.count)])
        }
    }

    /// The most audit events written in one transaction.
    public static let auditBatch = 100

    private func appendAuditBatch(_ events: ArraySlice<AuditEvent>) throws(RegistryError) {
        try self.withDatabase(invalidatingCaches: false) { (database) throws(RegistryError) in
            try database.transaction { () throws(RegistryError) in
                for event in events {
                    try database.execute(
                        """
                        INSERT INTO audit_events (at, user_name, token_id, method, target, code, message, peer)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        Int64((event.at.timeIntervalSince1970 * 1000).rounded(.down)), event.user, event.tokenID,
                        event.method, event.target, Int64(event.code), event.message, event.peer)
                }
            }
        }
    }

    /// Lists audit events, oldest first, matching `filter`. Needs admin.
    ///
    /// - Throws: `permissionDenied`, `invalidArgument` for a limit outside 1...1000.
    public func listAuditEvents(_ filter: AuditFilter, by principal: Principal) throws(RegistryError) -> [AuditEvent] {
        guard (1...1000).contains(filter.limit) else {
            throw .invalidArgument("an audit listing's limit must be 1 to 1000 (got \(filter.limit))")
        }
        return try self.withDatabase { (database) throws(RegistryError) -> [AuditEvent] in
            try database.requireAdmin(principal, to: "read the audit log")
            return try database.query(
                """
                SELECT id, at, user_name, token_id, method, target, code, message, peer FROM audit_events
                WHERE id > ?1 AND (?2 IS NULL OR user_name = ?2)
                  AND (?3 IS NULL OR method = ?3 OR method LIKE ?3 || '/%')
                ORDER BY id LIMIT ?4
                """,
                bindings: [
                    .integer(filter.afterID), filter.user.sqliteValue, filter.method.sqliteValue,
                    .integer(Int64(filter.limit)),
                ]
            ).map { row in
                AuditEvent(
                    id: row.int64(0), at: Timestamp.date(row.int64(1)), user: row.string(2),
                    tokenID: row.optionalInt64(3), method: row.string(4), target: row.string(5),
                    code: Int32(truncatingIfNeeded: row.int64(6)), message: row.string(7), peer: row.string(8))
            }
        }
    }
}
