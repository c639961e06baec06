import AIMassAPI
import RPCCore
import Testing

@testable import AIMassServer

/// A worker's local authorization from the rules the control plane pushes.
@Suite("Worker grants")
struct WorkerGrantsTests {
    static func hash(_ token: String) -> String { ArtifactDigest.sha256Hex(Array(token.utf8)) ?? "" }

    static func loaded() -> WorkerGrants {
        let grants = WorkerGrants()
        grants.replace(
            AccessGrants(
                tokens: [
                    TokenGrant(sha256: hash("tok-bob"), user: "bob"), TokenGrant(sha256: hash("tok-carol"), user: "carol"),
                    TokenGrant(sha256: hash("tok-root"), user: "admin", admin: true),
                ],
                models: [ModelGrant(model: "movies", readers: ["bob"], aliases: ["production": 3], latestVersion: 4)]
            )
        )
        return grants
    }

    @Test("Readers and admins are allowed, others see NOT_FOUND; aliases and latest resolve locally")
    func decisions() {
        let grants = Self.loaded()
        #expect(grants.decide(authorization: "Bearer tok-bob", model: "movies", alias: nil) == .allowed(version: nil))
        #expect(grants.decide(authorization: "bearer   tok-root ", model: "movies", alias: nil) == .allowed(version: nil))
        #expect(grants.decide(authorization: "Bearer tok-bob", model: "movies", alias: "production") == .allowed(version: 3))
        #expect(grants.decide(authorization: "Bearer tok-bob", model: "movies", alias: "latest") == .allowed(version: 4))
        guard case .denied(let error) = grants.decide(authorization: "Bearer tok-carol", model: "movies", alias: nil) else {
            Issue.record("carol has no role on movies")
            return
        }
        #expect(error.code == .notFound && error.message == "model 'movies' does not exist")
        guard case .denied(let malformed) = grants.decide(authorization: "Basic xyz", model: "movies", alias: nil) else {
            Issue.record("a non-bearer header is refused")
            return
        }
        #expect(malformed.code == .unauthenticated)
    }

    @Test("What the rules do not list is left to the control plane; a revoked token is no longer allowed")
    func unknowns() {
        let grants = WorkerGrants()
        #expect(grants.decide(authorization: "Bearer tok-bob", model: "movies", alias: nil) == .unknown)  // none yet
        let loaded = Self.loaded()
        #expect(loaded.decide(authorization: "Bearer tok-new", model: "movies", alias: nil) == .unknown)
        #expect(loaded.decide(authorization: "Bearer tok-bob", model: "new-model", alias: nil) == .unknown)
        #expect(loaded.decide(authorization: "Bearer tok-bob", model: "movies", alias: "canary") == .unknown)
        // The next push no longer lists bob's token.
        loaded.replace(AccessGrants(tokens: [], models: [ModelGrant(model: "movies", readers: ["bob"])]))
        #expect(loaded.decide(authorization: "Bearer tok-bob", model: "movies", alias: nil) == .unknown)
    }
}

@Suite("Worker grants: A/B splits")
struct WorkerGrantSplitTests {
    /// The split's bucket from its definition (FNV-1a 64 of `model\0alias\0user`, modulo 100), written here.
    static func bucket(_ text: String) -> UInt64 {
        text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 } % 100
    }

    @Test("A pushed split routes each user by the control plane's hash; no split, an unknown alias or model: nil")
    func routes() {
        let grants = WorkerGrants()
        grants.replace(
            AccessGrants(models: [
                ModelGrant(
                    model: "movies", readers: ["bob"], aliases: ["production": 3, "staging": 4], latestVersion: 5,
                    splits: [SplitGrant(alias: "production", challengerVersion: 5, percent: 20)])
            ]))
        let users = (0..<1000).map { "user-\($0)" }
        for user in users {
            let expected: UInt32 = Self.bucket("movies\u{0}production\u{0}\(user)") < 20 ? 5 : 3
            #expect(grants.splitVersion(model: "movies", alias: "production", user: user) == expected)
        }
        let share = users.count { grants.splitVersion(model: "movies", alias: "production", user: $0) == 5 }
        #expect((150...250).contains(share))
        #expect(grants.splitVersion(model: "movies", alias: "staging", user: "user-1") == nil)
        #expect(grants.splitVersion(model: "movies", alias: "canary", user: "user-1") == nil)
        #expect(grants.splitVersion(model: "books", alias: "production", user: "user-1") == nil)
        #expect(grants.aliasVersion(model: "movies", alias: "staging") == 4)
        #expect(grants.aliasVersion(model: "movies", alias: "latest") == 5)
        #expect(grants.aliasVersion(model: "movies", alias: "canary") == nil)
        // The next push ends the split.
        grants.replace(AccessGrants(models: [ModelGrant(model: "movies", aliases: ["production": 3])]))
        #expect(grants.splitVersion(model: "movies", alias: "production", user: "user-1") == nil)
    }
}

@Suite("Worker grants: token limits")
struct WorkerGrantLimitTests {
    @Test("an expired token is refused, and a scoped one sees only its models, with no round trip")
    func limits() {
        let grants = WorkerGrants()
        let past = WorkerGrants.nowMs() - 1
        let future = WorkerGrants.nowMs() + 3_600_000
        grants.replace(
            AccessGrants(
                tokens: [
                    TokenGrant(sha256: WorkerGrantsTests.hash("old"), user: "bob", expiresAtMs: past),
                    TokenGrant(sha256: WorkerGrantsTests.hash("fresh"), user: "bob", expiresAtMs: future),
                    TokenGrant(sha256: WorkerGrantsTests.hash("narrow"), user: "bob", models: ["books"]),
                ],
                models: [
                    ModelGrant(model: "movies", readers: ["bob"]), ModelGrant(model: "books", readers: ["bob"]),
                ]))
        guard case .denied(let expired) = grants.decide(authorization: "Bearer old", model: "movies", alias: nil) else {
            Issue.record("an expired token is refused")
            return
        }
        #expect(expired.code == .unauthenticated)
        #expect(grants.decide(authorization: "Bearer fresh", model: "movies", alias: nil) == .allowed(version: nil))
        #expect(grants.decide(authorization: "Bearer narrow", model: "books", alias: nil) == .allowed(version: nil))
        guard case .denied(let hidden) = grants.decide(authorization: "Bearer narrow", model: "movies", alias: nil) else {
            Issue.record("a model outside the token's scope is refused")
            return
        }
        #expect(hidden.code == .notFound)
    }
}

@Suite("Worker grants: quotas")
struct WorkerGrantQuotaTests {
    @Test("a token over its rate is shed with retry-after-ms on the worker; an undecided call does not count")
    func quota() {
        let grants = WorkerGrants()
        grants.replace(
            AccessGrants(
                tokens: [
                    TokenGrant(sha256: WorkerGrantsTests.hash("slow"), user: "bob", tokenId: 9, requestsPerSecond: 2),
                    TokenGrant(sha256: WorkerGrantsTests.hash("free"), user: "bob"),
                ],
                models: [ModelGrant(model: "movies", readers: ["bob"])]))
        // A model the rules do not list is asked of the control plane (which counts it there): no quota spent here.
        for _ in 0..<5 {
            #expect(grants.decide(authorization: "Bearer slow", model: "books", alias: nil) == .unknown)
        }
        let allowed = (0..<2).map { _ in grants.decide(authorization: "Bearer slow", model: "movies", alias: nil) }
        #expect(allowed == [.allowed(version: nil), .allowed(version: nil)])
        guard case .denied(let shed) = grants.decide(authorization: "Bearer slow", model: "movies", alias: nil) else {
            Issue.record("the third call within a second is over a quota of 2")
            return
        }
        #expect(shed.code == .resourceExhausted)
        #expect(shed.message == "token 9 is over its quota of 2 calls per second")
        #expect(shed.metadata.firstString(forKey: "retry-after-ms").flatMap { Int($0) }.map { 1...500 ~= $0 } == true)
        for _ in 0..<50 {
            #expect(grants.decide(authorization: "Bearer free", model: "movies", alias: nil) == .allowed(version: nil))
        }
    }
}
