/// The registry tables that are replicated, read from the schema: every table of `registry.sqlite` with a declared
/// primary key (since schema 5, all of them), with its columns in table order and which of them form the key.
struct ReplicatedTables: Sendable {
    struct Table: Sendable {
        var name: String
        var columns: [String]
        /// Indexes into ``columns`` of the primary key, in column order (the order sessions report them in).
        var primaryKey: [Int]
    }

    var tables: [String: Table]

    /// The tables in name order (stable keys and seeds).
    var ordered: [Table] { tables.values.sorted { $0.name < $1.name } }

    static func load(_ database: Database) throws(RegistryError) -> ReplicatedTables {
        var tables: [String: Table] = [:]
        let names = try database.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        for row in names {
            let name = row.string(0)
            // pragma table_info: cid, name, type, notnull, dflt_value, pk (1-based position in the key, 0 if none).
            let info = try database.query("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", name)
            let columns = info.map { $0.string(0) }
            let primaryKey = info.indices.filter { info[$0].int64(1) > 0 }
            guard !primaryKey.isEmpty else { continue }
            tables[name] = Table(name: name, columns: columns, primaryKey: primaryKey)
        }
        return ReplicatedTables(tables: tables)
    }

    func table(_ name: String) throws(RegistryError) -> Table {
        guard let table = tables[name] else { throw .dataLoss("replicated row of an unknown table '\(name)'") }
        return table
    }
}

extension ReplicatedTables.Table {
    /// `"a" = ? AND "b" = ?` over the primary key.
    var keyPredicate: String {
        primaryKey.map { "\(Self.quote(columns[$0])) = ?" }.joined(separator: " AND ")
    }

    var quotedName: String { Self.quote(name) }

    func selectByKey() -> String { "SELECT * FROM \(quotedName) WHERE \(keyPredicate)" }

    func deleteByKey() -> String { "DELETE FROM \(quotedName) WHERE \(keyPredicate)" }

    /// `INSERT OR REPLACE` of the first `count` columns (a row from an older schema has fewer).
    func upsert(count: Int) -> String {
        let names = columns.prefix(count).map(Self.quote).joined(separator: ", ")
        let marks = Array(repeating: "?", count: count).joined(separator: ", ")
        return "INSERT OR REPLACE INTO \(quotedName) (\(names)) VALUES (\(marks))"
    }

    func key(of row: Row) -> String {
        RegistryRowCodec.key(table: name, primaryKey: primaryKey.map { row.values[$0] })
    }

    /// Names come from the schema, never from input; quoted all the same.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}

/// Hands each replicated write transaction's rows to a ``RegistryReplication``: the session's changed rows become
/// keys, and each inserted or updated row is read whole (inside the transaction) and encoded.
struct ChangeRecorder {
    var hook: any RegistryReplication
    var tables: ReplicatedTables

    func replicate(_ rows: [ChangedRow], from database: Database) throws(RegistryError) {
        let changes = try Self.changes(rows, tables: tables, database: database)
        guard !changes.isEmpty else { return }
        try hook.replicate(changes)
    }

    static func changes(
        _ rows: [ChangedRow], tables: ReplicatedTables, database: Database
    ) throws(RegistryError) -> [RegistryRowChange] {
        var changes: [RegistryRowChange] = []
        for row in rows {
            guard let table = tables.tables[row.table] else { continue }
            let key = RegistryRowCodec.key(table: table.name, primaryKey: row.primaryKey)
            if row.operation == .delete {
                changes.append(RegistryRowChange(key: key, value: nil))
                continue
            }
            let current = try database.query(table.selectByKey(), bindings: row.primaryKey)
            changes.append(RegistryRowChange(key: key, value: current.first.map { RegistryRowCodec.encode($0.values) }))
        }
        return changes
    }
}

extension Database {
    /// Every row of every replicated table (a seed of the replication store).
    func replicatedRows(_ tables: ReplicatedTables) throws(RegistryError) -> [RegistryRowChange] {
        var rows: [RegistryRowChange] = []
        for table in tables.ordered {
            for row in try self.query("SELECT * FROM \(table.quotedName)") {
                rows.append(RegistryRowChange(key: table.key(of: row), value: RegistryRowCodec.encode(row.values)))
            }
        }
        return rows
    }

    /// Applies replicated changes as they are: puts become `INSERT OR REPLACE`, deletions `DELETE`, with foreign
    /// keys off (the replica mirrors the leader's rows; their consistency is the leader's, and a cascade here would
    /// delete rows the changes keep). With `replacingAll`, every replicated table is emptied first.
    func applyReplicated(
        _ changes: [RegistryRowChange], tables: ReplicatedTables, replacingAll: Bool
    ) throws(RegistryError) {
        try self.executeScript("PRAGMA foreign_keys = OFF")
        defer { try? self.executeScript("PRAGMA foreign_keys = ON") }
        try self.transaction { () throws(RegistryError) in
            if replacingAll {
                for table in tables.ordered { try self.execute("DELETE FROM \(table.quotedName)") }
            }
            for change in changes {
                guard let (name, key) = RegistryRowCodec.parseKey(change.key) else {
                    throw .dataLoss("replicated key '\(change.key)' is not TABLE/KEY…")
                }
                let table = try tables.table(name)
                guard key.count == table.primaryKey.count else {
                    throw .dataLoss("replicated key '\(change.key)' has \(key.count) key values, \(name) has \(table.primaryKey.count)")
                }
                guard let value = change.value else {
                    _ = try self.query(table.deleteByKey(), bindings: key)
                    continue
                }
                let values = try RegistryRowCodec.decode(value)
                guard !values.isEmpty, values.count <= table.columns.count else {
                    throw .dataLoss("replicated row '\(change.key)' has \(values.count) values, \(name) has \(table.columns.count) columns")
                }
                _ = try self.query(table.upsert(count: values.count), bindings: values)
            }
        }
    }
}
