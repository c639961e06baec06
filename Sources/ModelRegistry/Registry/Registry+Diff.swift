extension ModelRegistry {
    /// What changed from version `a` to version `b` of a model. Needs ``Role/reader``.
    ///
    /// Compares the metadata fields, each key of `manifest`, `annotations` and `metrics`, the dependency list, and
    /// the artifact's size and hash. The order is fixed: metadata fields, then `manifest.*`, `annotations.*` and
    /// `metrics.*` (keys sorted), then `size_bytes` and `sha256`. Empty when nothing differs (upload time and
    /// uploader are not compared).
    ///
    /// ```swift
    /// for change in try registry.diffVersions(model: "movies", from: 1, to: 2, by: alice) {
    ///     print(change.field, change.old ?? "-", change.new ?? "-")   // manifest.neighbours 20 50
    /// }
    /// ```
    /// - Throws: `notFound` for an unknown model, version or alias; `permissionDenied`.
    public func diffVersions(
        model: String,
        from a: VersionReference,
        to b: VersionReference,
        by principal: Principal
    ) throws(RegistryError) -> [VersionChange] {
        try Validate.modelName(model)
        let (old, new) = try self.withDatabase { (database) throws(RegistryError) -> (ModelVersion, ModelVersion) in
            let ref = try database.authorize(principal, model: model, required: .reader, to: "read its versions")
            return (
                try database.loadVersion(ref, number: try database.resolve(a, in: ref)),
                try database.loadVersion(ref, number: try database.resolve(b, in: ref))
            )
        }
        return Self.diff(old, new)
    }

    static func diff(_ old: ModelVersion, _ new: ModelVersion) -> [VersionChange] {
        var changes: [VersionChange] = []
        func scalar(_ field: String, _ a: String, _ b: String) {
            if a != b { changes.append(VersionChange(field: field, old: a, new: b)) }
        }
        func map(_ field: String, _ a: [String: String], _ b: [String: String]) {
            for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
                changes.append(VersionChange(field: "\(field).\(key)", old: a[key], new: b[key]))
            }
        }
        scalar("description", old.description, new.description)
        scalar("author", old.author, new.author)
        scalar("input_schema", old.inputSchema, new.inputSchema)
        scalar("output_schema", old.outputSchema, new.outputSchema)
        scalar("dependencies", old.dependencies.joined(separator: ", "), new.dependencies.joined(separator: ", "))
        map("manifest", old.manifest, new.manifest)
        map("annotations", old.annotations, new.annotations)
        map("metrics", old.metrics.mapValues { "\($0)" }, new.metrics.mapValues { "\($0)" })
        scalar("size_bytes", "\(old.sizeBytes)", "\(new.sizeBytes)")
        scalar("sha256", old.sha256, new.sha256)
        return changes
    }
}
