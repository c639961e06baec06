/// One step of the schema history: applied once, in its own transaction, together with `PRAGMA user_version = n`.
struct Migration: Sendable {
    /// The schema version this step produces; steps are numbered 1, 2, 3 … without gaps.
    var version: Int
    var summary: String
    var sql: String
}

/// The ordered list of schema migrations. Append new steps; never edit one that has shipped.
enum Migrations {
    static let all: [Migration] = [
        Migration(version: 1, summary: "initial schema", sql: SchemaV1.sql),
        Migration(version: 2, summary: "alias_history.reason", sql: SchemaV2.sql),
        Migration(version: 3, summary: "token expiry, scope and last use; audit log", sql: SchemaV3.sql),
        Migration(version: 4, summary: "alias A/B splits", sql: SchemaV4.sql),
        Migration(version: 5, summary: "permissions.id primary key (for replication)", sql: SchemaV5.sql),
    ]

    /// The schema version this build writes.
    static var latestVersion: Int { self.all.last?.version ?? 0 }

    /// Brings the database at `database` up to ``latestVersion`` (or to `target`, which tests use to build a
    /// database as an older build left it).
    ///
    /// Each pending step runs in one `BEGIN IMMEDIATE` transaction that also sets `PRAGMA user_version`, so a crash
    /// leaves the schema at either the old or the new version, never in between.
    /// - Returns: The versions that were applied.
    /// - Throws: `failedPrecondition` if the file was written by a newer build (its `user_version` is higher).
    @discardableResult
    static func migrate(_ database: Database, to target: Int = Migrations.latestVersion) throws(RegistryError) -> [Int] {
        let current = try self.userVersion(database)
        guard current <= self.latestVersion else {
            throw .failedPrecondition(
                "registry database \(database.path) has schema version \(current), newer than this build supports "
                    + "(\(self.latestVersion))"
            )
        }
        var applied: [Int] = []
        for migration in self.all where migration.version > current && migration.version <= target {
            try database.transaction { () throws(RegistryError) in
                try database.executeScript(migration.sql)
                // PRAGMA user_version writes the database header inside the same transaction.
                try database.executeScript("PRAGMA user_version = \(migration.version)")
            }
            applied.append(migration.version)
        }
        return applied
    }

    static func userVersion(_ database: Database) throws(RegistryError) -> Int {
        try database.queryOne("PRAGMA user_version")?.int(0) ?? 0
    }
}
