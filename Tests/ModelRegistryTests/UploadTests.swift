import Testing

@testable import ModelRegistry

@Suite("Uploads: integrity, limits and failure")
struct UploadTests {
    @Test("sha256 mismatch is dataLoss and stores nothing")
    func shaMismatch() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let bytes = artifact(4096)
        let header = VersionHeader(sizeBytes: 4096, sha256: sha256(artifact(4096, seed: 2)))
        let upload = try registry.beginUpload(model: "m", header: header, by: fixture.admin)
        try upload.append(bytes)
        #expect(errorCode { _ = try upload.finish() } == .dataLoss)
        #expect(errorCode { _ = try upload.finish() } == .failedPrecondition)
        #expect(try registry.listVersions(model: "m", by: fixture.admin).isEmpty)
        #expect(fixture.files(under: "artifacts").isEmpty)
        #expect(fixture.files(under: "tmp").isEmpty)
    }

    @Test("Upper-case sha256 in the header is accepted")
    func upperCaseHash() throws {
        let fixture = try Fixture()
        _ = try fixture.registry.createModel(Model(name: "m"), by: fixture.admin)
        let bytes = artifact(100)
        let version = try fixture.upload(bytes, to: "m", by: fixture.admin) { $0.sha256 = $0.sha256.uppercased() }
        #expect(version.sha256 == sha256(bytes))
    }

    @Test("Malformed headers are invalidArgument")
    func badHeaders() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        for header in [
            VersionHeader(sizeBytes: 1, sha256: "abc"),
            VersionHeader(sizeBytes: -1, sha256: sha256([])),
            VersionHeader(sizeBytes: 1, sha256: String(repeating: "g", count: 64)),
            VersionHeader(sizeBytes: 0, sha256: sha256([]), manifest: ["": "empty key"]),
        ] {
            #expect(errorCode { _ = try registry.beginUpload(model: "m", header: header, by: fixture.admin) } == .invalidArgument)
        }
        #expect(fixture.files(under: "tmp").isEmpty)
    }

    @Test("The size limit is resourceExhausted, at begin or as soon as it is crossed")
    func sizeLimit() throws {
        let fixture = try Fixture(configuration: .defaults {
            $0.maxArtifactBytes = 1000
        })
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let big = VersionHeader(sizeBytes: 1001, sha256: sha256(artifact(1001)))
        #expect(errorCode { _ = try registry.beginUpload(model: "m", header: big, by: fixture.admin) } == .resourceExhausted)

        // A client that declares a small size and then sends more than the limit.
        let liar = try registry.beginUpload(
            model: "m",
            header: VersionHeader(sizeBytes: 10, sha256: sha256(artifact(10))),
            by: fixture.admin
        )
        #expect(errorCode { try liar.append(artifact(1001)) } == .resourceExhausted)
        #expect(fixture.files(under: "tmp").isEmpty)

        #expect(try fixture.upload(artifact(1000), to: "m", by: fixture.admin).sizeBytes == 1000)
    }

    @Test("More bytes than declared is dataLoss; fewer is invalidArgument")
    func sizeMismatch() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let bytes = artifact(100)
        let header = VersionHeader(sizeBytes: 100, sha256: sha256(bytes))

        let over = try registry.beginUpload(model: "m", header: header, by: fixture.admin)
        try over.append(Array(bytes[0..<60]))
        #expect(errorCode { try over.append(Array(bytes[0..<60])) } == .dataLoss)
        #expect(errorCode { try over.append([1]) } == .failedPrecondition)

        let under = try registry.beginUpload(model: "m", header: header, by: fixture.admin)
        try under.append(Array(bytes[0..<99]))
        #expect(errorCode { _ = try under.finish() } == .invalidArgument)

        #expect(try registry.listVersions(model: "m", by: fixture.admin).isEmpty)
        #expect(fixture.files(under: "tmp").isEmpty)
        #expect(fixture.files(under: "artifacts").isEmpty)
    }

    @Test("Abort and deinit remove the temporary file")
    func abort() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let header = VersionHeader(sizeBytes: 100, sha256: sha256(artifact(100)))
        let upload = try registry.beginUpload(model: "m", header: header, by: fixture.admin)
        try upload.append(artifact(50))
        #expect(fixture.files(under: "tmp").count == 1)
        #expect(upload.receivedBytes == 50)
        upload.abort()
        upload.abort()
        #expect(fixture.files(under: "tmp").isEmpty)
        #expect(errorCode { try upload.append([1]) } == .failedPrecondition)

        do {
            let dropped = try registry.beginUpload(model: "m", header: header, by: fixture.admin)
            try dropped.append(artifact(10))
            #expect(fixture.files(under: "tmp").count == 1)
        }
        #expect(fixture.files(under: "tmp").isEmpty)
    }

    @Test("A model deleted during an upload makes finish notFound and stores nothing")
    func modelDeletedDuringUpload() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let bytes = artifact(100)
        let upload = try registry.beginUpload(
            model: "m",
            header: VersionHeader(sizeBytes: 100, sha256: sha256(bytes)),
            by: fixture.admin
        )
        try upload.append(bytes)
        try registry.deleteModel("m", by: fixture.admin)
        #expect(errorCode { _ = try upload.finish() } == .notFound)
        #expect(fixture.files(under: "tmp").isEmpty)
        #expect(fixture.files(under: "artifacts").isEmpty)
    }

    @Test("A damaged artifact is reported as dataLoss by the reader")
    func damagedArtifact() throws {
        let fixture = try Fixture()
        _ = try fixture.registry.createModel(Model(name: "m"), by: fixture.admin)
        let version = try fixture.upload(artifact(2000), to: "m", by: fixture.admin)
        let path = "\(fixture.directory)/artifacts/sha256/\(version.sha256.prefix(2))/\(version.sha256)"
        // Flip one byte in place (same size).
        var bytes = try FileSystem.readFile(path)
        bytes[1000] ^= 0xFF
        try FileSystem.removeFile(path)
        try FileSystem.writeFileAtomically(path, bytes: bytes, mode: 0o600)
        #expect(errorCode { _ = try fixture.download("m", 1, by: fixture.admin) } == .dataLoss)

        try FileSystem.removeFile(path)
        #expect(errorCode { _ = try fixture.registry.openArtifact(model: "m", version: 1, by: fixture.admin) } == .dataLoss)
    }

    @Test("Upload from an async sequence; a failing stream stores nothing")
    func streaming() async throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        _ = try registry.createModel(Model(name: "m"), by: fixture.admin)
        let bytes = artifact(10_000)
        let header = VersionHeader(sizeBytes: 10_000, sha256: sha256(bytes))
        let chunks = AsyncStream<[UInt8]> { continuation in
            for start in stride(from: 0, to: bytes.count, by: 3000) {
                continuation.yield(Array(bytes[start..<min(bytes.count, start + 3000)]))
            }
            continuation.finish()
        }
        let version = try await registry.uploadVersion(model: "m", header: header, chunks: chunks, by: fixture.admin)
        #expect(version.number == 1)

        struct Cancelled: Error {}
        let failing = AsyncThrowingStream<[UInt8], any Error> { continuation in
            continuation.yield(Array(bytes[0..<3000]))
            continuation.finish(throwing: Cancelled())
        }
        await #expect(throws: Cancelled.self) {
            _ = try await registry.uploadVersion(model: "m", header: header, chunks: failing, by: fixture.admin)
        }
        #expect(try registry.listVersions(model: "m", by: fixture.admin).count == 1)
        #expect(fixture.files(under: "tmp").isEmpty)
    }
}
