import Foundation
import Testing

@testable import ModelRegistry

@Suite("Throughput smoke test")
struct PerformanceTests {
    @Test("A 32 MiB artifact uploads and downloads in 64 KiB chunks")
    func largeArtifact() throws {
        let fixture = try Fixture(configuration: .defaults)
        _ = try fixture.registry.createModel(Model(name: "big"), by: fixture.admin)
        let chunk = artifact(64 * 1024, seed: 42)
        let count = 512
        let hasher = try SHA256Hasher()
        for _ in 0..<count { try chunk.withBytes { (buffer) throws(RegistryError) in try hasher.update(buffer) } }
        let header = VersionHeader(sizeBytes: Int64(chunk.count * count), sha256: try hasher.finish())

        let start = ContinuousClock.now
        let upload = try fixture.registry.beginUpload(model: "big", header: header, by: fixture.admin)
        for _ in 0..<count { try upload.append(chunk) }
        let version = try upload.finish()
        let uploaded = ContinuousClock.now
        let reader = try fixture.registry.openArtifact(model: "big", version: 1, by: fixture.admin)
        var total = 0
        while case let bytes = try reader.read(), !bytes.isEmpty { total += bytes.count }
        let downloaded = ContinuousClock.now

        #expect(version.sizeBytes == Int64(chunk.count * count))
        #expect(total == chunk.count * count)
        // Generous bounds (debug build, shared 2-core machine); they catch accidental quadratic behaviour.
        #expect(uploaded - start < .seconds(20))
        #expect(downloaded - uploaded < .seconds(20))
    }
}
