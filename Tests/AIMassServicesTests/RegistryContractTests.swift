import AIMassAPI
import AIMassServer
import AIMassServices
import Foundation
@testable import ModelRegistry
import RPCCore
import RPCHTTP2
import Testing

/// What registry.proto promises about manifests and DeleteVersion, through a real platform and our client.
extension RegistryServiceTests {
    static func error(_ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(code: .unknown, message: "\(error)")
        }
    }

    static func createModel(_ client: RPCClient, _ name: String, manifest: [String: String], options: CallOptions) async throws {
        let _: AIMassAPI.Model = try await client.unary(
            ModelRegistryMethods.createModel, request: CreateModelRequest(model: AIMassAPI.Model(name: name, manifest: manifest)),
            options: options)
    }

    @Test(
        "An upload whose manifest the replicas cannot load is INVALID_ARGUMENT naming the key, and stores nothing",
        arguments: [
            (["neighbours": "-3"], "neighbours"),
            (["algorithm": "svd"], "algorithm"),
            (["similarity": "manhattan"], "similarity"),
            (["distance": "cosine"], "distance"),
            (["algorithm": "usercf", "similarity": "adjusted_cosine"], "feedback explicit"),
            (["algorithm": "usercf", "user_feature_weight": "0.2"], "user_features"),
            (["weighting": "idf"], "weighting"),
            (["weighting": "iif"], "iif"),
            (["k": "10", "neighbours": "20"], "neighbours"),
        ]
    )
    func invalidManifestStoresNothing(manifest: [String: String], key: String) async throws {
        try await Self.withPlatform { platform, client, admin in
            try await Self.createModel(client, "movies", manifest: ["algorithm": "itemcf"], options: admin)
            let failure = await Self.error {
                _ = try await Self.upload(client, model: "movies", bytes: Self.bytes(50_000, seed: 7), manifest: manifest, options: admin)
            }
            #expect(failure?.code == .invalidArgument)
            #expect(failure?.message.contains(key) == true, "\(failure?.message ?? "")")
            let versions: ListVersionsResponse = try await client.unary(
                ModelRegistryMethods.listVersions, request: ListVersionsRequest(model: "movies"), options: admin)
            #expect(versions.versions.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: platform.registry.dataDirectory + "/tmp").isEmpty)
        }
    }

    @Test("A version needs an algorithm, from the model's default manifest or the upload's")
    func algorithmRequired() async throws {
        try await Self.withPlatform { _, client, admin in
            try await Self.createModel(client, "bare", manifest: ["neighbours": "30"], options: admin)
            let failure = await Self.error {
                _ = try await Self.upload(client, model: "bare", bytes: Self.bytes(1_000, seed: 8), options: admin)
            }
            #expect(failure?.code == .invalidArgument)
            #expect(failure?.message.contains("'algorithm' is required: itemcf or usercf") == true, "\(failure?.message ?? "")")
            let version = try await Self.upload(
                client, model: "bare", bytes: Self.bytes(1_000, seed: 8), manifest: ["algorithm": "usercf"], options: admin)
            #expect(version.manifest == ["algorithm": "usercf", "neighbours": "30"])
        }
    }

    @Test("CreateModel and UpdateModel check the default manifest's keys and values")
    func defaultManifestChecked() async throws {
        try await Self.withPlatform { _, client, admin in
            let created = await Self.error {
                try await Self.createModel(client, "bad", manifest: ["format": "csv"], options: admin)
            }
            #expect(created?.code == .invalidArgument)
            #expect(created?.message.contains("unknown key 'format' (allowed: algorithm, neighbours") == true)
            #expect(await Self.code {
                let _: AIMassAPI.Model = try await client.unary(
                    ModelRegistryMethods.getModel, request: GetModelRequest(name: "bad"), options: admin)
            } == .notFound)

            try await Self.createModel(client, "good", manifest: ["neighbours": "50"], options: admin)
            let updated = await Self.error {
                let _: AIMassAPI.Model = try await client.unary(
                    ModelRegistryMethods.updateModel,
                    request: UpdateModelRequest(model: AIMassAPI.Model(name: "good", manifest: ["neighbours": "0"]), updateMask: ["manifest"]),
                    options: admin)
            }
            #expect(updated?.code == .invalidArgument && updated?.message.contains("neighbours") == true)
        }
    }

    @Test("DeleteVersion removes one version, refuses aliased or newest ones, and frees an unshared artifact")
    func deleteVersion() async throws {
        try await Self.withPlatform { platform, client, admin in
            try await Self.createModel(client, "movies", manifest: ["algorithm": "itemcf"], options: admin)
            let shared = Self.bytes(20_000, seed: 11)
            let own = Self.bytes(20_000, seed: 12)
            let v1 = try await Self.upload(client, model: "movies", bytes: shared, options: admin)
            let v2 = try await Self.upload(client, model: "movies", bytes: own, options: admin)
            _ = try await Self.upload(client, model: "movies", bytes: shared, options: admin)
            let _: SetAliasResponse = try await client.unary(
                ModelRegistryMethods.setAlias, request: SetAliasRequest(model: "movies", alias: "production", version: 2), options: admin)
            func delete(_ number: UInt32) async -> RPCError? {
                await Self.error {
                    let _: DeleteVersionResponse = try await client.unary(
                        ModelRegistryMethods.deleteVersion, request: DeleteVersionRequest(model: "movies", version: number), options: admin)
                }
            }
            let aliased = await delete(2)
            #expect(aliased?.code == .failedPrecondition && aliased?.message.contains("'production'") == true)
            let newest = await delete(3)
            #expect(newest?.code == .failedPrecondition && newest?.message.contains("latest") == true)
            #expect(await delete(9)?.code == .notFound)
            #expect(await delete(0)?.code == .invalidArgument)

            // Version 1 shares its artifact with version 3: the file stays.
            #expect(await delete(1) == nil)
            let artifacts = platform.registry.dataDirectory + "/artifacts"
            #expect(Self.files(under: artifacts).contains { $0.hasSuffix(v1.sha256) })
            let (_, body) = try await Self.download(client, model: "movies", options: admin)
            #expect(body == shared)

            // Version 2's artifact is its own: the file goes with it.
            let _: SetAliasResponse = try await client.unary(
                ModelRegistryMethods.setAlias, request: SetAliasRequest(model: "movies", alias: "production", version: 3), options: admin)
            #expect(await delete(2) == nil)
            #expect(!Self.files(under: artifacts).contains { $0.hasSuffix(v2.sha256) })
            let versions: ListVersionsResponse = try await client.unary(
                ModelRegistryMethods.listVersions, request: ListVersionsRequest(model: "movies"), options: admin)
            #expect(versions.versions.map(\.number) == [3])
            // Numbers are not reused.
            #expect(try await Self.upload(client, model: "movies", bytes: own, options: admin).number == 4)
        }
    }

    static func files(under directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String]) ?? []
    }
}
