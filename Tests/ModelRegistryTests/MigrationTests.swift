import Foundation
import Testing

@testable import ModelRegistry

@Suite("Schema migrations on existing databases")
struct MigrationTests {
    /// A data directory as a schema-1 build leaves it: the registry opened with migrations only up to 1, a model and
    /// a version written through the API (their tables are unchanged), and an alias move written with exactly the
    /// statements the schema-1 code used (its `alias_history` has no `reason`).
    static func makeSchema1Directory() throws -> (directory: String, bytes: [UInt8]) {
        let directory = NSTemporaryDirectory() + "aimass-registry-v1-" + UUID().uuidString
        let registry = try ModelRegistry.open(
            dataDirectory: directory,
            configuration: .defaults,
            schemaVersion: 1
        )
        #expect(registry.recovery.appliedMigrations == [1])
        // Not through a token: authentication reads the token columns of the current schema.
        let admin = try registry.principal(forUser: "admin")
        _ = try registry.createModel(Model(name: "m"), by: admin)
        let bytes = artifact(1000, seed: 7)
        let upload = try registry.beginUpload(
            model: "m",
            header: VersionHeader(sizeBytes: Int64(bytes.count), sha256: sha256(bytes)),
            by: admin
        )
        try upload.append(bytes)
        _ = try upload.finish()
        try registry.withDatabase { (database) throws(RegistryError) in
            #expect(try Migrations.userVersion(database) == 1)
            let columns = try database.query("SELECT name FROM pragma_table_info('alias_history')").map { $0.string(0) }
            #expect(!columns.contains("reason"))
            try database.transaction { () throws(RegistryError) in
                try database.execute(
                    """
                    INSERT INTO aliases (model_id, name, version, updated_at, updated_by)
                    SELECT id, 'production', 1, 1700000000000, 'admin' FROM models WHERE name = 'm'
                    """
                )
                try database.execute(
                    """
                    INSERT INTO alias_history (model_id, alias, old_version, new_version, at, by_user)
                    SELECT id, 'production', NULL, 1, 1700000000000, 'admin' FROM models WHERE name = 'm'
                    """
                )
            }
        }
        registry.close()
        return (directory, bytes)
    }

    @Test("A schema-1 directory is migrated on open: old moves get an empty reason, new ones keep theirs; old tokens still work")
    func schema1To2() throws {
        let (directory, bytes) = try Self.makeSchema1Directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let registry = try ModelRegistry.open(dataDirectory: directory)
        defer { registry.close() }
        #expect(registry.recovery.appliedMigrations == [2, 3, 4, 5])
        #expect(!registry.recovery.createdAdmin)
        let userVersion = try registry.withDatabase { (database) throws(RegistryError) -> Int in
            try Migrations.userVersion(database)
        }
        #expect(userVersion == Migrations.latestVersion)
        #expect(Migrations.latestVersion == 5)

        let admin = try registry.authenticate(token: try Fixture.adminToken(in: directory))
        let old = try registry.aliasHistory(model: "m", by: admin)
        #expect(old.count == 1)
        #expect(old.first?.toVersion == 1 && old.first?.fromVersion == nil && old.first?.by == "admin")
        #expect(old.first?.reason == "")
        #expect(try registry.getVersion(model: "m", "production", by: admin).number == 1)

        // Everything else survived, and the new column is written from now on.
        let reader = try registry.openArtifact(model: "m", version: 1, by: admin)
        var read: [UInt8] = []
        while true {
            let chunk = try reader.read(upTo: 4096)
            if chunk.isEmpty { break }
            read += chunk
        }
        #expect(read == bytes)
        try registry.deleteAlias(model: "m", alias: "production", reason: "after upgrade", by: admin)
        #expect(try registry.aliasHistory(model: "m", by: admin).map(\.reason) == ["", "after upgrade"])
    }

    @Test("Re-opening a current directory applies nothing")
    func idempotent() throws {
        let (directory, _) = try Self.makeSchema1Directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ModelRegistry.open(dataDirectory: directory).close()
        let again = try ModelRegistry.open(dataDirectory: directory)
        defer { again.close() }
        #expect(again.recovery.appliedMigrations.isEmpty)
    }
}
