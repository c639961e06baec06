import Foundation
import Testing

@testable import ModelRegistry

/// Real `kill -9` tests: each exit test runs its body in a child process that SIGKILLs itself at a chosen step;
/// the parent then opens the same data directory, as a restarted server would.
@Suite("kill -9 durability")
struct KillTests {
    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "aimass-registry-kill-" + UUID().uuidString
    }

    @Test("Killed mid-upload: acknowledged versions survive, the partial one is absent, tmp is cleaned")
    func killMidUpload() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String] in
            let registry = try ModelRegistry.open(dataDirectory: directory)
            let admin = try registry.principal(forUser: "admin")
            _ = try registry.createModel(Model(name: "m"), by: admin)
            let first = artifact(20_000, seed: 1)
            let upload1 = try registry.beginUpload(
                model: "m",
                header: VersionHeader(sizeBytes: 20_000, sha256: sha256(first)),
                by: admin
            )
            try upload1.append(first)
            _ = try upload1.finish()  // acknowledged
            try registry.setAlias(model: "m", alias: "production", version: 1, by: admin)

            let second = artifact(20_000, seed: 2)
            let upload2 = try registry.beginUpload(
                model: "m",
                header: VersionHeader(sizeBytes: 20_000, sha256: sha256(second)),
                by: admin
            )
            try upload2.append(Array(second[0..<12_000]))
            kill(getpid(), SIGKILL)
        }

        let registry = try ModelRegistry.open(dataDirectory: directory)
        defer { registry.close() }
        let admin = try registry.principal(forUser: "admin")
        #expect(registry.recovery.removedTemporaryFiles.count == 1)
        #expect(try registry.listVersions(model: "m", by: admin).map(\.number) == [1])
        #expect(try registry.getVersion(model: "m", "production", by: admin).number == 1)
        let reader = try registry.openArtifact(model: "m", version: 1, by: admin)
        var bytes: [UInt8] = []
        while case let chunk = try reader.read(), !chunk.isEmpty { bytes += chunk }
        #expect(bytes == artifact(20_000, seed: 1))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty)
    }

    @Test("Killed between storing the artifact and committing its row: no version, the orphan is removed")
    func killBeforeCommit() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String] in
            let registry = try ModelRegistry.open(dataDirectory: directory)
            let admin = try registry.principal(forUser: "admin")
            _ = try registry.createModel(Model(name: "m"), by: admin)
            CrashPoint.install { point in
                if point == .artifactInstalled { kill(getpid(), SIGKILL) }
            }
            let bytes = artifact(5000, seed: 7)
            let upload = try registry.beginUpload(
                model: "m",
                header: VersionHeader(sizeBytes: 5000, sha256: sha256(bytes)),
                by: admin
            )
            try upload.append(bytes)
            _ = try upload.finish()
        }

        let registry = try ModelRegistry.open(dataDirectory: directory)
        defer { registry.close() }
        let admin = try registry.principal(forUser: "admin")
        #expect(registry.recovery.removedOrphanArtifacts == [sha256(artifact(5000, seed: 7))])
        #expect(try registry.listVersions(model: "m", by: admin).isEmpty)
    }

    @Test("Killed after a model's rows are deleted: the model is gone and its files are removed on open")
    func killDuringDelete() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String] in
            let registry = try ModelRegistry.open(dataDirectory: directory)
            let admin = try registry.principal(forUser: "admin")
            _ = try registry.createModel(Model(name: "m"), by: admin)
            let bytes = artifact(3000, seed: 5)
            let upload = try registry.beginUpload(
                model: "m",
                header: VersionHeader(sizeBytes: 3000, sha256: sha256(bytes)),
                by: admin
            )
            try upload.append(bytes)
            _ = try upload.finish()
            CrashPoint.install { point in
                if point == .modelRowsDeleted { kill(getpid(), SIGKILL) }
            }
            try registry.deleteModel("m", by: admin)
        }

        let registry = try ModelRegistry.open(dataDirectory: directory)
        defer { registry.close() }
        let admin = try registry.principal(forUser: "admin")
        #expect(registry.recovery.removedOrphanArtifacts == [sha256(artifact(3000, seed: 5))])
        #expect(errorCode { _ = try registry.getModel("m", by: admin) } == .notFound)
    }
}
