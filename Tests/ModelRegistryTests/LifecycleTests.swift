import Foundation
import Testing

@testable import ModelRegistry

@Suite("Model and version lifecycle")
struct LifecycleTests {
    @Test("Create, update, upload, download, list, delete")
    func fullLifecycle() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let alice = try fixture.user("alice")

        let created = try registry.createModel(
            Model(
                name: "movies-itemcf",
                description: "Item-based CF",
                author: "Alice",
                tags: ["movies", "cf", "movies"],
                inputSchema: "user id",
                outputSchema: "ranked items",
                metrics: ["ndcg@10": 0.25],
                dependencies: ["recommend-core>=1"],
                intendedUse: "demo",
                annotations: ["team": "ranking"],
                manifest: ["algorithm": "itemcf", "neighbours": "20"]
            ),
            by: alice
        )
        #expect(created.tags == ["cf", "movies"])
        #expect(created.createdBy == "alice")
        #expect(created.latestVersion == nil)
        #expect(created.sizeBytes == 0)
        #expect(try registry.role(of: alice, model: "movies-itemcf") == .owner)

        var changes = Model(name: "ignored")
        changes.description = "Item-based CF, K=50"
        changes.manifest = ["algorithm": "itemcf", "neighbours": "50"]
        changes.author = "not applied"
        let updated = try registry.updateModel(
            "movies-itemcf",
            with: changes,
            fieldMask: ["description", "manifest"],
            by: alice
        )
        #expect(updated.description == "Item-based CF, K=50")
        #expect(updated.manifest["neighbours"] == "50")
        #expect(updated.author == "Alice")
        #expect(updated.name == "movies-itemcf")
        #expect(updated.createdAt == created.createdAt)

        let bytes1 = artifact(10_000, seed: 1)
        let v1 = try fixture.upload(bytes1, to: "movies-itemcf", by: alice) {
            $0.description = "first"
            $0.manifest = ["neighbours": "20"]
        }
        #expect(v1.number == 1)
        #expect(v1.sizeBytes == 10_000)
        #expect(v1.sha256 == sha256(bytes1))
        #expect(v1.createdBy == "alice")

        let bytes2 = artifact(25_001, seed: 2)
        let v2 = try fixture.upload(bytes2, to: "movies-itemcf", by: alice, chunkSize: 4096)
        #expect(v2.number == 2)

        #expect(try fixture.download("movies-itemcf", 1, by: alice) == bytes1)
        #expect(try fixture.download("movies-itemcf", .latest, by: alice) == bytes2)

        let model = try registry.getModel("movies-itemcf", by: alice)
        #expect(model.latestVersion == 2)
        #expect(model.sizeBytes == 25_001)

        let versions = try registry.listVersions(model: "movies-itemcf", by: alice)
        #expect(versions.map(\.number) == [1, 2])
        #expect(versions[0].description == "first")
        #expect(try registry.getVersion(model: "movies-itemcf", 1, by: alice) == versions[0])

        let withMetrics = try registry.setVersionMetrics(
            model: "movies-itemcf",
            version: 2,
            metrics: ["precision@10": 0.2, "recall@10": 0.1],
            by: alice
        )
        #expect(withMetrics.metrics == ["precision@10": 0.2, "recall@10": 0.1])
        #expect(withMetrics.metricsUpdatedBy == "alice")
        let history = try registry.metricsHistory(model: "movies-itemcf", version: 2, by: alice)
        #expect(history.count == 1)
        #expect(history.first?.metrics == withMetrics.metrics)

        try registry.deleteModel("movies-itemcf", by: alice)
        #expect(errorCode { _ = try registry.getModel("movies-itemcf", by: alice) } == .notFound)
        #expect(fixture.files(under: "artifacts").isEmpty)
        #expect(fixture.files(under: "tmp").isEmpty)
    }

    @Test("Names are validated, duplicates rejected, unknown things not found")
    func validation() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        for bad in ["", ".hidden", "a/b", "a b", "x\u{0}y", "../etc", String(repeating: "a", count: 129), "ünï"] {
            #expect(errorCode { _ = try registry.createModel(Model(name: bad), by: admin) } == .invalidArgument)
        }
        _ = try registry.createModel(Model(name: "m.1_ok-name"), by: admin)
        #expect(errorCode { _ = try registry.createModel(Model(name: "m.1_ok-name"), by: admin) } == .alreadyExists)
        #expect(errorCode { _ = try registry.getModel("nope", by: admin) } == .notFound)
        #expect(errorCode { _ = try registry.getVersion(model: "m.1_ok-name", 1, by: admin) } == .notFound)
        #expect(errorCode { _ = try registry.getVersion(model: "m.1_ok-name", .latest, by: admin) } == .notFound)
        #expect(errorCode { _ = try registry.getVersion(model: "m.1_ok-name", "prod", by: admin) } == .notFound)
        #expect(errorCode { _ = try registry.getVersion(model: "m.1_ok-name", "bad/alias", by: admin) } == .invalidArgument)
        #expect(
            errorCode { _ = try registry.createModel(Model(name: "metrics", metrics: ["x": .nan]), by: admin) }
                == .invalidArgument
        )
        #expect(
            errorCode { _ = try registry.createModel(Model(name: "tags", tags: ["has space"]), by: admin) }
                == .invalidArgument
        )
        #expect(
            errorCode { _ = try registry.createModel(Model(name: "ctl", description: "bell\u{7}"), by: admin) }
                == .invalidArgument
        )
        #expect(errorCode { try registry.createUser("alice", by: admin) } == nil)
        #expect(errorCode { try registry.createUser("alice", by: admin) } == .alreadyExists)
        #expect(errorCode { try registry.createGroup("-bad", by: admin) } == .invalidArgument)
    }

    @Test("Field masks: unknown and output-only fields are rejected; rename")
    func fieldMasks() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "a", tags: ["x"]), by: admin)
        _ = try registry.createModel(Model(name: "b"), by: admin)
        let values = Model(name: "b", description: "d", tags: ["y"], inputSchema: "in")
        #expect(errorCode { _ = try registry.updateModel("a", with: values, fieldMask: [], by: admin) } == .invalidArgument)
        #expect(
            errorCode { _ = try registry.updateModel("a", with: values, fieldMask: ["colour"], by: admin) }
                == .invalidArgument
        )
        #expect(
            errorCode { _ = try registry.updateModel("a", with: values, fieldMask: ["created_at"], by: admin) }
                == .invalidArgument
        )
        #expect(
            errorCode { _ = try registry.updateModel("a", with: values, fieldMask: ["name"], by: admin) }
                == .alreadyExists
        )
        let camel = try registry.updateModel("a", with: values, fieldMask: ["inputSchema", "tags"], by: admin)
        #expect(camel.inputSchema == "in")
        #expect(camel.tags == ["y"])
        #expect(try registry.listModels(filter: ModelFilter(tag: "y"), by: admin).models.map(\.name) == ["a"])
        #expect(try registry.listModels(filter: ModelFilter(tag: "x"), by: admin).models.isEmpty)

        var rename = Model(name: "c")
        rename.description = "renamed"
        let renamed = try registry.updateModel("a", with: rename, fieldMask: ["name"], by: admin)
        #expect(renamed.name == "c")
        #expect(renamed.description == "")
        #expect(errorCode { _ = try registry.getModel("a", by: admin) } == .notFound)
        #expect(try registry.getModel("c", by: admin).inputSchema == "in")
    }

    @Test("Identical content shares one artifact file")
    func deduplication() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "one"), by: admin)
        _ = try registry.createModel(Model(name: "two"), by: admin)
        let bytes = artifact(5000, seed: 9)
        let a = try fixture.upload(bytes, to: "one", by: admin)
        let b = try fixture.upload(bytes, to: "one", by: admin)
        let c = try fixture.upload(bytes, to: "two", by: admin)
        #expect([a.number, b.number, c.number] == [1, 2, 1] as [Int])
        let hash = sha256(bytes)
        #expect(fixture.files(under: "artifacts") == ["sha256/\(hash.prefix(2))/\(hash)"])

        try registry.deleteModel("one", by: admin)
        #expect(fixture.files(under: "artifacts").count == 1, "still referenced by model 'two'")
        #expect(try fixture.download("two", 1, by: admin) == bytes)
        try registry.deleteModel("two", by: admin)
        #expect(fixture.files(under: "artifacts").isEmpty)
    }

    @Test("Text round-trips exactly: Unicode, newlines, empty strings")
    func textRoundTrip() throws {
        let fixture = try Fixture()
        let text = "Empfehlungen für Gerichte 🍜\nzweite Zeile\twith tab"
        let model = Model(name: "unicode", description: text, annotations: ["schlüssel": "wert ✓", "empty": ""])
        _ = try fixture.registry.createModel(model, by: fixture.admin)
        let registry = try fixture.reopen()
        let read = try registry.getModel("unicode", by: fixture.admin)
        #expect(read.description == text)
        #expect(read.annotations == ["schlüssel": "wert ✓", "empty": ""])
        #expect(read.author == "")
    }

    @Test("Empty artifact")
    func emptyArtifact() throws {
        let fixture = try Fixture()
        _ = try fixture.registry.createModel(Model(name: "empty"), by: fixture.admin)
        let version = try fixture.upload([], to: "empty", by: fixture.admin)
        #expect(version.sizeBytes == 0)
        #expect(try fixture.download("empty", 1, by: fixture.admin) == [])
    }

    @Test("Concurrent uploads from many tasks get distinct numbers")
    func concurrentUploads() async throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "busy"), by: admin)
        let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
            for seed in 0..<8 {
                group.addTask {
                    let bytes = artifact(3000 + seed, seed: UInt64(seed) + 100)
                    let header = VersionHeader(sizeBytes: Int64(bytes.count), sha256: sha256(bytes))
                    let upload = try registry.beginUpload(model: "busy", header: header, by: admin)
                    for start in stride(from: 0, to: bytes.count, by: 500) {
                        try upload.append(Array(bytes[start..<min(bytes.count, start + 500)]))
                        await Task.yield()
                    }
                    return try upload.finish().number
                }
            }
            var numbers: [Int] = []
            for try await number in group { numbers.append(number) }
            return numbers
        }
        #expect(numbers.sorted() == Array(1...8))
        #expect(fixture.files(under: "artifacts").count == 8)
    }
}
