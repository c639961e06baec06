import Foundation
import Testing

@testable import ModelRegistry

/// The access cache (token → principal; (user, model, question) → version or refusal) on a real registry: every
/// write through the registry applies to the very next call, hits never enter the database, and the tables stay
/// within their bound.
@Suite("Access cache")
struct AccessCacheTests {
    /// A registry with user `alice` (token `aliceToken`), model `m` with versions 1 and 2, alias `prod` on 1,
    /// and alice a reader of `m` through the group `readers`.
    struct World {
        let fixture: Fixture
        let alice: Principal
        let aliceToken: IssuedToken
        var registry: ModelRegistry { self.fixture.registry }
        var admin: Principal { self.fixture.admin }

        init(caching: ModelRegistry.Configuration.AccessCaching = .defaults) throws {
            self.fixture = try Fixture(
                configuration: .defaults {
                    $0.accessCaching = caching
                }
            )
            let registry = self.fixture.registry
            let admin = self.fixture.admin
            try registry.createUser("alice", by: admin)
            self.aliceToken = try registry.createToken(for: "alice", by: admin)
            self.alice = try registry.authenticate(token: self.aliceToken.token)
            _ = try registry.createModel(Model(name: "m"), by: admin)
            try self.fixture.upload(artifact(100, seed: 1), to: "m", by: admin)
            try self.fixture.upload(artifact(100, seed: 2), to: "m", by: admin)
            try registry.setAlias(model: "m", alias: "prod", version: 1, by: admin)
            try registry.createGroup("readers", by: admin)
            try registry.addToGroup(user: "alice", group: "readers", by: admin)
            try registry.setPermission(model: "m", grantee: .group("readers"), role: .reader, by: admin)
        }

        /// What an inference call asks: who the token is, then which version the reference names.
        func call(_ reference: VersionReference = .alias("prod")) throws -> Int {
            let principal = try self.registry.authenticate(token: self.aliceToken.token)
            return try self.registry.getVersion(model: "m", reference, by: principal).number
        }

        var databaseEntries: Int { self.registry.databaseEntries.load(ordering: .relaxed) }
    }

    @Test("Repeated calls are answered without entering the database")
    func hitsSkipTheDatabase() throws {
        let world = try World()
        #expect(try world.call() == 1)
        try world.registry.checkRole(world.alice, model: "m", required: .reader)
        #expect(throws: RegistryError.self) { try world.registry.checkRole(world.alice, model: "m", required: .writer) }
        let entries = world.databaseEntries
        for _ in 0..<100 {
            #expect(try world.call() == 1)
            try world.registry.checkRole(world.alice, model: "m", required: .reader)
            // A cached refusal is answered from the cache too.
            let denied = errorCode { try world.registry.checkRole(world.alice, model: "m", required: .writer) }
            #expect(denied == .permissionDenied)
        }
        #expect(world.databaseEntries == entries)
    }

    @Test("Without the cache (or with a zero TTL) every call enters the database")
    func disabledOrExpiredCacheReadsTheDatabase() throws {
        for caching in [ModelRegistry.Configuration.AccessCaching.disabled, .init(ttl: .zero)] {
            let world = try World(caching: caching)
            _ = try world.call()
            let entries = world.databaseEntries
            for _ in 0..<10 { #expect(try world.call() == 1) }
            #expect(world.databaseEntries == entries + 20)
        }
    }

    @Test("A revoked token is refused on the very next call")
    func revokedToken() throws {
        let world = try World()
        #expect(try world.call() == 1)
        try world.registry.revokeToken(id: world.aliceToken.id, by: world.admin)
        #expect(errorCode { _ = try world.call() } == .unauthenticated)
        // A new token works at once, too.
        let fresh = try world.registry.createToken(for: "alice", by: world.admin)
        #expect(try world.registry.authenticate(token: fresh.token).userName == world.alice.userName)
    }

    @Test("A removed permission is refused on the very next call, directly or through a group")
    func removedPermission() throws {
        let world = try World()
        #expect(try world.call() == 1)
        try world.registry.checkRole(world.alice, model: "m", required: .reader)
        try world.registry.removeFromGroup(user: "alice", group: "readers", by: world.admin)
        #expect(errorCode { _ = try world.call() } == .permissionDenied)
        #expect(errorCode { try world.registry.checkRole(world.alice, model: "m", required: .reader) } == .permissionDenied)

        // A cached refusal does not outlive a grant either.
        try world.registry.setPermission(model: "m", grantee: .user("alice"), role: .reader, by: world.admin)
        #expect(try world.call() == 1)
        try world.registry.setPermission(model: "m", grantee: .user("alice"), role: nil, by: world.admin)
        #expect(errorCode { _ = try world.call() } == .permissionDenied)
    }

    @Test("A moved alias, a new version and a deleted model are seen on the very next call")
    func resolutionFollowsWrites() throws {
        let world = try World()
        #expect(try world.call() == 1)
        #expect(try world.call(.latest) == 2)
        try world.registry.setAlias(model: "m", alias: "prod", version: 2, by: world.admin)
        #expect(try world.call() == 2)
        try world.registry.rollbackAlias(model: "m", alias: "prod", by: world.admin)
        #expect(try world.call() == 1)
        try world.registry.deleteAlias(model: "m", alias: "prod", by: world.admin)
        #expect(errorCode { _ = try world.call() } == .notFound)

        try world.fixture.upload(artifact(100, seed: 3), to: "m", by: world.admin)
        #expect(try world.call(.latest) == 3)

        try world.registry.deleteModel("m", by: world.admin)
        #expect(errorCode { _ = try world.call(.latest) } == .notFound)
        #expect(errorCode { try world.registry.checkRole(world.alice, model: "m", required: .reader) } == .notFound)
    }

    @Test("Admin rights withdrawn apply to the very next call")
    func adminWithdrawn() throws {
        let world = try World()
        try world.registry.createUser("boss", isAdmin: true, by: world.admin)
        let token = try world.registry.createToken(for: "boss", by: world.admin)
        let boss = try world.registry.authenticate(token: token.token)
        try world.registry.checkRole(boss, model: "m", required: .owner)
        try world.registry.setAdmin("boss", isAdmin: false, by: world.admin)
        #expect(errorCode { try world.registry.checkRole(boss, model: "m", required: .owner) } == .permissionDenied)
        #expect(try world.registry.authenticate(token: token.token).isAdmin == false)
    }

    @Test("The tables never hold more than their capacity")
    func bounded() throws {
        let world = try World(caching: .init(ttl: .seconds(600), capacity: 16))
        let registry = world.registry
        for index in 0..<200 {
            _ = try? registry.getVersion(model: "m", .alias("missing-\(index)"), by: world.alice)
            _ = try? registry.checkRole(world.alice, model: "other-\(index)", required: .reader)
            #expect(registry.accessCache.answers.count <= 16)
        }
        for index in 0..<40 {
            try registry.createUser("user\(index)", by: world.admin)
            let token = try registry.createToken(for: "user\(index)", by: world.admin)
            _ = try registry.authenticate(token: token.token)
            #expect(registry.accessCache.principals.count <= 16)
        }
        // Still correct after evictions: the answers that remain, and the ones recomputed.
        #expect(try world.call() == 1)
        #expect(errorCode { _ = try registry.getVersion(model: "m", .alias("missing-3"), by: world.alice) } == .notFound)
    }

    @Test("A closed registry answers nothing from the cache")
    func closed() throws {
        let world = try World()
        #expect(try world.call() == 1)
        world.registry.close()
        #expect(errorCode { _ = try world.call() } == .failedPrecondition)
    }
}
