extension ModelRegistry {
    /// Starts, changes or (with `percent` 0) ends an alias's A/B split: `percent` % of the users asking for the
    /// alias are served by `challenger`. Needs ``Role/writer``. Any later move of the alias ends the split.
    ///
    /// - Returns: The split as stored, `nil` when it was ended.
    /// - Throws: `invalidArgument` for a bad alias, a percent above 100, or a challenger that is the alias's own
    ///   version; `notFound` for an unknown model, alias or version; `permissionDenied`.
    @discardableResult
    public func setAliasSplit(
        model: String, alias: String, challenger: Int, percent: Int, by principal: Principal
    ) throws(RegistryError) -> AliasSplit? {
        try Validate.modelName(model)
        try Validate.aliasName(alias)
        guard (0...100).contains(percent) else {
            throw .invalidArgument("percent must be 0 to 100, got \(percent)")
        }
        return try self.withDatabase { (database) throws(RegistryError) -> AliasSplit? in
            let ref = try database.authorize(principal, model: model, required: .writer, to: "split its aliases")
            guard
                let champion = try database.queryOne(
                    "SELECT version FROM aliases WHERE model_id = ? AND name = ?", ref.id, alias)?.int(0)
            else {
                throw .notFound("model '\(ref.name)' has no alias '\(alias)'")
            }
            guard percent > 0, challenger > 0 else {
                try database.execute(
                    "UPDATE aliases SET challenger_version = NULL, challenger_percent = 0 WHERE model_id = ? AND name = ?",
                    ref.id, alias)
                return nil
            }
            let target = try database.resolve(.number(challenger), in: ref)
            guard target != champion else {
                throw .invalidArgument("version \(target) is what alias '\(alias)' points at; a challenger must differ")
            }
            try database.execute(
                "UPDATE aliases SET challenger_version = ?, challenger_percent = ? WHERE model_id = ? AND name = ?",
                target, percent, ref.id, alias)
            return AliasSplit(alias: alias, version: champion, challengerVersion: target, percent: percent)
        }
    }

    /// The alias's A/B split, or `nil` when it has none (or is not an alias of the model). Needs ``Role/reader``.
    /// Answered from the access cache on a hit, as version lookups are: the serving path asks it on every call.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func aliasSplit(model: String, alias: String, by principal: Principal) throws(RegistryError) -> AliasSplit? {
        try Validate.modelName(model)
        let answer = try self.cachedAnswer(.split(alias: alias), model: model, by: principal) {
            (database) throws(RegistryError) -> AccessCache.Answer in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its aliases")
            return .split(try Self.splits(database, ref, alias: alias).first)
        }
        guard case .split(let split) = answer else { throw .internal("access cache answered a split with another answer") }
        return split
    }

    /// The version `alias` of `model` serves `user`: its A/B split's sticky choice (``AliasSplit/version(model:user:)``)
    /// when it has one, else the version it points at. What Recommend serves and what feedback naming the alias is
    /// attributed to. Needs ``Role/reader``; answered from the access cache on a hit.
    ///
    /// - Throws: `notFound` (model, alias), `invalidArgument`, `permissionDenied`.
    public func servingVersion(model: String, alias: String, user: String, by principal: Principal) throws(RegistryError) -> Int {
        if alias != "latest", let split = try aliasSplit(model: model, alias: alias, by: principal) {
            return split.version(model: model, user: user)
        }
        return try getVersion(model: model, alias == "latest" ? .latest : .alias(alias), by: principal).number
    }

    /// Every A/B split of a model's aliases, by alias name. Needs ``Role/reader``.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func aliasSplits(model: String, by principal: Principal) throws(RegistryError) -> [AliasSplit] {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> [AliasSplit] in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its aliases")
            return try Self.splits(database, ref, alias: nil)
        }
    }

    private static func splits(_ database: Database, _ ref: ModelRef, alias: String?) throws(RegistryError) -> [AliasSplit] {
        try database.query(
            """
            SELECT name, version, challenger_version, challenger_percent FROM aliases
            WHERE model_id = ?1 AND (?2 IS NULL OR name = ?2) AND challenger_percent > 0 ORDER BY name
            """,
            ref.id, alias
        ).map { AliasSplit(alias: $0.string(0), version: $0.int(1), challengerVersion: $0.int(2), percent: $0.int(3)) }
    }
}
