extension ModelRegistry {
    /// Registers a new model; its creator becomes its owner.
    ///
    /// Any authenticated user may create models, through a token whose scope allows it
    /// (``TokenScope/allowsCreatingModels``). Output-only fields of `model` (``Model/createdAt`` …) are ignored.
    /// - Parameters:
    ///   - model: The name and metadata. Tags are stored de-duplicated and sorted.
    ///   - principal: The caller; gets the ``Role/owner`` role on the new model.
    /// - Returns: The stored model.
    /// - Throws: `invalidArgument` for a bad name or field, `alreadyExists` if the name is taken, `permissionDenied`
    ///   for a token scoped to reading or to a set of models.
    public func createModel(_ model: Model, by principal: Principal) throws(RegistryError) -> Model {
        let model = try Validate.model(model)
        guard principal.scope.allowsCreatingModels else {
            let scope = principal.scope
            let limit = scope.models.isEmpty ? "capped at \(scope.roleCeiling.map(\.description) ?? "")" : "limited to \(scope.models.joined(separator: ", "))"
            throw .permissionDenied("this token is \(limit) and cannot create models; create '\(model.name)' with an unscoped token")
        }
        return try self.withDatabase { (database) throws(RegistryError) -> Model in
            try database.requireUser(principal)
            let now = Timestamp.now()
            let id = try database.transaction { () throws(RegistryError) -> Int64 in
                guard try database.queryOne("SELECT 1 FROM models WHERE name = ?", model.name) == nil else {
                    throw .alreadyExists("model '\(model.name)' already exists")
                }
                try database.execute(
                    """
                    INSERT INTO models (name, description, author, tags, input_schema, output_schema, metrics,
                        dependencies, intended_use, annotations, manifest, created_at, updated_at, created_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    model.name,
                    model.description,
                    model.author,
                    try Codec.json(model.tags),
                    model.inputSchema,
                    model.outputSchema,
                    try Codec.json(model.metrics),
                    try Codec.json(model.dependencies),
                    model.intendedUse,
                    try Codec.json(model.annotations),
                    try Codec.json(model.manifest),
                    now,
                    now,
                    principal.userName
                )
                let id = database.lastInsertRowID
                try Self.replaceTags(database, modelID: id, tags: model.tags)
                try database.execute(
                    """
                    INSERT INTO permissions (model_id, user_id, role, granted_at, granted_by)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    id,
                    principal.userID,
                    Role.owner.rawValue,
                    now,
                    principal.userName
                )
                return id
            }
            return try database.loadModel(id: id)
        }
    }

    /// Returns a model. Needs ``Role/reader``.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func getModel(_ name: String, by principal: Principal) throws(RegistryError) -> Model {
        try Validate.modelName(name)
        return try self.withDatabase { (database) throws(RegistryError) -> Model in
            let model = try database.authorize(principal, model: name, required: .reader, to: "read it")
            return try database.loadModel(id: model.id)
        }
    }

    /// Changes the fields of a model named in `fieldMask`, taking their new values from `values`.
    ///
    /// Needs ``Role/writer``; renaming (`name` in the mask) needs ``Role/owner``. Field names are those of
    /// ``ModelField`` (`snake_case` or camelCase), or `*` for every editable field.
    ///
    /// ```swift
    /// var changes = Model(name: "movies")
    /// changes.description = "Item-CF, K=50"
    /// changes.tags = ["movies", "cf"]
    /// _ = try registry.updateModel("movies", with: changes, fieldMask: ["description", "tags"], by: alice)
    /// ```
    /// - Parameters:
    ///   - name: The model to change.
    ///   - values: Carries the new values; fields not in the mask are ignored.
    ///   - fieldMask: The fields to change.
    /// - Returns: The updated model.
    /// - Throws: `invalidArgument` for an empty mask, an unknown or output-only field or a bad value;
    ///   `alreadyExists` if renaming onto a taken name; `notFound`; `permissionDenied`.
    public func updateModel(
        _ name: String,
        with values: Model,
        fieldMask: Set<String>,
        by principal: Principal
    ) throws(RegistryError) -> Model {
        try Validate.modelName(name)
        let fields = try Self.parseFieldMask(fieldMask)
        return try self.withDatabase { (database) throws(RegistryError) -> Model in
            let ref = try database.authorize(principal, model: name, required: .writer, to: "update it")
            if fields.contains(.name), values.name != ref.name {
                try database.authorize(principal, model: ref, required: .owner, to: "rename it")
            }
            var model = try database.loadModel(id: ref.id)
            for field in fields { Self.copy(field, from: values, to: &model) }
            model = try Validate.model(model)
            try database.transaction { () throws(RegistryError) in
                if model.name != ref.name {
                    guard try database.queryOne("SELECT 1 FROM models WHERE name = ?", model.name) == nil else {
                        throw .alreadyExists("cannot rename model '\(ref.name)': '\(model.name)' already exists")
                    }
                }
                try database.execute(
                    """
                    UPDATE models SET name = ?, description = ?, author = ?, tags = ?, input_schema = ?,
                        output_schema = ?, metrics = ?, dependencies = ?, intended_use = ?, annotations = ?,
                        manifest = ?, updated_at = ?
                    WHERE id = ?
                    """,
                    model.name,
                    model.description,
                    model.author,
                    try Codec.json(model.tags),
                    model.inputSchema,
                    model.outputSchema,
                    try Codec.json(model.metrics),
                    try Codec.json(model.dependencies),
                    model.intendedUse,
                    try Codec.json(model.annotations),
                    try Codec.json(model.manifest),
                    Timestamp.now(),
                    ref.id
                )
                if fields.contains(.tags) { try Self.replaceTags(database, modelID: ref.id, tags: model.tags) }
            }
            return try database.loadModel(id: ref.id)
        }
    }

    /// Deletes a model with its versions, aliases, history and permissions, then the artifact files no other
    /// version references. Needs ``Role/owner``.
    ///
    /// The rows go in one transaction first; files are deleted after it commits. A crash in between leaves only
    /// unreferenced files, which the next open removes.
    /// - Throws: `notFound`, `permissionDenied`.
    public func deleteModel(_ name: String, by principal: Principal) throws(RegistryError) {
        try Validate.modelName(name)
        try self.withDatabase { (database) throws(RegistryError) in
            let ref = try database.authorize(principal, model: name, required: .owner, to: "delete it")
            let hashes = try database.transaction { () throws(RegistryError) -> [String] in
                let hashes = try database.query("SELECT DISTINCT sha256 FROM versions WHERE model_id = ?", ref.id)
                    .map { $0.string(0) }
                try database.execute("DELETE FROM models WHERE id = ?", ref.id)
                return hashes
            }
            CrashPoint.reach(.modelRowsDeleted)
            for sha256 in hashes {
                try self.removeArtifactIfUnreferenced(database, sha256: sha256)
            }
        }
    }

    /// Deletes an artifact file when no version row references it. Called with the mutex held, after the commit
    /// that dropped the last reference. A failure is logged, not thrown: the rows are gone already and the next
    /// open removes the file.
    func removeArtifactIfUnreferenced(_ database: Database, sha256: String) throws(RegistryError) {
        guard try database.queryOne("SELECT 1 FROM versions WHERE sha256 = ? LIMIT 1", sha256) == nil else { return }
        do {
            try self.store.remove(sha256: sha256)
        } catch {
            self.logger.warning(
                "could not delete unreferenced artifact; it will be removed on the next open",
                metadata: ["sha256": "\(sha256)", "error": "\(error)"]
            )
        }
    }

    static func replaceTags(_ database: Database, modelID: Int64, tags: [String]) throws(RegistryError) {
        try database.execute("DELETE FROM model_tags WHERE model_id = ?", modelID)
        for tag in tags {
            try database.execute("INSERT INTO model_tags (model_id, tag) VALUES (?, ?)", modelID, tag)
        }
    }

    static func parseFieldMask(_ mask: Set<String>) throws(RegistryError) -> [ModelField] {
        guard !mask.isEmpty else {
            throw .invalidArgument("field mask is empty; name the fields to update, or '*' for all")
        }
        var fields: Set<ModelField> = []
        for path in mask.sorted() {
            if path == "*" {
                fields.formUnion(ModelField.allCases)
            } else if ModelField.outputOnly.contains(path) {
                throw .invalidArgument("field '\(path)' is set by the registry and cannot be updated")
            } else if let field = ModelField(path: path) {
                fields.insert(field)
            } else {
                let known = ModelField.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidArgument("unknown field '\(Validate.printable(path))' in field mask (known: \(known))")
            }
        }
        return ModelField.allCases.filter(fields.contains)
    }

    static func copy(_ field: ModelField, from source: Model, to target: inout Model) {
        switch field {
        case .name: target.name = source.name
        case .description: target.description = source.description
        case .author: target.author = source.author
        case .tags: target.tags = source.tags
        case .inputSchema: target.inputSchema = source.inputSchema
        case .outputSchema: target.outputSchema = source.outputSchema
        case .metrics: target.metrics = source.metrics
        case .dependencies: target.dependencies = source.dependencies
        case .intendedUse: target.intendedUse = source.intendedUse
        case .annotations: target.annotations = source.annotations
        case .manifest: target.manifest = source.manifest
        }
    }
}
