import Foundation
import Testing

@testable import ModelRegistry

@Suite("Token scope, expiry, last use and the audit log")
struct TokenScopeTests {
    @Test("a scoped token is capped at its ceiling, reaches only its models, and never acts as an admin")
    func scope() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let ana = try fixture.user("ana", isAdmin: true)
        _ = try registry.createModel(Model(name: "mine"), by: ana)
        _ = try registry.createModel(Model(name: "elsewhere"), by: ana)
        let issued = try registry.createToken(
            for: "ana", scope: TokenScope(roleCeiling: .reader, models: ["mine"]), by: ana)
        let scoped = try registry.authenticate(token: issued.token)

        #expect(!scoped.isAdmin && scoped.tokenID == issued.id)
        #expect(try registry.role(of: scoped, model: "mine") == .reader)
        #expect(try registry.role(of: scoped, model: "elsewhere") == nil)
        #expect(try registry.role(of: ana, model: "elsewhere") == .owner, "the user's own token is not limited")
        #expect(errorCode { try registry.checkRole(scoped, model: "mine", required: .writer) } == .permissionDenied)
        #expect(try registry.listModels(by: scoped).models.map(\.name) == ["mine"])
        #expect(try registry.listModels(by: ana).models.map(\.name) == ["elsewhere", "mine"])
        #expect(errorCode { _ = try registry.listUsers(by: scoped) } == .permissionDenied)
        #expect(errorCode { _ = try registry.createToken(for: "ana", by: scoped) } == .permissionDenied)
        // Cached answers are per scope: the unscoped token asked first does not answer for the scoped one.
        #expect(errorCode { try registry.checkRole(scoped, model: "elsewhere", required: .reader) } == .permissionDenied)
    }

    @Test("a token scoped to reading or to some models cannot create models; an unscoped or writer one can")
    func creatingModels() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let ana = try fixture.user("ana")
        func token(_ scope: TokenScope) throws -> Principal {
            try registry.authenticate(token: try registry.createToken(for: "ana", scope: scope, by: ana).token)
        }
        let reading = try token(TokenScope(roleCeiling: .reader))
        let someModels = try token(TokenScope(roleCeiling: .owner, models: ["mine"]))
        let writing = try token(TokenScope(roleCeiling: .writer))
        #expect(!reading.scope.allowsCreatingModels && !someModels.scope.allowsCreatingModels)
        #expect(writing.scope.allowsCreatingModels && ana.scope.allowsCreatingModels)
        #expect(errorCode { _ = try registry.createModel(Model(name: "read"), by: reading) } == .permissionDenied)
        #expect(errorCode { _ = try registry.createModel(Model(name: "mine"), by: someModels) } == .permissionDenied)
        #expect(errorCode { _ = try registry.getModel("read", by: ana) } == .notFound, "nothing was created")
        #expect(try registry.createModel(Model(name: "written"), by: writing).name == "written")
        #expect(try registry.role(of: ana, model: "written") == .owner)
    }

    @Test("an expired token fails even when its principal is cached; an expiry in the past is refused")
    func expiry() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let ana = try fixture.user("ana")
        let soon = try registry.createToken(for: "ana", expiresAt: Date(timeIntervalSinceNow: 0.3), by: ana)
        #expect(try registry.authenticate(token: soon.token).expiresAt != nil)
        var code: RegistryError.Code? = nil
        // Waits for the expiry (the deadline only catches a hang).
        let deadline = Date(timeIntervalSinceNow: 60)
        while code == nil, Date() < deadline {
            code = errorCode { _ = try registry.authenticate(token: soon.token) }
        }
        #expect(code == .unauthenticated)
        #expect(errorCode { _ = try registry.createToken(for: "ana", expiresAt: Date(timeIntervalSinceNow: -1), by: ana) }
            == .invalidArgument)
    }

    @Test("a use is recorded in memory and listed, without invalidating the access cache")
    func lastUse() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let ana = try fixture.user("ana")
        let issued = try registry.createToken(for: "ana", label: "ci", by: ana)
        #expect(try registry.token(id: issued.id, by: ana).lastUsedAt == nil)
        _ = try registry.authenticate(token: issued.token)
        let entries = registry.databaseEntries.load(ordering: .relaxed)
        _ = try registry.authenticate(token: issued.token)
        #expect(registry.databaseEntries.load(ordering: .relaxed) == entries, "a cached authentication stays cached")
        let listed = try registry.token(id: issued.id, by: ana)
        #expect(listed.lastUsedAt != nil && listed.label == "ci")
        _ = try registry.authenticate(token: issued.token)
        let afterListing = registry.databaseEntries.load(ordering: .relaxed)
        _ = try registry.authenticate(token: issued.token)
        #expect(registry.databaseEntries.load(ordering: .relaxed) == afterListing, "writing uses kept the cache")
    }

    @Test("audit events are appended and filtered by user and by method or service; reading needs admin")
    func audit() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = try fixture.user("root", isAdmin: true)
        let bob = try fixture.user("bob")
        let now = Date()
        try registry.appendAuditEvents([
            AuditEvent(at: now, user: "bob", tokenID: 7, method: "aimass.v1.ModelRegistry/SetAlias", target: "m",
                code: 5, message: "model 'm' not found", peer: "ipv4:127.0.0.1:1"),
            AuditEvent(at: now, user: "root", tokenID: nil, method: "aimass.v1.Scheduler/Deploy", target: "",
                code: 0, message: "", peer: "ipv4:127.0.0.1:2"),
        ])
        let all = try registry.listAuditEvents(AuditFilter(), by: admin)
        #expect(all.map(\.user) == ["bob", "root"] && all[0].id < all[1].id)
        #expect(all[0].tokenID == 7 && all[0].code == 5 && all[0].target == "m")
        #expect(try registry.listAuditEvents(AuditFilter(user: "bob"), by: admin).count == 1)
        #expect(try registry.listAuditEvents(AuditFilter(method: "aimass.v1.Scheduler"), by: admin).map(\.user) == ["root"])
        #expect(try registry.listAuditEvents(AuditFilter(method: "aimass.v1.Sched"), by: admin).isEmpty)
        #expect(try registry.listAuditEvents(AuditFilter(afterID: all[0].id), by: admin).map(\.user) == ["root"])
        #expect(errorCode { _ = try registry.listAuditEvents(AuditFilter(), by: bob) } == .permissionDenied)
        #expect(errorCode { _ = try registry.listAuditEvents(AuditFilter(limit: 0), by: admin) } == .invalidArgument)
    }
}

@Suite("Per-token request quotas")
struct TokenQuotaTests {
    @Test("a bucket holds one second's worth, refills at the rate, and says how long to wait")
    func bucket() {
        let quotas = TokenQuotas<Int64>()
        let start = ContinuousClock.now
        for _ in 0..<4 { #expect(quotas.admit(token: 1, rate: 4, now: start) == nil) }
        let wait = quotas.admit(token: 1, rate: 4, now: start)
        #expect(wait == .milliseconds(250))
        #expect(quotas.admit(token: 2, rate: 4, now: start) == nil, "buckets are per token")
        #expect(quotas.admit(token: 1, rate: 4, now: start + .milliseconds(250)) == nil)
        #expect(quotas.admit(token: 1, rate: 4, now: start + .milliseconds(300)) != nil)
        // Idle for long: full again, but never more than one second's worth.
        let later = start + .seconds(60)
        for _ in 0..<4 { #expect(quotas.admit(token: 1, rate: 4, now: later) == nil) }
        #expect(quotas.admit(token: 1, rate: 4, now: later) != nil)
    }

    @Test("a token's quota travels with its principal; tokens without one are always admitted")
    func principal() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let ana = try fixture.user("ana")
        let limited = try registry.authenticate(
            token: try registry.createToken(for: "ana", requestsPerSecond: 2, by: ana).token)
        #expect(limited.requestsPerSecond == 2)
        #expect(registry.admitRequest(of: limited) == nil && registry.admitRequest(of: limited) == nil)
        #expect(registry.admitRequest(of: limited) != nil)
        for _ in 0..<100 { #expect(registry.admitRequest(of: ana) == nil) }
        #expect(try registry.listTokens(for: "ana", by: ana).map(\.requestsPerSecond).contains(2))
    }
}
