import Foundation
import Testing

@testable import ModelRegistry

@Suite("Durability: reopen and crash recovery")
struct RecoveryTests {
    @Test("Reopening finds everything, with the same admin token")
    func reopen() throws {
        let fixture = try Fixture(configuration: .defaults)
        let token = try Fixture.adminToken(in: fixture.directory)
        #expect(fixture.registry.recovery.createdAdmin)
        #expect(fixture.registry.recovery.appliedMigrations == Array(1...Migrations.latestVersion))
        let alice = try fixture.user("alice")
        _ = try fixture.registry.createModel(Model(name: "m", tags: ["t"], manifest: ["k": "v"]), by: alice)
        let bytes = artifact(50_000)
        let version = try fixture.upload(bytes, to: "m", by: alice, chunkSize: 8192)
        try fixture.registry.setAlias(model: "m", alias: "production", version: 1, by: alice)
        let before = try fixture.registry.getModel("m", by: alice)

        let registry = try fixture.reopen()
        #expect(try Fixture.adminToken(in: fixture.directory) == token)
        #expect(!registry.recovery.createdAdmin)
        #expect(registry.recovery.appliedMigrations.isEmpty)
        #expect(registry.recovery.removedTemporaryFiles.isEmpty)
        #expect(registry.recovery.removedOrphanArtifacts.isEmpty)
        let alice2 = try registry.principal(forUser: "alice")
        #expect(try registry.getModel("m", by: alice2) == before)
        #expect(try registry.getVersion(model: "m", "production", by: alice2) == registry.getVersion(model: "m", 1, by: alice2))
        #expect(try registry.getVersion(model: "m", 1, by: alice2).sha256 == version.sha256)
        #expect(try fixture.download("m", "production", by: alice2) == bytes)
        #expect(try registry.aliasHistory(model: "m", by: alice2).count == 1)
    }

    @Test("The admin token file is private")
    func tokenFileMode() throws {
        let fixture = try Fixture()
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.registry.adminTokenPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("A second registry on the same directory is refused; a closed one refuses calls")
    func exclusive() throws {
        let fixture = try Fixture()
        #expect(errorCode { _ = try ModelRegistry.open(dataDirectory: fixture.directory) } == .failedPrecondition)
        fixture.registry.close()
        #expect(fixture.registry.isClosed)
        #expect(errorCode { _ = try fixture.registry.listModels(by: fixture.admin) } == .failedPrecondition)
        try fixture.reopen()
        #expect(errorCode { _ = try fixture.registry.listModels(by: fixture.admin) } == nil)
    }

    @Test("Simulated crash: tmp files and orphan artifacts are removed; unfinished versions are absent")
    func crashLeftovers() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let kept = try fixture.upload(artifact(300, seed: 1), to: "m", by: fixture.admin)

        // An upload in progress when the process "dies": its temporary file stays behind.
        let bytes = artifact(1000, seed: 2)
        let inProgress = try registry.beginUpload(
            model: "m",
            header: VersionHeader(sizeBytes: 1000, sha256: sha256(bytes)),
            by: fixture.admin
        )
        try inProgress.append(Array(bytes[0..<400]))
        let tmpFiles = fixture.files(under: "tmp")
        #expect(tmpFiles.count == 1)

        // A crash between the rename into the store and the commit of the version row: an orphan artifact.
        let orphan = artifact(777, seed: 3)
        let orphanHash = sha256(orphan)
        let orphanDirectory = "\(fixture.directory)/artifacts/sha256/\(orphanHash.prefix(2))"
        try FileSystem.makeDirectories(orphanDirectory)
        try FileSystem.writeFileAtomically("\(orphanDirectory)/\(orphanHash)", bytes: orphan, mode: 0o600)
        // And a stray temporary file from an older crash.
        try FileSystem.writeFileAtomically("\(fixture.directory)/tmp/upload-deadbeef", bytes: [1, 2, 3], mode: 0o600)

        // "Restart" without the in-progress upload ever finishing. Its object must not clean up after itself, so
        // copy the directory as a crash would leave it and open the copy.
        let crashed = fixture.directory + "-crashed"
        try FileManager.default.copyItem(atPath: fixture.directory, toPath: crashed)
        defer { try? FileManager.default.removeItem(atPath: crashed) }
        try? FileManager.default.removeItem(atPath: crashed + "/registry.lock")

        let recovered = try ModelRegistry.open(dataDirectory: crashed, configuration: .defaults)
        defer { recovered.close() }
        #expect(recovered.recovery.removedTemporaryFiles.count == 2)
        #expect(recovered.recovery.removedOrphanArtifacts == [orphanHash])
        #expect(recovered.recovery.damagedArtifacts.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: crashed + "/tmp").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(orphanDirectory.replacingOccurrences(of: fixture.directory, with: crashed))/\(orphanHash)"))

        let admin = try recovered.principal(forUser: "admin")
        let versions = try recovered.listVersions(model: "m", by: admin)
        #expect(versions.map(\.number) == [1])
        #expect(versions.first?.sha256 == kept.sha256)
        inProgress.abort()

        // The recovered registry carries on normally; the next version is 2.
        let header = VersionHeader(sizeBytes: 1000, sha256: sha256(bytes))
        let upload = try recovered.beginUpload(model: "m", header: header, by: admin)
        try upload.append(bytes)
        #expect(try upload.finish().number == 2)
    }

    @Test("A missing artifact file is reported on open")
    func missingArtifact() throws {
        let fixture = try Fixture()
        _ = try fixture.registry.createModel(Model(name: "m"), by: fixture.admin)
        let version = try fixture.upload(artifact(10), to: "m", by: fixture.admin)
        fixture.registry.close()
        try FileSystem.removeFile("\(fixture.directory)/artifacts/sha256/\(version.sha256.prefix(2))/\(version.sha256)")
        let registry = try fixture.reopen()
        #expect(registry.recovery.damagedArtifacts == [version.sha256])
    }

    @Test("A database from a newer build is refused")
    func newerSchema() throws {
        let fixture = try Fixture()
        fixture.registry.close()
        let database = try Database(path: fixture.directory + "/registry.sqlite")
        try database.executeScript("PRAGMA user_version = 99")
        database.close()
        #expect(errorCode { try fixture.reopen() } == .failedPrecondition)
    }
}
