extension ModelRegistry {
    /// Points an alias (`production`, `staging`, …) at a version, creating it if needed, and records the move.
    /// Needs ``Role/writer``.
    ///
    /// `version` may itself be an alias (`setAlias(… alias: "production", version: "staging" …)` promotes what
    /// staging points at). Setting an alias to the version it already points at changes nothing and records
    /// nothing.
    /// - Parameters:
    ///   - alias: 1–64 characters of `[A-Za-z0-9._-]` starting with a letter; not `latest`.
    ///   - version: The target version.
    ///   - reason: Why, kept in the alias history (at most 16 KiB, no control characters except tab and newline);
    ///     empty for none.
    /// - Returns: The move (``AliasMove/fromVersion`` is `nil` if the alias is new).
    /// - Throws: `invalidArgument` for a bad alias name, `notFound` for an unknown model or version,
    ///   `permissionDenied`.
    ///   - promotion: Champion/challenger: move only when the target's stored metric beats the current version's
    ///     by the margin (see ``Promotion``); the comparison is appended to the reason. `nil`: move unconditionally.
    /// - Throws: also `failedPrecondition` when a promotion is not earned (naming both figures) or a version lacks
    ///   the metric.
    @discardableResult
    public func setAlias(
        model: String,
        alias: String,
        version: VersionReference,
        reason: String = "",
        promotion: Promotion? = nil,
        by principal: Principal
    ) throws(RegistryError) -> AliasMove {
        if let promotion {
            guard !promotion.metric.isEmpty, promotion.margin.isFinite, promotion.margin >= 0 else {
                throw .invalidArgument("a promotion needs a metric name and a margin >= 0")
            }
        }
        return try withAliasMove(model: model, alias: alias, reason: reason, by: principal) {
            (database, ref) throws(RegistryError) in
            let target = try database.resolve(version, in: ref)
            var reason = reason
            if let promotion {
                let comparison = try Self.comparison(database, ref, alias: alias, challenger: target, promotion)
                reason = reason.isEmpty ? comparison : "\(reason); \(comparison)"
            }
            return try Self.moveAlias(database, model: ref, alias: alias, to: target, reason: reason, by: principal)
        }
    }

    /// What an alias move has to earn: the target version's stored `metric` at least `margin` above the current
    /// version's (higher is better).
    public struct Promotion: Sendable, Hashable {
        /// A key of the versions' metrics, e.g. `holdout.precision@10`.
        public var metric: String
        /// How much better the challenger must be, ≥ 0.
        public var margin: Double

        public init(metric: String, margin: Double) {
            self.metric = metric
            self.margin = margin
        }
    }

    /// Compares the challenger's metric with the alias's current version's; returns the comparison as a reason, or
    /// throws `failedPrecondition` with both figures when the challenger does not earn the move.
    private static func comparison(
        _ database: Database, _ ref: ModelRef, alias: String, challenger: Int, _ promotion: Promotion
    ) throws(RegistryError) -> String {
        func metric(_ number: Int) throws(RegistryError) -> Double {
            guard let value = try database.loadVersion(ref, number: number).metrics[promotion.metric] else {
                throw .failedPrecondition(
                    "version \(number) of model '\(ref.name)' has no stored metric '\(promotion.metric)'; "
                        + "evaluate it first (aimass evaluate --protocol holdout)")
            }
            return value
        }
        let challengerValue = try metric(challenger)
        guard
            let champion = try database.queryOne(
                "SELECT version FROM aliases WHERE model_id = ? AND name = ?", ref.id, alias)?.int(0),
            champion != challenger
        else {
            return "promoted: \(promotion.metric) \(challengerValue) of version \(challenger), no champion to beat"
        }
        let championValue = try metric(champion)
        let figures =
            "\(promotion.metric) of challenger version \(challenger) = \(challengerValue), of champion version "
            + "\(champion) = \(championValue), difference \(challengerValue - championValue), margin \(promotion.margin)"
        guard challengerValue - championValue >= promotion.margin else {
            throw .failedPrecondition("not promoted: \(figures): the challenger must beat the champion by the margin")
        }
        return "promoted: \(figures)"
    }

    /// Deletes an alias and records the move (with ``AliasMove/toVersion`` `nil`) and its `reason`. Needs
    /// ``Role/writer``.
    ///
    /// - Throws: `notFound` if the model or alias does not exist, `permissionDenied`, `invalidArgument` for a bad
    ///   alias name or reason.
    @discardableResult
    public func deleteAlias(
        model: String,
        alias: String,
        reason: String = "",
        by principal: Principal
    ) throws(RegistryError) -> AliasMove {
        try withAliasMove(model: model, alias: alias, reason: reason, by: principal) { (database, ref) throws(RegistryError) in
            _ = try database.resolve(.alias(alias), in: ref)
            return try Self.moveAlias(database, model: ref, alias: alias, to: nil, reason: reason, by: principal)
        }
    }

    /// Undoes the most recent move of an alias: points it back at the version it had before (re-creating it if
    /// the last move deleted it), recording this as a new move with `reason`. Needs ``Role/writer``.
    ///
    /// Rolling back twice undoes the rollback; to go further back, use ``setAlias(model:alias:version:reason:by:)``
    /// with a version from ``aliasHistory(model:alias:by:)``.
    /// - Throws: `notFound` if the alias never existed, `failedPrecondition` if its last move created it (there is
    ///   no earlier version), `permissionDenied`.
    @discardableResult
    public func rollbackAlias(
        model: String,
        alias: String,
        reason: String = "",
        by principal: Principal
    ) throws(RegistryError) -> AliasMove {
        try withAliasMove(model: model, alias: alias, reason: reason, by: principal) { (database, ref) throws(RegistryError) in
            guard
                let last = try database.queryOne(
                    "SELECT old_version FROM alias_history WHERE model_id = ? AND alias = ? ORDER BY id DESC LIMIT 1",
                    ref.id,
                    alias
                )
            else {
                throw .notFound("model '\(ref.name)' has no alias '\(alias)' and never had one")
            }
            guard let previous = last.optionalInt64(0) else {
                throw .failedPrecondition(
                    "alias '\(alias)' of model '\(ref.name)' has no earlier version to roll back to"
                )
            }
            return try Self.moveAlias(
                database,
                model: ref,
                alias: alias,
                to: Int(previous),
                reason: reason,
                by: principal
            )
        }
    }

    /// The model's aliases, sorted by name. Needs ``Role/reader``.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func listAliases(model: String, by principal: Principal) throws(RegistryError) -> [Alias] {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> [Alias] in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its aliases")
            return try database.query(
                "SELECT name, version, updated_at, updated_by FROM aliases WHERE model_id = ? ORDER BY name",
                ref.id
            ).map {
                Alias(
                    model: ref.name,
                    name: $0.string(0),
                    version: $0.int(1),
                    updatedAt: Timestamp.date($0.int64(2)),
                    updatedBy: $0.string(3)
                )
            }
        }
    }

    /// Every recorded alias move of a model (or of one alias), oldest first. Needs ``Role/reader``.
    ///
    /// - Parameters:
    ///   - alias: Only this alias's moves; `nil` for all.
    /// - Throws: `notFound`, `permissionDenied`, `invalidArgument` for a bad alias name.
    public func aliasHistory(
        model: String,
        alias: String? = nil,
        by principal: Principal
    ) throws(RegistryError) -> [AliasMove] {
        try Validate.modelName(model)
        if let alias { try Validate.aliasName(alias) }
        return try self.withDatabase { (database) throws(RegistryError) -> [AliasMove] in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its aliases")
            return try database.query(
                """
                SELECT alias, old_version, new_version, at, by_user, reason FROM alias_history
                WHERE model_id = ?1 AND (?2 IS NULL OR alias = ?2) ORDER BY id
                """,
                ref.id,
                alias
            ).map {
                AliasMove(
                    model: ref.name,
                    alias: $0.string(0),
                    fromVersion: $0.optionalInt64(1).map { Int($0) },
                    toVersion: $0.optionalInt64(2).map { Int($0) },
                    at: Timestamp.date($0.int64(3)),
                    by: $0.string(4),
                    reason: $0.string(5)
                )
            }
        }
    }

    /// Moves (or creates, or with `to: nil` deletes) an alias and appends the move (with its reason) to its history,
    /// in one transaction.
    private static func moveAlias(
        _ database: Database,
        model: ModelRef,
        alias: String,
        to target: Int?,
        reason: String,
        by principal: Principal
    ) throws(RegistryError) -> AliasMove {
        let now = Timestamp.now()
        return try database.transaction { () throws(RegistryError) -> AliasMove in
            let current = try database.queryOne(
                "SELECT version FROM aliases WHERE model_id = ? AND name = ?",
                model.id,
                alias
            )?.int(0)
            let move = AliasMove(
                model: model.name,
                alias: alias,
                fromVersion: current,
                toVersion: target,
                at: Timestamp.date(now),
                by: principal.userName,
                reason: reason
            )
            guard current != target else { return move }
            if let target {
                try database.execute(
                    """
                    INSERT INTO aliases (model_id, name, version, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5)
                    ON CONFLICT (model_id, name) DO UPDATE SET version = ?3, updated_at = ?4, updated_by = ?5,
                        challenger_version = NULL, challenger_percent = 0
                    """,
                    model.id,
                    alias,
                    target,
                    now,
                    principal.userName
                )
            } else {
                try database.execute("DELETE FROM aliases WHERE model_id = ? AND name = ?", model.id, alias)
            }
            try database.execute(
                """
                INSERT INTO alias_history (model_id, alias, old_version, new_version, at, by_user, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                model.id,
                alias,
                current,
                target,
                now,
                principal.userName,
                reason
            )
            return move
        }
    }

    /// The part every alias move shares: validate the names and the reason, then run `body` in the database as
    /// an authorized ``Role/writer`` of the model.
    private func withAliasMove(
        model: String,
        alias: String,
        reason: String,
        by principal: Principal,
        _ body: (Database, ModelRef) throws(RegistryError) -> AliasMove
    ) throws(RegistryError) -> AliasMove {
        try Validate.modelName(model)
        try Validate.aliasName(alias)
        try Validate.text(reason, field: "reason")
        return try self.withDatabase { (database) throws(RegistryError) -> AliasMove in
            let ref = try database.authorize(principal, model: model, required: .writer, to: "move its aliases")
            return try body(database, ref)
        }
    }
}
