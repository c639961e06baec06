import Testing

@testable import ModelRegistry

@Suite("Users, groups, tokens and roles")
struct PermissionTests {
    @Test("Permission matrix: reader, writer, owner, admin, none")
    func matrix() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let owner = try fixture.user("owner")
        let writer = try fixture.user("writer")
        let reader = try fixture.user("reader")
        let stranger = try fixture.user("stranger")
        let admin2 = try fixture.user("root2", isAdmin: true)
        _ = try registry.createModel(Model(name: "m"), by: owner)
        try registry.setPermission(model: "m", grantee: .user("writer"), role: .writer, by: owner)
        try registry.setPermission(model: "m", grantee: .user("reader"), role: .reader, by: owner)
        let bytes = artifact(64)
        let header = VersionHeader(sizeBytes: 64, sha256: sha256(bytes))
        try fixture.upload(bytes, to: "m", by: writer)

        // Stranger: nothing.
        #expect(errorCode { _ = try registry.getModel("m", by: stranger) } == .permissionDenied)
        #expect(errorCode { _ = try registry.listVersions(model: "m", by: stranger) } == .permissionDenied)
        #expect(try registry.listModels(by: stranger).models.isEmpty)

        // Reader: read and download, but not upload, edit, alias, grant.
        #expect(errorCode { _ = try registry.getModel("m", by: reader) } == nil)
        #expect(try fixture.download("m", 1, by: reader) == bytes)
        let uploadMessage = errorMessage { _ = try registry.beginUpload(model: "m", header: header, by: reader) }
        #expect(uploadMessage?.contains("needs role writer") == true)
        #expect(errorCode { _ = try registry.beginUpload(model: "m", header: header, by: reader) } == .permissionDenied)
        #expect(
            errorCode { _ = try registry.updateModel("m", with: Model(name: "m"), fieldMask: ["description"], by: reader) }
                == .permissionDenied
        )
        #expect(errorCode { try registry.setAlias(model: "m", alias: "prod", version: 1, by: reader) } == .permissionDenied)
        #expect(errorCode { try registry.checkRole(reader, model: "m", required: .writer) } == .permissionDenied)
        #expect(errorCode { try registry.checkRole(reader, model: "m", required: .reader) } == nil)
        // Readers may see who has access (changing it needs owner).
        #expect(try registry.getPermissions(model: "m", by: reader).count == 3)
        #expect(
            errorCode { try registry.setPermission(model: "m", grantee: .user("reader"), role: .owner, by: reader) }
                == .permissionDenied
        )

        // Writer: upload, edit, alias, metrics; not grant, not delete, not rename.
        #expect(errorCode { try registry.setAlias(model: "m", alias: "prod", version: 1, by: writer) } == nil)
        #expect(
            errorCode { _ = try registry.setVersionMetrics(model: "m", version: 1, metrics: ["a": 1], by: writer) } == nil
        )
        let grantMessage = errorMessage {
            try registry.setPermission(model: "m", grantee: .user("stranger"), role: .reader, by: writer)
        }
        #expect(grantMessage?.contains("needs role owner") == true)
        #expect(errorCode { _ = try registry.getPermissions(model: "m", by: writer) } == nil)
        #expect(errorCode { _ = try registry.getPermissions(model: "m", by: stranger) } == .permissionDenied)
        #expect(errorCode { try registry.deleteModel("m", by: writer) } == .permissionDenied)
        #expect(
            errorCode { _ = try registry.updateModel("m", with: Model(name: "renamed"), fieldMask: ["name"], by: writer) }
                == .permissionDenied
        )

        // Owner: grant.
        try registry.setPermission(model: "m", grantee: .user("stranger"), role: .reader, by: owner)
        #expect(errorCode { _ = try registry.getModel("m", by: stranger) } == nil)
        try registry.setPermission(model: "m", grantee: .user("stranger"), role: nil, by: owner)
        #expect(errorCode { _ = try registry.getModel("m", by: stranger) } == .permissionDenied)

        // A model keeps at least one owner.
        #expect(
            errorCode { try registry.setPermission(model: "m", grantee: .user("owner"), role: .writer, by: owner) }
                == .failedPrecondition
        )

        // Admin (even one who never got a grant): everything.
        #expect(try registry.role(of: admin2, model: "m") == .owner)
        try fixture.upload(artifact(10), to: "m", by: admin2)
        try registry.setPermission(model: "m", grantee: .user("stranger"), role: .owner, by: admin2)
        #expect(try registry.getPermissions(model: "m", by: admin2).count == 4)
        try registry.deleteModel("m", by: admin2)
    }

    @Test("Only admins manage users and groups")
    func adminOnly() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let alice = try fixture.user("alice")
        #expect(errorCode { try registry.createUser("eve", by: alice) } == .permissionDenied)
        #expect(errorCode { try registry.createGroup("team", by: alice) } == .permissionDenied)
        #expect(errorCode { try registry.setAdmin("alice", isAdmin: true, by: alice) } == .permissionDenied)
        #expect(errorCode { _ = try registry.createToken(for: "admin", by: alice) } == .permissionDenied)
        #expect(errorCode { _ = try registry.listUsers(by: alice) } == .permissionDenied)
        #expect(errorCode { try registry.setAdmin("admin", isAdmin: false, by: fixture.admin) } == .failedPrecondition)
        // Anyone may create a model, and tokens for themselves.
        _ = try registry.createModel(Model(name: "alices"), by: alice)
        let own = try registry.createToken(for: "alice", label: "laptop", by: alice)
        #expect(try registry.authenticate(token: own.token).userName == "alice")
        #expect(try registry.listUsers(by: fixture.admin).map(\.name) == ["admin", "alice"])
    }

    @Test("A group's role applies to its members")
    func groups() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let owner = try fixture.user("owner")
        let carol = try fixture.user("carol")
        _ = try registry.createModel(Model(name: "m"), by: owner)
        try registry.createGroup("ranking", by: fixture.admin)
        try registry.setPermission(model: "m", grantee: .group("ranking"), role: .writer, by: owner)
        #expect(errorCode { _ = try registry.getModel("m", by: carol) } == .permissionDenied)

        try registry.addToGroup(user: "carol", group: "ranking", by: fixture.admin)
        #expect(try registry.role(of: carol, model: "m") == .writer)
        try fixture.upload(artifact(10), to: "m", by: carol)
        #expect(try registry.listModels(by: carol).models.map(\.name) == ["m"])
        #expect(try registry.getGroup("ranking", by: carol).members == ["carol"])
        #expect(try registry.getUser("carol", by: carol).groups == ["ranking"])

        // A direct grant and a group grant: the higher wins.
        try registry.setPermission(model: "m", grantee: .user("carol"), role: .reader, by: owner)
        #expect(try registry.role(of: carol, model: "m") == .writer)

        try registry.removeFromGroup(user: "carol", group: "ranking", by: fixture.admin)
        #expect(try registry.role(of: carol, model: "m") == .reader)
        #expect(errorCode { try registry.removeFromGroup(user: "carol", group: "ranking", by: fixture.admin) } == .notFound)

        let permissions = try registry.getPermissions(model: "m", by: owner)
        #expect(permissions.map(\.grantee) == [.user("carol"), .user("owner"), .group("ranking")])
        #expect(
            errorCode { try registry.setPermission(model: "m", grantee: .group("nope"), role: .reader, by: owner) }
                == .notFound
        )
    }

    @Test("Tokens: stored hashed, revoked tokens and unknown tokens are unauthenticated")
    func tokens() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        try registry.createUser("dave", by: fixture.admin)
        let first = try registry.createToken(for: "dave", label: "ci", by: fixture.admin)
        let second = try registry.createToken(for: "dave", by: fixture.admin)
        #expect(first.token != second.token)
        #expect(first.token.hasPrefix("aimass_"))
        let dave = try registry.authenticate(token: first.token)
        #expect(dave.userName == "dave")
        #expect(!dave.isAdmin)

        #expect(errorCode { _ = try registry.authenticate(token: "aimass_nope") } == .unauthenticated)
        #expect(errorCode { _ = try registry.authenticate(token: "") } == .unauthenticated)

        try registry.revokeToken(first.token, by: dave)
        #expect(errorCode { _ = try registry.authenticate(token: first.token) } == .unauthenticated)
        #expect(errorCode { _ = try registry.authenticate(token: second.token) } == nil)
        try registry.revokeToken(id: second.id, by: fixture.admin)
        #expect(errorCode { _ = try registry.authenticate(token: second.token) } == .unauthenticated)

        let listed = try registry.listTokens(for: "dave", by: fixture.admin)
        #expect(listed.map(\.label) == ["ci", ""])
        #expect(listed.allSatisfy { $0.revokedAt != nil })

        // The plaintext never reaches the database file.
        let database = try FileSystem.readFile(fixture.directory + "/registry.sqlite")
            + ((try? FileSystem.readFile(fixture.directory + "/registry.sqlite-wal")) ?? [])
        let needle = Array(first.token.utf8)
        #expect(!database.indices.dropLast(needle.count).contains { database[$0..<$0 + needle.count].elementsEqual(needle) })
    }
}
