import AIMassAPI
import AIMassServer
import AIMassServices
import Foundation
@testable import ModelRegistry
import RPCCore
import RPCHTTP2
import Testing

/// aimass.v1.ModelRegistry end to end: a real ``Platform`` on a temporary data directory, a real socket, and our
/// ``RPCClient``.
@Suite struct RegistryServiceTests {
    static func sha256(_ bytes: [UInt8]) -> String { try! SHA256Hasher.hex(of: bytes) }

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// A running platform, a client and the admin token; shut down after `body`.
    static func withPlatform(
        _ body: (Platform, RPCClient, CallOptions) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("aimass-regsvc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory))
        let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let client = RPCClient(host: "127.0.0.1", port: platform.address.port!)
        // A bound against hangs only: beside a CPU hog, with the whole suite running at once, a CreateModel once took
        // longer than 30 s.
        let admin = CallOptions(timeout: .seconds(120), metadata: ["authorization": .string("Bearer \(token)")])
        do {
            try await body(platform, client, admin)
        } catch {
            await client.close()
            await platform.shutdown(gracePeriod: .seconds(1))
            throw error
        }
        await client.close()
        await platform.shutdown(gracePeriod: .seconds(1))
    }

    static func upload(
        _ client: RPCClient,
        model: String,
        bytes: [UInt8],
        sha256: String? = nil,
        chunkSize: Int = 256 * 1024,
        manifest: [String: String] = [:],
        options: CallOptions
    ) async throws -> Version {
        let call: ClientCall<UploadVersionRequest, Version> = try await client.makeCall(ModelRegistryMethods.uploadVersion, options: options)
        let header = AIMassAPI.VersionHeader(
            model: model, sizeBytes: Int64(bytes.count), sha256: sha256 ?? Self.sha256(bytes), manifest: manifest)
        try await call.send(UploadVersionRequest(part: .header(header)))
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunkSize, bytes.count)
            try await call.send(UploadVersionRequest(part: .chunk(Array(bytes[offset..<end]))))
            offset = end
        }
        call.finishSending()
        guard let version = try await call.next() else { throw RPCError(code: .internalError, message: "no version") }
        return version
    }

    static func download(_ client: RPCClient, model: String, selector: VersionSelector? = nil, offset: Int64 = 0,
                         options: CallOptions) async throws -> (Version, [UInt8]) {
        let call: ClientCall<DownloadVersionRequest, DownloadVersionResponse> = try await client.serverStreaming(
            ModelRegistryMethods.downloadVersion, request: DownloadVersionRequest(model: model, version: selector, offset: offset),
            options: options)
        guard case .version(let version)? = try await call.next()?.part else {
            throw RPCError(code: .internalError, message: "version not first")
        }
        var body: [UInt8] = []
        while let message = try await call.next() {
            guard case .chunk(let chunk)? = message.part else { throw RPCError(code: .internalError, message: "second version") }
            #expect(chunk.count <= RegistryService.downloadChunkSize)
            body += chunk
        }
        return (version, body)
    }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    @Test func mainFlow() async throws {
        try await Self.withPlatform { platform, client, admin in
            let created: AIMassAPI.Model = try await client.unary(
                ModelRegistryMethods.createModel,
                request: CreateModelRequest(model: AIMassAPI.Model(
                    name: "movies", tags: ["movies"], manifest: ["algorithm": "itemcf", "neighbours": "50"])),
                options: admin)
            #expect(created.name == "movies" && created.author == "user:admin" && created.latestVersion == 0)

            let first = Self.bytes(1_000_000, seed: 1)
            let v1 = try await Self.upload(client, model: "movies", bytes: first, options: admin)
            #expect(v1.number == 1 && v1.sizeBytes == 1_000_000 && v1.sha256 == Self.sha256(first))
            #expect(v1.manifest == ["algorithm": "itemcf", "neighbours": "50"] && v1.aliases == ["latest"])
            let second = Self.bytes(300_000, seed: 2)
            let v2 = try await Self.upload(client, model: "movies", bytes: second, chunkSize: 65_536,
                                           manifest: ["neighbours": "20"], options: admin)
            #expect(v2.number == 2)

            let model: AIMassAPI.Model = try await client.unary(ModelRegistryMethods.getModel, request: GetModelRequest(name: "movies"), options: admin)
            #expect(model.latestVersion == 2 && model.sizeBytes == 300_000)
            let got: Version = try await client.unary(
                ModelRegistryMethods.getVersion, request: GetVersionRequest(model: "movies", version: VersionSelector(number: 1)), options: admin)
            #expect(got.sha256 == v1.sha256 && got.aliases.isEmpty)

            let list: ListModelsResponse = try await client.unary(ModelRegistryMethods.listModels, request: ListModelsRequest(tag: "movies"), options: admin)
            #expect(list.models.map(\.name) == ["movies"])
            let versions: ListVersionsResponse = try await client.unary(
                ModelRegistryMethods.listVersions, request: ListVersionsRequest(model: "movies"), options: admin)
            #expect(versions.versions.map(\.number) == [2, 1])

            let (downloaded, body) = try await Self.download(client, model: "movies", selector: VersionSelector(number: 1), options: admin)
            #expect(downloaded.number == 1 && body == first)
            let (_, tail) = try await Self.download(client, model: "movies", offset: 250_000, options: admin)
            #expect(tail == Array(second[250_000...]))
            #expect(await Self.code {
                _ = try await Self.download(client, model: "movies", offset: 300_001, options: admin)
            } == .invalidArgument)

            let diff: DiffVersionsResponse = try await client.unary(
                ModelRegistryMethods.diffVersions, request: DiffVersionsRequest(model: "movies"), options: admin)
            #expect(diff.oldVersion == 1 && diff.newVersion == 2)
            #expect(diff.changes.map(\.field) == ["manifest.neighbours", "sha256", "size_bytes"])
            #expect(diff.changes.first == FieldChange(field: "manifest.neighbours", oldValue: "50", newValue: "20", kind: .changed))

            // Alias, then roll back by moving it.
            let set: SetAliasResponse = try await client.unary(
                ModelRegistryMethods.setAlias, request: SetAliasRequest(model: "movies", alias: "production", version: 2), options: admin)
            #expect(set.change?.previousVersion == 0 && set.change?.version == 2)
            let back: SetAliasResponse = try await client.unary(
                ModelRegistryMethods.setAlias, request: SetAliasRequest(model: "movies", alias: "production", version: 1, reason: "rollback"),
                options: admin)
            #expect(back.change?.previousVersion == 2 && back.change?.version == 1 && back.change?.principal == "user:admin")
            let production: Version = try await client.unary(
                ModelRegistryMethods.getVersion, request: GetVersionRequest(model: "movies", version: VersionSelector(alias: "production")),
                options: admin)
            #expect(production.number == 1 && production.aliases == ["production"])
            let history: ListAliasHistoryResponse = try await client.unary(
                ModelRegistryMethods.listAliasHistory, request: ListAliasHistoryRequest(model: "movies", pageSize: 1), options: admin)
            #expect(history.changes.map(\.version) == [1] && !history.nextPageToken.isEmpty)
            #expect(history.changes.map(\.reason) == ["rollback"])  // stored, not only echoed
            let older: ListAliasHistoryResponse = try await client.unary(
                ModelRegistryMethods.listAliasHistory,
                request: ListAliasHistoryRequest(model: "movies", pageSize: 1, pageToken: history.nextPageToken), options: admin)
            #expect(older.changes.map(\.version) == [2] && older.nextPageToken.isEmpty)
            #expect(older.changes.map(\.reason) == [""])

            // Update with a field mask.
            let updated: AIMassAPI.Model = try await client.unary(
                ModelRegistryMethods.updateModel,
                request: UpdateModelRequest(model: AIMassAPI.Model(name: "movies", description: "new text"), updateMask: ["description"]),
                options: admin)
            #expect(updated.description == "new text" && updated.tags == ["movies"] && updated.aliases == ["production": 1])
            #expect(await Self.code {
                let _: AIMassAPI.Model = try await client.unary(
                    ModelRegistryMethods.updateModel, request: UpdateModelRequest(model: AIMassAPI.Model(name: "movies")), options: admin)
            } == .invalidArgument)
            _ = platform
        }
    }

    @Test func authenticationAndPermissions() async throws {
        try await Self.withPlatform { platform, client, admin in
            let _: AIMassAPI.Model = try await client.unary(
                ModelRegistryMethods.createModel, request: CreateModelRequest(model: AIMassAPI.Model(name: "guarded", manifest: ["algorithm": "itemcf"])), options: admin)
            // No token, a malformed header, an unknown token.
            for metadata: Metadata in [[:], ["authorization": "Basic abc"], ["authorization": "Bearer aimass_unknown"]] {
                #expect(await Self.code {
                    let _: AIMassAPI.Model = try await client.unary(
                        ModelRegistryMethods.getModel, request: GetModelRequest(name: "guarded"),
                        options: CallOptions(timeout: .seconds(10), metadata: metadata))
                } == .unauthenticated)
            }
            // A reader, made through the registry API with the admin principal.
            let registry = platform.registry
            let adminToken = try String(contentsOfFile: registry.adminTokenPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let adminPrincipal = try registry.authenticate(token: adminToken)
            try registry.createUser("rita", by: adminPrincipal)
            let ritaToken = try registry.createToken(for: "rita", by: adminPrincipal).token
            let rita = CallOptions(timeout: .seconds(30), metadata: ["authorization": .string("Bearer \(ritaToken)")])

            // Without a role the model is hidden.
            #expect(await Self.code {
                let _: AIMassAPI.Model = try await client.unary(ModelRegistryMethods.getModel, request: GetModelRequest(name: "guarded"), options: rita)
            } == .notFound)
            let granted: PermissionsResponse = try await client.unary(
                ModelRegistryMethods.setPermission, request: SetPermissionRequest(model: "guarded", principal: "user:rita", role: .reader),
                options: admin)
            #expect(granted.permissions == [
                AIMassAPI.Permission(principal: "user:admin", role: .owner), AIMassAPI.Permission(principal: "user:rita", role: .reader),
            ])
            let seen: AIMassAPI.Model = try await client.unary(ModelRegistryMethods.getModel, request: GetModelRequest(name: "guarded"), options: rita)
            #expect(seen.name == "guarded")
            #expect(await Self.code {
                _ = try await Self.upload(client, model: "guarded", bytes: Self.bytes(10_000, seed: 3), options: rita)
            } == .permissionDenied)
            // A reader sees who has access, but may not grant.
            let listed: PermissionsResponse = try await client.unary(
                ModelRegistryMethods.getPermissions, request: GetPermissionsRequest(model: "guarded"), options: rita)
            #expect(listed.permissions == granted.permissions)
            #expect(await Self.code {
                let _: PermissionsResponse = try await client.unary(
                    ModelRegistryMethods.setPermission, request: SetPermissionRequest(model: "guarded", principal: "user:rita", role: .owner),
                    options: rita)
            } == .permissionDenied)
            #expect(await Self.code {
                let _: PermissionsResponse = try await client.unary(
                    ModelRegistryMethods.setPermission, request: SetPermissionRequest(model: "guarded", principal: "user:rita", role: .unspecified),
                    options: admin)
            } == .invalidArgument)
            let versions = try registry.listVersions(model: "guarded", by: adminPrincipal)
            #expect(versions.isEmpty)
        }
    }

    @Test func badUploadsStoreNothing() async throws {
        try await Self.withPlatform { platform, client, admin in
            let _: AIMassAPI.Model = try await client.unary(
                ModelRegistryMethods.createModel, request: CreateModelRequest(model: AIMassAPI.Model(name: "m", manifest: ["algorithm": "usercf"])), options: admin)
            let bytes = Self.bytes(200_000, seed: 4)

            // Chunk before the header.
            #expect(await Self.code {
                let call: ClientCall<UploadVersionRequest, Version> = try await client.makeCall(
                    ModelRegistryMethods.uploadVersion, options: admin)
                try await call.send(UploadVersionRequest(part: .chunk(Array(bytes[0..<1000]))))
                call.finishSending()
                _ = try await call.next()
            } == .invalidArgument)
            // An empty stream.
            #expect(await Self.code {
                let call: ClientCall<UploadVersionRequest, Version> = try await client.makeCall(
                    ModelRegistryMethods.uploadVersion, options: admin)
                call.finishSending()
                _ = try await call.next()
            } == .invalidArgument)
            // sha256 mismatch.
            #expect(await Self.code {
                _ = try await Self.upload(client, model: "m", bytes: bytes, sha256: String(repeating: "0", count: 64), options: admin)
            } == .dataLoss)
            // Ends early: the header promises more than is sent.
            #expect(await Self.code {
                let call: ClientCall<UploadVersionRequest, Version> = try await client.makeCall(
                    ModelRegistryMethods.uploadVersion, options: admin)
                try await call.send(UploadVersionRequest(part: .header(AIMassAPI.VersionHeader(
                    model: "m", sizeBytes: 300_000, sha256: Self.sha256(bytes)))))
                try await call.send(UploadVersionRequest(part: .chunk(bytes)))
                call.finishSending()
                _ = try await call.next()
            } == .invalidArgument)
            // Unknown model.
            #expect(await Self.code {
                _ = try await Self.upload(client, model: "absent", bytes: bytes, options: admin)
            } == .notFound)

            let versions: ListVersionsResponse = try await client.unary(
                ModelRegistryMethods.listVersions, request: ListVersionsRequest(model: "m"), options: admin)
            #expect(versions.versions.isEmpty)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: platform.registry.dataDirectory + "/tmp")
            #expect(leftovers.isEmpty)
            // A good upload still works afterwards.
            let version = try await Self.upload(client, model: "m", bytes: bytes, options: admin)
            #expect(version.number == 1)
        }
    }
}
