internal import FoundationEssentials

extension ModelRegistry {
    /// The page size used when the caller asks for 0 (or nothing).
    public static let defaultPageSize = 50
    /// The largest page returned; larger requests are reduced to it.
    public static let maxPageSize = 1000

    /// Lists the models the principal can read (admins: all), ordered by name, one page at a time.
    ///
    /// Paging is by key, not offset: the opaque token carries the last name returned, so models created or deleted
    /// between calls never cause a model to be skipped or repeated. A token is tied to its filter.
    ///
    /// ```swift
    /// var token: String? = nil
    /// repeat {
    ///     let page = try registry.listModels(filter: ModelFilter(tag: "movies"), pageToken: token, by: alice)
    ///     handle(page.models)
    ///     token = page.nextPageToken
    /// } while token != nil
    /// ```
    /// - Parameters:
    ///   - filter: Tag, author, name-prefix and owner filters; all set ones must match.
    ///   - pageSize: 1…1000; `nil` or 0 means 50, larger values are reduced to 1000.
    ///   - pageToken: The ``ModelPage/nextPageToken`` of the previous page, or `nil` for the first.
    /// - Throws: `invalidArgument` for a negative page size, a bad filter, or a token that is malformed or was
    ///   issued for another filter.
    public func listModels(
        filter: ModelFilter = ModelFilter(),
        pageSize: Int? = nil,
        pageToken: String? = nil,
        by principal: Principal
    ) throws(RegistryError) -> ModelPage {
        let size = try Self.effectivePageSize(pageSize)
        try Self.validate(filter)
        let fingerprint = try Self.fingerprint(filter)
        var after = ""
        if let pageToken, !pageToken.isEmpty {
            after = try Self.decodePageToken(pageToken, fingerprint: fingerprint)
        }
        // Names are [A-Za-z0-9._-], all below 0x7F, so [prefix, prefix + "\u{7F}") is exactly "starts with prefix"
        // and can use the unique index on name.
        let prefix = filter.namePrefix.flatMap { $0.isEmpty ? nil : $0 }
        let bindings: [SQLiteValue] = [
            .text(after),
            filter.tag.sqliteValue,
            filter.author.sqliteValue,
            prefix.sqliteValue,
            prefix.map { $0 + "\u{7F}" }.sqliteValue,
            .integer(0),  // is_admin, filled in below
            .integer(principal.userID),
            .integer(Int64(size + 1)),
            filter.owner.sqliteValue,
            principal.scope.models.isEmpty ? .null : .text(try Codec.json(principal.scope.models)),
        ]
        return try self.withDatabase { (database) throws(RegistryError) -> ModelPage in
            var bindings = bindings
            bindings[5] = .integer(try database.isAdmin(principal) ? 1 : 0)
            let rows = try database.query(
                """
                SELECT \(Database.modelColumns) FROM models m
                WHERE m.name > ?1
                  AND (?2 IS NULL OR EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id AND t.tag = ?2))
                  AND (?3 IS NULL OR m.author = ?3)
                  AND (?4 IS NULL OR (m.name >= ?4 AND m.name < ?5))
                  AND (?6 = 1 OR EXISTS (
                        SELECT 1 FROM permissions p WHERE p.model_id = m.id
                          AND (p.user_id = ?7 OR p.group_id IN (SELECT group_id FROM group_members WHERE user_id = ?7))))
                  AND (?9 IS NULL OR EXISTS (
                        SELECT 1 FROM permissions p JOIN users u ON u.id = p.user_id
                        WHERE p.model_id = m.id AND p.role = 3 AND u.name = ?9))
                  AND (?10 IS NULL OR m.name IN (SELECT value FROM json_each(?10)))
                ORDER BY m.name
                LIMIT ?8
                """,
                bindings: bindings
            )
            var models: [Model] = []
            for row in rows.prefix(size) { models.append(try Database.decodeModel(row)) }
            var next: String? = nil
            if rows.count > size, let last = models.last {
                next = Self.encodePageToken(after: last.name, fingerprint: fingerprint)
            }
            return ModelPage(models: models, nextPageToken: next)
        }
    }

    static func effectivePageSize(_ requested: Int?) throws(RegistryError) -> Int {
        guard let requested, requested != 0 else { return self.defaultPageSize }
        guard requested > 0 else { throw .invalidArgument("page size \(requested) is negative") }
        return min(requested, self.maxPageSize)
    }

    private static func validate(_ filter: ModelFilter) throws(RegistryError) {
        if let tag = filter.tag { try Validate.tag(tag) }
        if let author = filter.author { try Validate.text(author, field: "author filter", limit: Validate.maxKey) }
        if let prefix = filter.namePrefix { try Validate.namePrefix(prefix) }
        if let owner = filter.owner { try Validate.principalName(owner, kind: "owner filter user") }
    }

    private static func fingerprint(_ filter: ModelFilter) throws(RegistryError) -> String {
        let text = [filter.tag ?? "\u{1}", filter.author ?? "\u{1}", filter.namePrefix ?? "", filter.owner ?? "\u{1}"]
            .joined(separator: "\u{0}")
        return String(try SHA256Hasher.hex(of: text.utf8).prefix(16))
    }

    private static func encodePageToken(after name: String, fingerprint: String) -> String {
        // base64url without padding: safe in URLs and metadata.
        let raw = Data("1|\(fingerprint)|\(name)".utf8).base64EncodedString()
        return String(raw.compactMap { $0 == "=" ? nil : $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    private static func decodePageToken(_ token: String, fingerprint: String) throws(RegistryError) -> String {
        var base64 = String(token.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard token.utf8.count <= 1024, let data = Data(base64Encoded: base64) else {
            throw .invalidArgument("page token is malformed")
        }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "1" else { throw .invalidArgument("page token is malformed") }
        guard parts[1] == fingerprint else {
            throw .invalidArgument("page token was issued for a different filter")
        }
        let name = String(parts[2])
        do {
            try Validate.modelName(name)
        } catch {
            throw .invalidArgument("page token is malformed")
        }
        return name
    }
}
