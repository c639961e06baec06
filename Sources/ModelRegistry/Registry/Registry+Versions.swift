extension ModelRegistry {
    /// Starts uploading a new version of a model. Needs ``Role/writer``.
    ///
    /// Checks the header (sha256 format, size, metadata) and the size limit before any byte is accepted, and
    /// creates the temporary file. See ``VersionUpload`` for the rest of the protocol.
    /// - Parameters:
    ///   - model: The model's name.
    ///   - header: The version's metadata, declared size and SHA-256.
    /// - Returns: The open upload.
    /// - Throws: `invalidArgument` for a bad header, `resourceExhausted` if the declared size exceeds
    ///   ``Configuration/maxArtifactBytes``, `notFound`, `permissionDenied`.
    public func beginUpload(
        model: String,
        header: VersionHeader,
        by principal: Principal
    ) throws(RegistryError) -> VersionUpload {
        try Validate.modelName(model)
        let header = try Validate.header(header)
        guard header.sizeBytes <= self.configuration.maxArtifactBytes else {
            throw .resourceExhausted(
                "declared size \(header.sizeBytes) bytes exceeds the artifact size limit of "
                    + "\(self.configuration.maxArtifactBytes) bytes"
            )
        }
        let ref = try self.withDatabase { (database) throws(RegistryError) -> ModelRef in
            try database.authorize(principal, model: model, required: .writer, to: "upload a version")
        }
        return try VersionUpload(
            registry: self,
            model: ref,
            header: header,
            principal: principal,
            temporaryPath: try self.store.newTemporaryPath(),
            limit: self.configuration.maxArtifactBytes
        )
    }

    /// The last step of ``VersionUpload/finish()``: under the mutex, install the verified, fsynced file at its
    /// content-addressed path, then insert the version row in one transaction.
    func commitVersion(
        modelID: Int64,
        header: VersionHeader,
        temporaryPath: String,
        by principal: Principal
    ) throws(RegistryError) -> ModelVersion {
        try self.withDatabase { (database) throws(RegistryError) -> ModelVersion in
            guard let model = try database.modelRef(id: modelID) else {
                throw .notFound("the model was deleted while the upload was in progress")
            }
            try database.authorize(principal, model: model, required: .writer, to: "upload a version")
            _ = try self.store.install(temporary: temporaryPath, sha256: header.sha256, sizeBytes: header.sizeBytes)
            CrashPoint.reach(.artifactInstalled)
            do throws(RegistryError) {
                let number = try database.transaction { () throws(RegistryError) -> Int in
                    let number =
                        (try database.queryOne("SELECT MAX(number) FROM versions WHERE model_id = ?", model.id)?
                            .optionalInt64(0)).map { Int($0) + 1 } ?? 1
                    try database.execute(
                        """
                        INSERT INTO versions (model_id, number, description, author, input_schema, output_schema,
                            metrics, dependencies, annotations, manifest, size_bytes, sha256, created_at, created_by)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        model.id,
                        number,
                        header.description,
                        header.author,
                        header.inputSchema,
                        header.outputSchema,
                        try Codec.json(header.metrics),
                        try Codec.json(header.dependencies),
                        try Codec.json(header.annotations),
                        try Codec.json(header.manifest),
                        header.sizeBytes,
                        header.sha256,
                        Timestamp.now(),
                        principal.userName
                    )
                    return number
                }
                return try database.loadVersion(model, number: number)
            } catch {
                // Nothing references a file we just installed unless the row committed; the check decides.
                try? self.removeArtifactIfUnreferenced(database, sha256: header.sha256)
                throw error
            }
        }
    }

    /// Returns one version, by number, alias or `.latest`. Needs ``Role/reader``.
    ///
    /// Answers, refusals included, are cached per (user, model, reference) (``Configuration/AccessCaching``); any
    /// write through the registry — an alias moved, a version uploaded, a grant removed — applies to the very
    /// next call.
    /// - Throws: `notFound` for an unknown model, version or alias; `invalidArgument` for a malformed alias;
    ///   `permissionDenied`.
    public func getVersion(
        model: String,
        _ version: VersionReference,
        by principal: Principal
    ) throws(RegistryError) -> ModelVersion {
        try Validate.modelName(model)
        let answer = try self.cachedAnswer(.version(version), model: model, by: principal) {
            (database) throws(RegistryError) -> AccessCache.Answer in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its versions")
            return .version(try database.loadVersion(ref, number: try database.resolve(version, in: ref)))
        }
        guard case .version(let found) = answer else { throw .internal("access cache answered a version with a role") }
        return found
    }

    /// Deletes one version with its metrics history. Needs ``Role/owner``.
    ///
    /// Refused while an alias points at the version, the implicit `latest` included (so the newest version stays
    /// and numbers are never reused), and while `inUse` names a user of it (the scheduler's deployments). The
    /// artifact file is removed when no other version, of any model, shares its sha256.
    /// - Parameters:
    ///   - model: The model's name.
    ///   - number: The version number (≥ 1).
    ///   - inUse: Called without the registry's mutex (it may take other locks) once the caller's role and the
    ///     version are checked; returns what still uses the version (for example "deployment m@2"), or nil.
    /// - Throws: `invalidArgument`, `notFound`, `permissionDenied`, `failedPrecondition` (an alias or `inUse`).
    public func deleteVersion(
        model: String,
        number: Int,
        by principal: Principal,
        inUse: (String, Int) -> String? = { _, _ in nil }
    ) throws(RegistryError) {
        try Validate.modelName(model)
        guard number >= 1 else { throw .invalidArgument("version must be a number of 1 or more, got \(number)") }
        let name = try self.withDatabase { (database) throws(RegistryError) -> String in
            try Self.deletableVersion(database, model: model, number: number, by: principal).ref.name
        }
        if let user = inUse(name, number) {
            throw .failedPrecondition(
                "version \(number) of model '\(name)' is used by \(user); undeploy it or roll it to another version first"
            )
        }
        try self.withDatabase { (database) throws(RegistryError) in
            let (ref, sha256) = try Self.deletableVersion(database, model: model, number: number, by: principal)
            try database.transaction { () throws(RegistryError) in
                try database.execute("DELETE FROM versions WHERE model_id = ? AND number = ?", ref.id, number)
            }
            try self.removeArtifactIfUnreferenced(database, sha256: sha256)
        }
    }

    /// The checks of ``deleteVersion(model:number:by:inUse:)`` that need the database: role, existence, aliases.
    private static func deletableVersion(
        _ database: Database,
        model: String,
        number: Int,
        by principal: Principal
    ) throws(RegistryError) -> (ref: ModelRef, sha256: String) {
        let ref = try database.authorize(principal, model: model, required: .owner, to: "delete a version")
        guard
            let row = try database.queryOne(
                "SELECT sha256 FROM versions WHERE model_id = ? AND number = ?", ref.id, number)
        else {
            throw .notFound("model '\(ref.name)' has no version \(number)")
        }
        let aliases = try database.query(
            "SELECT name FROM aliases WHERE model_id = ? AND version = ? ORDER BY name", ref.id, number
        ).map { $0.string(0) }
        guard aliases.isEmpty else {
            throw .failedPrecondition(
                "version \(number) of model '\(ref.name)' is the target of alias "
                    + aliases.map { "'\($0)'" }.joined(separator: ", ") + "; move or delete the alias first"
            )
        }
        let newest = try database.queryOne("SELECT MAX(number) FROM versions WHERE model_id = ?", ref.id)?
            .optionalInt64(0)
        guard newest != Int64(number) else {
            throw .failedPrecondition(
                "version \(number) of model '\(ref.name)' is the newest (the implicit alias 'latest' points at it) and "
                    + "cannot be deleted; upload a newer version first"
            )
        }
        return (ref, row.string(0))
    }

    /// Lists every version of a model, oldest first. Needs ``Role/reader``.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func listVersions(model: String, by principal: Principal) throws(RegistryError) -> [ModelVersion] {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> [ModelVersion] in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its versions")
            var versions: [ModelVersion] = []
            for row in try database.query(
                "SELECT \(Database.versionColumns) FROM versions v WHERE v.model_id = ? ORDER BY v.number",
                ref.id
            ) {
                versions.append(try Database.decodeVersion(row, model: ref.name))
            }
            return versions
        }
    }

    /// Opens a version's artifact for reading in chunks (a download). Needs ``Role/reader``.
    ///
    /// - Returns: A reader positioned at the first byte; see ``ArtifactReader``.
    /// - Throws: `notFound`, `permissionDenied`; `dataLoss` if the artifact file is missing.
    public func openArtifact(
        model: String,
        version: VersionReference,
        by principal: Principal
    ) throws(RegistryError) -> ArtifactReader {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> ArtifactReader in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "download it")
            let version = try database.loadVersion(ref, number: try database.resolve(version, in: ref))
            return try ArtifactReader(version: version, path: self.store.path(sha256: version.sha256))
        }
    }

    /// Replaces the evaluation metrics of an existing version — the only part of a version that can change — and
    /// records the change (see ``metricsHistory(model:version:by:)``). Needs ``Role/writer``.
    ///
    /// - Parameters:
    ///   - metrics: The complete new metrics; values must be finite.
    /// - Returns: The updated version.
    /// - Throws: `invalidArgument` for bad metrics, `notFound`, `permissionDenied`.
    public func setVersionMetrics(
        model: String,
        version: VersionReference,
        metrics: [String: Double],
        by principal: Principal
    ) throws(RegistryError) -> ModelVersion {
        try Validate.modelName(model)
        try Validate.metrics(metrics)
        return try self.withDatabase { (database) throws(RegistryError) -> ModelVersion in
            let ref = try database.authorize(principal, model: model, required: .writer, to: "set version metrics")
            let number = try database.resolve(version, in: ref)
            let json = try Codec.json(metrics)
            let now = Timestamp.now()
            try database.transaction { () throws(RegistryError) in
                try database.execute(
                    """
                    UPDATE versions SET metrics = ?, metrics_updated_at = ?, metrics_updated_by = ?
                    WHERE model_id = ? AND number = ?
                    """,
                    json,
                    now,
                    principal.userName,
                    ref.id,
                    number
                )
                try database.execute(
                    "INSERT INTO metrics_history (model_id, version, metrics, at, by_user) VALUES (?, ?, ?, ?, ?)",
                    ref.id,
                    number,
                    json,
                    now,
                    principal.userName
                )
            }
            return try database.loadVersion(ref, number: number)
        }
    }

    /// The recorded metrics changes of a version, oldest first (not including the metrics sent at upload).
    /// Needs ``Role/reader``.
    ///
    /// - Throws: `notFound`, `permissionDenied`.
    public func metricsHistory(
        model: String,
        version: VersionReference,
        by principal: Principal
    ) throws(RegistryError) -> [MetricsUpdate] {
        try Validate.modelName(model)
        return try self.withDatabase { (database) throws(RegistryError) -> [MetricsUpdate] in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its versions")
            let number = try database.resolve(version, in: ref)
            var updates: [MetricsUpdate] = []
            for row in try database.query(
                "SELECT metrics, at, by_user FROM metrics_history WHERE model_id = ? AND version = ? ORDER BY id",
                ref.id,
                number
            ) {
                updates.append(
                    MetricsUpdate(
                        model: ref.name,
                        version: number,
                        metrics: try Codec.doubleMap(row.string(0), column: "metrics_history.metrics"),
                        at: Timestamp.date(row.int64(1)),
                        by: row.string(2)
                    )
                )
            }
            return updates
        }
    }
}
