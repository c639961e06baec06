import Testing

@testable import ModelRegistry

/// The access rules the control plane pushes to workers, read from the registry.
@Suite("Access snapshot")
struct AccessSnapshotTests {
    @Test("Tokens by hash, readers direct and through groups, aliases and the latest version; a write moves the generation")
    func snapshot() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let owner = try fixture.user("olga")
        _ = try registry.createModel(Model(name: "m"), by: owner)
        try fixture.upload(artifact(100), to: "m", by: owner)
        try fixture.upload(artifact(100, seed: 2), to: "m", by: owner)
        _ = try registry.setAlias(model: "m", alias: "production", version: .number(1), by: owner)
        try registry.createUser("bob", by: fixture.admin)
        let bob = try registry.createToken(for: "bob", by: fixture.admin)
        try registry.createUser("ana", by: fixture.admin)
        try registry.createGroup("analysts", by: fixture.admin)
        try registry.addToGroup(user: "ana", group: "analysts", by: fixture.admin)
        try registry.setPermission(model: "m", grantee: .user("bob"), role: .reader, by: owner)
        try registry.setPermission(model: "m", grantee: .group("analysts"), role: .writer, by: owner)

        let before = registry.dataGeneration
        let snapshot = try registry.accessSnapshot()
        let model = try #require(snapshot.models.first { $0.name == "m" })
        #expect(model.readers == ["ana", "bob", "olga"])
        #expect(model.aliases == ["production": 1])
        #expect(model.latestVersion == 2)
        let bobHash = try Tokens.hash(bob.token)
        #expect(snapshot.tokens.contains { $0.sha256 == bobHash && $0.user == "bob" && !$0.isAdmin })
        #expect(snapshot.tokens.contains { $0.user == "admin" && $0.isAdmin })
        #expect(!snapshot.tokens.contains { $0.sha256 == bob.token })  // hashes only

        try registry.revokeToken(bob.token, by: fixture.admin)
        #expect(registry.dataGeneration != before)
        #expect(!(try registry.accessSnapshot()).tokens.contains { $0.sha256 == bobHash })
    }
}
