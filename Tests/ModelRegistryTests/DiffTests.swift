import Testing

@testable import ModelRegistry

@Suite("Version diff")
struct DiffTests {
    @Test("Metadata, manifest keys, metrics, size and hash")
    func diff() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "m"), by: admin)
        try fixture.upload(artifact(100, seed: 1), to: "m", by: admin) {
            $0.description = "baseline"
            $0.manifest = ["algorithm": "itemcf", "neighbours": "20", "similarity": "cosine"]
            $0.metrics = ["ndcg@10": 0.2]
            $0.dependencies = ["core>=1"]
        }
        try fixture.upload(artifact(120, seed: 2), to: "m", by: admin) {
            $0.description = "more neighbours"
            $0.manifest = ["algorithm": "itemcf", "neighbours": "50", "weighting": "idf"]
            $0.metrics = ["ndcg@10": 0.25, "hit@10": 0.5]
            $0.dependencies = ["core>=1"]
        }
        let changes = try registry.diffVersions(model: "m", from: 1, to: 2, by: admin)
        let byField = Dictionary(uniqueKeysWithValues: changes.map { ($0.field, $0) })
        #expect(byField["description"] == VersionChange(field: "description", old: "baseline", new: "more neighbours"))
        #expect(byField["manifest.neighbours"] == VersionChange(field: "manifest.neighbours", old: "20", new: "50"))
        #expect(byField["manifest.similarity"]?.kind == .removed)
        #expect(byField["manifest.weighting"]?.kind == .added)
        #expect(byField["manifest.algorithm"] == nil)
        #expect(byField["metrics.ndcg@10"] == VersionChange(field: "metrics.ndcg@10", old: "0.2", new: "0.25"))
        #expect(byField["metrics.hit@10"]?.kind == .added)
        #expect(byField["size_bytes"] == VersionChange(field: "size_bytes", old: "100", new: "120"))
        #expect(byField["sha256"]?.kind == .changed)
        #expect(byField["dependencies"] == nil)
        #expect(changes.count == 8)

        #expect(try registry.diffVersions(model: "m", from: 2, to: .latest, by: admin).isEmpty)
        try registry.setAlias(model: "m", alias: "production", version: 1, by: admin)
        let reversed = try registry.diffVersions(model: "m", from: .latest, to: "production", by: admin)
        #expect(reversed.first { $0.field == "manifest.weighting" }?.kind == .removed)
        #expect(errorCode { _ = try registry.diffVersions(model: "m", from: 1, to: 3, by: admin) } == .notFound)
    }
}
