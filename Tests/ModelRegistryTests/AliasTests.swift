import Testing

@testable import ModelRegistry

@Suite("Aliases, history and rollback")
struct AliasTests {
    @Test("Set, resolve, move, roll back, delete; every move recorded")
    func aliasLifecycle() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let alice = try fixture.user("alice")
        let bob = try fixture.user("bob")
        _ = try registry.createModel(Model(name: "m"), by: alice)
        try registry.setPermission(model: "m", grantee: .user("bob"), role: .writer, by: alice)
        for seed in 1...3 { try fixture.upload(artifact(100, seed: UInt64(seed)), to: "m", by: alice) }

        let created = try registry.setAlias(model: "m", alias: "production", version: 1, by: alice)
        #expect(created.fromVersion == nil)
        #expect(created.toVersion == 1)
        #expect(try registry.getVersion(model: "m", "production", by: alice).number == 1)
        #expect(try registry.getVersion(model: "m", VersionReference(parsing: "production"), by: alice).number == 1)

        try registry.setAlias(model: "m", alias: "production", version: 2, by: bob)
        try registry.setAlias(model: "m", alias: "staging", version: 3, by: alice)
        // Promote what staging points at.
        try registry.setAlias(model: "m", alias: "production", version: "staging", by: bob)
        #expect(try registry.getVersion(model: "m", "production", by: alice).number == 3)
        #expect(try registry.getVersion(model: "m", 3, by: alice).aliases == ["production", "staging"])

        // No-op moves are not recorded.
        try registry.setAlias(model: "m", alias: "production", version: 3, by: bob)

        let rollback = try registry.rollbackAlias(model: "m", alias: "production", by: alice)
        #expect(rollback.fromVersion == 3)
        #expect(rollback.toVersion == 2)
        #expect(try registry.getVersion(model: "m", "production", by: alice).number == 2)

        let history = try registry.aliasHistory(model: "m", alias: "production", by: alice)
        #expect(history.map(\.fromVersion) == [nil, 1, 2, 3])
        #expect(history.map(\.toVersion) == [1, 2, 3, 2])
        #expect(history.map(\.by) == ["alice", "bob", "bob", "alice"])
        #expect(try registry.aliasHistory(model: "m", by: alice).count == 5)

        #expect(try registry.listAliases(model: "m", by: alice).map(\.name) == ["production", "staging"])
        try registry.deleteAlias(model: "m", alias: "staging", by: alice)
        #expect(errorCode { _ = try registry.getVersion(model: "m", "staging", by: alice) } == .notFound)
        // Rolling back a deletion brings the alias back.
        try registry.rollbackAlias(model: "m", alias: "staging", by: alice)
        #expect(try registry.getVersion(model: "m", "staging", by: alice).number == 3)
    }

    @Test("The reason of every move is stored and returned by the history")
    func reasons() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "m"), by: admin)
        for seed in 1...2 { try fixture.upload(artifact(100, seed: UInt64(seed)), to: "m", by: admin) }

        let first = try registry.setAlias(model: "m", alias: "production", version: 1, by: admin)
        #expect(first.reason == "")
        let second = try registry.setAlias(
            model: "m", alias: "production", version: 2, reason: "promote: ndcg +3%", by: admin)
        #expect(second.reason == "promote: ndcg +3%")
        try registry.rollbackAlias(model: "m", alias: "production", reason: "rollback: latency\ndoubled", by: admin)
        try registry.deleteAlias(model: "m", alias: "production", reason: "retired", by: admin)
        #expect(
            try registry.aliasHistory(model: "m", alias: "production", by: admin).map(\.reason)
                == ["", "promote: ndcg +3%", "rollback: latency\ndoubled", "retired"]
        )
        // A reopened registry finds the reasons.
        let reopened = try fixture.reopen()
        #expect(try reopened.aliasHistory(model: "m", by: fixture.admin).map(\.reason).last == "retired")

        try fixture.registry.setAlias(model: "m", alias: "staging", version: 1, by: fixture.admin)
        for bad in ["bell\u{7}", String(repeating: "x", count: 16 * 1024 + 1)] {
            #expect(
                errorCode {
                    try fixture.registry.setAlias(model: "m", alias: "staging", version: 2, reason: bad, by: fixture.admin)
                } == .invalidArgument
            )
        }
        #expect(try fixture.registry.getVersion(model: "m", "staging", by: fixture.admin).number == 1)
    }

    @Test("Alias errors")
    func aliasErrors() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "m"), by: admin)
        try fixture.upload(artifact(10), to: "m", by: admin)
        for bad in ["", "1", "9lives", "latest", "a/b", "a,b", String(repeating: "a", count: 65)] {
            #expect(errorCode { try registry.setAlias(model: "m", alias: bad, version: 1, by: admin) } == .invalidArgument)
        }
        #expect(errorCode { try registry.setAlias(model: "m", alias: "prod", version: 2, by: admin) } == .notFound)
        #expect(errorCode { try registry.rollbackAlias(model: "m", alias: "prod", by: admin) } == .notFound)
        try registry.setAlias(model: "m", alias: "prod", version: 1, by: admin)
        #expect(errorCode { try registry.rollbackAlias(model: "m", alias: "prod", by: admin) } == .failedPrecondition)
        #expect(errorCode { try registry.deleteAlias(model: "m", alias: "nope", by: admin) } == .notFound)
    }
}
