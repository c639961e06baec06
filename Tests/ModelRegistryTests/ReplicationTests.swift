import Foundation
import Synchronization
import Testing

@testable import ModelRegistry

/// A replication hook that keeps each transaction's changes in memory, and can be told to refuse.
final class RecordingReplication: RegistryReplication {
    let batches = Mutex<[[RegistryRowChange]]>([])
    let refusal = Mutex<RegistryError?>(nil)

    func replicate(_ changes: [RegistryRowChange]) throws(RegistryError) {
        if let error = refusal.withLock({ $0 }) { throw error }
        batches.withLock { $0.append(changes) }
    }

    /// The batches recorded since the last call.
    func take() -> [[RegistryRowChange]] {
        batches.withLock { batches in
            defer { batches.removeAll() }
            return batches
        }
    }
}

@Suite("Registry replication: changesets to keys, and the replica that applies them")
struct ReplicationTests {
    @Test("Keys and row values survive encoding, including separators and every SQLite type")
    func codecRoundTrip() throws {
        let key: [SQLiteValue] = [.integer(-42), .text("a/b c%d é"), .real(2.5), .blob([0, 255, 16])]
        let encoded = RegistryRowCodec.key(table: "aliases", primaryKey: key)
        #expect(encoded == "aliases/i-42/ta%2fb%20c%25d%20%c3%a9/r4004000000000000/x00ff10")
        let parsed = try #require(RegistryRowCodec.parseKey(encoded))
        #expect(parsed.table == "aliases")
        #expect(parsed.primaryKey == key)
        #expect(RegistryRowCodec.parseKey("models") == nil)
        #expect(RegistryRowCodec.parseKey("models/q1") == nil)
        #expect(RegistryRowCodec.parseKey("models/t%zz") == nil)

        let row: [SQLiteValue] = [.null, .integer(Int64.min), .integer(300), .real(-0.125), .text(""), .text("ünïcode"), .blob([])]
        let bytes = RegistryRowCodec.encode(row)
        #expect(try RegistryRowCodec.decode(bytes) == row)
        #expect(throws: RegistryError.self) { try RegistryRowCodec.decode(Array(bytes.dropLast())) }
        #expect(throws: RegistryError.self) { try RegistryRowCodec.decode(bytes + [0]) }
        #expect(throws: RegistryError.self) { try RegistryRowCodec.decode([1, 9]) }
    }

    @Test("Every table has a primary key, so the session sees every row")
    func everyTableReplicated() throws {
        let fixture = try Fixture()
        let names = try fixture.registry.withDatabase { (database) throws(RegistryError) -> [String] in
            try database.query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").map { $0.string(0) }
        }
        #expect(Set(names) == Set(fixture.registry.replicatedTables.tables.keys))
        #expect(fixture.registry.replicatedTables.tables["permissions"]?.primaryKey == [0])
    }

    @Test("Changes recorded on a leader and applied to a replica give the same registry, files in a shared directory")
    func replicaFollowsLeader() throws {
        let artifacts = NSTemporaryDirectory() + "aimass-artifacts-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: artifacts) }
        let leader = try Fixture(configuration: .defaults { $0.artifactDirectory = artifacts })
        let replicaDirectory = NSTemporaryDirectory() + "aimass-replica-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: replicaDirectory) }
        let replica = try ModelRegistry.open(
            dataDirectory: replicaDirectory,
            configuration: .defaults {
                $0.artifactDirectory = artifacts
                $0.sweepsArtifacts = false
                $0.createAdminUser = false
            })
        defer { replica.close() }
        #expect(try replica.replicatedRows().isEmpty)

        // The seed: the leader's whole registry.
        try replica.replaceReplicated(with: try leader.registry.replicatedRows())
        let hook = RecordingReplication()
        leader.registry.setReplication(hook)

        let alice = try leader.user("alice")
        _ = try leader.registry.createModel(Model(name: "movies", tags: ["a", "b"]), by: alice)
        let bytes = artifact(5000, seed: 7)
        try leader.upload(bytes, to: "movies", by: alice)
        try leader.upload(artifact(100, seed: 8), to: "movies", by: alice)
        try leader.registry.setAlias(model: "movies", alias: "production", version: 1, by: alice)
        try leader.registry.setAlias(model: "movies", alias: "production", version: 2, by: alice)
        try leader.registry.createGroup("team", by: leader.admin)
        try leader.registry.addToGroup(user: "alice", group: "team", by: leader.admin)
        try leader.registry.setPermission(model: "movies", grantee: .group("team"), role: .reader, by: alice)
        let batches = hook.take()
        #expect(!batches.isEmpty)
        for batch in batches { try replica.applyReplicated(batch) }

        #expect(try Self.sortedRows(replica) == Self.sortedRows(leader.registry))
        // Alice's token, created on the leader, works on the replica; so does the alias and the artifact.
        let token = try leader.registry.createToken(for: "alice", by: leader.admin)
        for batch in hook.take() { try replica.applyReplicated(batch) }
        let aliceThere = try replica.authenticate(token: token.token)
        #expect(try replica.getVersion(model: "movies", "production", by: aliceThere).number == 2)
        let reader = try replica.openArtifact(model: "movies", version: 1, by: aliceThere)
        var downloaded: [UInt8] = []
        while case let chunk = try reader.read(), !chunk.isEmpty { downloaded += chunk }
        #expect(downloaded == bytes)

        // A delete cascades on the leader; the session records every cascaded row, and the replica follows.
        try leader.registry.deleteModel("movies", by: alice)
        let deletion = hook.take()
        #expect(deletion.count == 1)
        let deletedTables = Set((deletion.first ?? []).compactMap { RegistryRowCodec.parseKey($0.key)?.table })
        #expect(deletedTables.isSuperset(of: ["models", "versions", "aliases", "alias_history", "model_tags", "permissions"]))
        #expect((deletion.first ?? []).allSatisfy { $0.value == nil })
        for batch in deletion { try replica.applyReplicated(batch) }
        #expect(try Self.sortedRows(replica) == Self.sortedRows(leader.registry))
        #expect(throws: RegistryError.self) { try replica.getModel("movies", by: aliceThere) }
    }

    @Test("A refused replication rolls the transaction back and fails the call with the hook's error")
    func refusalRollsBack() throws {
        let fixture = try Fixture()
        let hook = RecordingReplication()
        fixture.registry.setReplication(hook)
        let before = try Self.sortedRows(fixture.registry)
        hook.refusal.withLock { $0 = RegistryError(.unavailable, "etcd said no") }
        let error = #expect(throws: RegistryError.self) {
            try fixture.registry.createModel(Model(name: "m"), by: fixture.admin)
        }
        #expect(error?.code == .unavailable)
        #expect(throws: RegistryError.self) { try fixture.registry.createUser("bob", by: fixture.admin) }
        #expect(try Self.sortedRows(fixture.registry) == before)
        #expect(hook.take().isEmpty)

        hook.refusal.withLock { $0 = nil }
        _ = try fixture.registry.createModel(Model(name: "m"), by: fixture.admin)
        // One registry call, one replicated transaction: the model, its owner permission (and tags, none here).
        let batches = hook.take()
        #expect(batches.count == 1)
        #expect(Set(batches[0].compactMap { RegistryRowCodec.parseKey($0.key)?.table }) == ["models", "permissions"])
    }

    @Test("Reads and token last-use times are not replicated")
    func localBookkeepingStaysLocal() throws {
        let fixture = try Fixture()
        let hook = RecordingReplication()
        fixture.registry.setReplication(hook)
        let token = try fixture.registry.createToken(for: "admin", by: fixture.admin)
        _ = hook.take()
        _ = try fixture.registry.authenticate(token: token.token)
        try fixture.registry.persistTokenUses()
        _ = try fixture.registry.listUsers(by: fixture.admin)
        #expect(hook.take().isEmpty)
        // A single-statement write outside an explicit transaction is replicated too.
        try fixture.registry.revokeToken(token.token, by: fixture.admin)
        let batches = hook.take()
        #expect(batches.count == 1)
        #expect(batches.first?.first?.key.hasPrefix("tokens/") == true)
    }

    static func sortedRows(_ registry: ModelRegistry) throws -> [RegistryRowChange] {
        try registry.replicatedRows().sorted { $0.key < $1.key }
    }
}
