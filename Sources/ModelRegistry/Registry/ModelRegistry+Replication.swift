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
