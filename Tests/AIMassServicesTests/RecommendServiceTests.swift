import AIMassAPI
import AIMassServer
import AIMassServices
import Foundation
import RPCCore
import RPCHTTP2
import Testing

@testable import ModelRegistry

/// The Recommend service over a real socket: a version uploaded to the registry is served,
/// recommended from, and evaluated (metrics stored on the version).
@Suite("Recommend service", .serialized)
struct RecommendServiceTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A started platform on a temporary data directory, with the dishes demo uploaded as version 1.
    struct Fixture {
        let platform: Platform
        let client: RPCClient
        let options: CallOptions
        let directory: URL

        static func start(scheduler: SchedulerController.Configuration = .defaults) async throws -> Fixture {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aimass-rec-\(UUID().uuidString)")
            let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory.path, scheduler: scheduler))
            let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let admin = try platform.registry.authenticate(token: token)
            let dishes = repositoryRoot.appendingPathComponent("examples/dishes")
            let bytes = Array(try Data(contentsOf: dishes.appendingPathComponent("interactions.tsv")))
            _ = try platform.registry.createModel(Model(name: "dishes"), by: admin)
            let upload = try platform.registry.beginUpload(
                model: "dishes",
                header: VersionHeader(
                    sizeBytes: Int64(bytes.count),
                    sha256: try SHA256Hasher.hex(of: bytes),
                    manifest: ["algorithm": "itemcf", "neighbours": "5"]
                ),
                by: admin
            )
            try upload.append(bytes)
            _ = try upload.finish()
            let client = RPCClient(host: "127.0.0.1", port: platform.address.port ?? 0)
            // A bound against hangs only: the whole suite in parallel on 2 cores kept one watch waiting past 20 s.
            var options = CallOptions(timeout: .seconds(120))
            options.metadata.add("Bearer \(token)", forKey: "authorization")
            return Fixture(platform: platform, client: client, options: options, directory: directory)
        }

        func stop() async {
            await client.close()
            await platform.shutdown(gracePeriod: .seconds(1))
            try? FileManager.default.removeItem(at: directory)
        }

        func call<Request: WireMessage, Response: WireMessage>(_ method: MethodDescriptor, _ request: Request) async throws -> Response {
            try await client.unary(method, request: request, options: options)
        }
    }

    @Test("similar dishes, recommendations for a user and for seed items")
    func servesRecommendations() async throws {
        let fixture = try await Fixture.start()
        do {
            let similar: SimilarItemsResponse = try await fixture.call(
                RecommendMethods.similarItems,
                SimilarItemsRequest(model: "dishes", itemId: "kung_pao_chicken", k: 3)
            )
            #expect(!similar.items.isEmpty && similar.items.count <= 3)
            #expect(!similar.items.contains { $0.itemId == "kung_pao_chicken" })
            #expect(zip(similar.items, similar.items.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(similar.servedBy?.version == 1)

            let forUser: RecommendResponse = try await fixture.call(
                RecommendMethods.recommend,
                RecommendRequest(model: "dishes", userId: "alice", k: 5, excludeSeen: true)
            )
            #expect(!forUser.items.isEmpty)
            #expect(!forUser.items.contains { ["kung_pao_chicken", "mapo_tofu"].contains($0.itemId) })

            let seeded: RecommendResponse = try await fixture.call(
                RecommendMethods.recommend,
                RecommendRequest(model: "dishes", seedItems: ["mapo_tofu"], k: 4, excludeSeen: true)
            )
            #expect(!seeded.items.isEmpty && seeded.items.allSatisfy { $0.score > 0 })
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    @Test("bad input gets clear statuses")
    func badInput() async throws {
        let fixture = try await Fixture.start()
        func status(_ body: () async throws -> Void) async -> StatusCode? {
            do { try await body() } catch let error as RPCError { return error.code } catch { return nil }
            return .ok
        }
        // A user the model has no history of is a cold start, not an error: the most popular items.
        let coldStart: RecommendResponse = try await fixture.call(
            RecommendMethods.recommend, RecommendRequest(model: "dishes", userId: "nobody"))
        #expect(coldStart.path == .popularity && !coldStart.items.isEmpty)
        let unknownVersion = await status {
            let _: RecommendResponse = try await fixture.call(
                RecommendMethods.recommend, RecommendRequest(model: "dishes", version: VersionSelector(number: 99), userId: "alice"))
        }
        #expect(unknownVersion == .notFound)
        let unknownModel = await status {
            let _: RecommendResponse = try await fixture.call(RecommendMethods.recommend, RecommendRequest(model: "nope", userId: "alice"))
        }
        #expect(unknownModel == .notFound)
        let hugeK = await status {
            let _: RecommendResponse = try await fixture.call(
                RecommendMethods.recommend,
                RecommendRequest(model: "dishes", userId: "alice", k: 20_000)
            )
        }
        #expect(hugeK == .invalidArgument)
        let noUser = await status {
            let _: RecommendResponse = try await fixture.call(RecommendMethods.recommend, RecommendRequest(model: "dishes"))
        }
        #expect(noUser == .invalidArgument)
        let anonymous = await status {
            let _: RecommendResponse = try await fixture.client.unary(
                RecommendMethods.recommend,
                request: RecommendRequest(model: "dishes", userId: "alice"),
                options: CallOptions(timeout: .seconds(5))
            )
        }
        #expect(anonymous == .unauthenticated)
        await fixture.stop()
    }

    @Test("Evaluate stores leave-one-out metrics on the version")
    func evaluateStoresMetrics() async throws {
        let fixture = try await Fixture.start()
        do {
            let response: EvaluateResponse = try await fixture.call(
                RecommendMethods.evaluate,
                EvaluateRequest(model: "dishes", protocol: .leaveLastOneOut)
            )
            #expect(response.stored)
            #expect(response.version == 1)
            let hitRate = try #require(response.metrics["loo.hr@10"])
            #expect(hitRate >= 0 && hitRate <= 1)
            let token = try String(contentsOfFile: fixture.platform.registry.adminTokenPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let admin = try fixture.platform.registry.authenticate(token: token)
            let version = try fixture.platform.registry.getVersion(model: "dishes", .number(1), by: admin)
            #expect(version.metrics["loo.hr@10"] == hitRate)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
