extension ModelRegistry {
    /// Every row of every replicated table, as a replication store's seed (the first leader of an empty etcd
    /// prefix writes its registry there).
    public func replicatedRows() throws(RegistryError) -> [RegistryRowChange] {
        try self.withDatabase(invalidatingCaches: false, replicated: false) { (database) throws(RegistryError) in
            try database.replicatedRows(self.replicatedTables)
        }
    }

    /// Applies changes read from the replication store (a watch's puts and deletes), in one transaction.
    public func applyReplicated(_ changes: [RegistryRowChange]) throws(RegistryError) {
        try self.withDatabase(invalidatingCaches: true, replicated: false) { (database) throws(RegistryError) in
            try database.applyReplicated(changes, tables: self.replicatedTables, replacingAll: false)
        }
    }

    /// Replaces every replicated row with `rows` (the replication store's whole content), in one transaction.
    public func replaceReplicated(with rows: [RegistryRowChange]) throws(RegistryError) {
        try self.withDatabase(invalidatingCaches: true, replicated: false) { (database) throws(RegistryError) in
            try database.applyReplicated(rows, tables: self.replicatedTables, replacingAll: true)
        }
    }

    /// Creates the `admin` user and `DATADIR/admin.token` if the registry has no user (what opening does unless
    /// ``Configuration/createAdminUser`` is off): the control plane that seeds etcd calls it first.
    /// - Returns: Whether the admin was created.
    @discardableResult
    public func createAdminIfNeeded() throws(RegistryError) -> Bool {
        try self.withDatabase(invalidatingCaches: true, replicated: false) { (database) throws(RegistryError) in
            try Bootstrap.createAdminIfNeeded(database, layout: self.layout, logger: self.logger)
        }
    }
}

extension ModelRegistry {
    /// Records in `DATADIR/replica-of` that this registry is a copy of the rows under the etcd prefix `prefix`: what
    /// is written to the local database alone (an offline command) is lost at the copy's next reload, so the
    /// offline commands refuse such a directory (``replicatedPrefix(dataDirectory:)``).
    public func markReplica(of prefix: String) throws(RegistryError) {
        try FileSystem.writeFileAtomically(self.layout.replicaMarkerPath, bytes: Array((prefix + "\n").utf8), mode: 0o644)
    }

    /// The etcd prefix whose registry the data directory holds a copy of (see ``markReplica(of:)``), or nil for a
    /// registry of its own.
    public static func replicatedPrefix(dataDirectory: String) -> String? {
        let path = DataDirectory(dataDirectory).replicaMarkerPath
        guard FileSystem.exists(path), let bytes = try? FileSystem.readFile(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}
