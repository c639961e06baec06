/// Registry-specific reads on the connection: loading models and versions and resolving names to row ids.
/// All of them run with the registry's mutex held (they are only reachable through `withDatabase`).
struct ModelRef: Sendable {
    var id: Int64
    var name: String
}

extension Database {
    static let modelColumns = """
        m.id, m.name, m.description, m.author, m.tags, m.input_schema, m.output_schema, m.metrics, m.dependencies,
        m.intended_use, m.annotations, m.manifest, m.created_at, m.updated_at, m.created_by,
        (SELECT MAX(v.number) FROM versions v WHERE v.model_id = m.id),
        (SELECT v.size_bytes FROM versions v WHERE v.model_id = m.id ORDER BY v.number DESC LIMIT 1)
        """

    static func decodeModel(_ row: Row) throws(RegistryError) -> Model {
        var model = Model(
            name: row.string(1),
            description: row.string(2),
            author: row.string(3),
            tags: try Codec.list(row.string(4), column: "models.tags"),
            inputSchema: row.string(5),
            outputSchema: row.string(6),
            metrics: try Codec.doubleMap(row.string(7), column: "models.metrics"),
            dependencies: try Codec.list(row.string(8), column: "models.dependencies"),
            intendedUse: row.string(9),
            annotations: try Codec.stringMap(row.string(10), column: "models.annotations"),
            manifest: try Codec.stringMap(row.string(11), column: "models.manifest")
        )
        model.createdAt = Timestamp.date(row.int64(12))
        model.updatedAt = Timestamp.date(row.int64(13))
        model.createdBy = row.string(14)
        model.latestVersion = row.optionalInt64(15).map { Int($0) }
        model.sizeBytes = row.optionalInt64(16) ?? 0
        return model
    }

    /// The model with this name; `notFound` if there is none.
    func modelRef(named name: String) throws(RegistryError) -> ModelRef {
        guard let row = try self.queryOne("SELECT id, name FROM models WHERE name = ?", name) else {
            throw .notFound("model '\(name)' does not exist")
        }
        return ModelRef(id: row.int64(0), name: row.string(1))
    }

    /// The model with this row id, if it still exists.
    func modelRef(id: Int64) throws(RegistryError) -> ModelRef? {
        try self.queryOne("SELECT id, name FROM models WHERE id = ?", id).map {
            ModelRef(id: $0.int64(0), name: $0.string(1))
        }
    }

    func loadModel(id: Int64) throws(RegistryError) -> Model {
        guard let row = try self.queryOne("SELECT \(Self.modelColumns) FROM models m WHERE m.id = ?", id) else {
            throw .notFound("model #\(id) does not exist")
        }
        return try Self.decodeModel(row)
    }

    static let versionColumns = """
        v.number, v.description, v.author, v.input_schema, v.output_schema, v.metrics, v.dependencies,
        v.annotations, v.manifest, v.size_bytes, v.sha256, v.created_at, v.created_by, v.metrics_updated_at,
        v.metrics_updated_by,
        (SELECT group_concat(a.name, ',') FROM aliases a WHERE a.model_id = v.model_id AND a.version = v.number)
        """

    static func decodeVersion(_ row: Row, model: String) throws(RegistryError) -> ModelVersion {
        ModelVersion(
            model: model,
            number: row.int(0),
            description: row.string(1),
            author: row.string(2),
            metrics: try Codec.doubleMap(row.string(5), column: "versions.metrics"),
            dependencies: try Codec.list(row.string(6), column: "versions.dependencies"),
            inputSchema: row.string(3),
            outputSchema: row.string(4),
            annotations: try Codec.stringMap(row.string(7), column: "versions.annotations"),
            manifest: try Codec.stringMap(row.string(8), column: "versions.manifest"),
            sizeBytes: row.int64(9),
            sha256: row.string(10),
            createdAt: Timestamp.date(row.int64(11)),
            createdBy: row.string(12),
            metricsUpdatedAt: Timestamp.optionalDate(row.optionalInt64(13)),
            metricsUpdatedBy: row.optionalString(14),
            // Alias names never contain ',' (validated), so the concatenation splits back exactly.
            aliases: (row.optionalString(15) ?? "").split(separator: ",").map(String.init).sorted()
        )
    }

    func loadVersion(_ model: ModelRef, number: Int) throws(RegistryError) -> ModelVersion {
        guard
            let row = try self.queryOne(
                "SELECT \(Self.versionColumns) FROM versions v WHERE v.model_id = ? AND v.number = ?",
                model.id,
                number
            )
        else {
            throw .notFound("model '\(model.name)' has no version \(number)")
        }
        return try Self.decodeVersion(row, model: model.name)
    }

    /// Resolves a version reference to an existing version number.
    func resolve(_ reference: VersionReference, in model: ModelRef) throws(RegistryError) -> Int {
        switch reference {
        case .number(let number):
            guard
                try self.queryOne("SELECT 1 FROM versions WHERE model_id = ? AND number = ?", model.id, number) != nil
            else {
                throw .notFound("model '\(model.name)' has no version \(number)")
            }
            return number
        case .alias(let alias):
            try Validate.aliasName(alias)
            guard
                let row = try self.queryOne(
                    "SELECT version FROM aliases WHERE model_id = ? AND name = ?",
                    model.id,
                    alias
                )
            else {
                throw .notFound("model '\(model.name)' has no alias '\(alias)'")
            }
            return row.int(0)
        case .latest:
            guard
                let number = try self.queryOne("SELECT MAX(number) FROM versions WHERE model_id = ?", model.id)?
                    .optionalInt64(0)
            else {
                throw .notFound("model '\(model.name)' has no versions")
            }
            return Int(number)
        }
    }
}
