import AIMassAPI
import AIMassServer
import Foundation
import RPCCore
import RPCHTTP2
import Testing

@testable import ModelRegistry

/// `Recommend` on the embedded control plane answers who the caller is and which version to serve from the
/// registry's access cache; a registry write must still apply to the very next call over gRPC.
@Suite("Recommend with the registry's access cache", .serialized)
struct RecommendAccessCacheTests {
    @Test("Alias moved, grant removed, token revoked: each applies to the very next call")
    func writesApplyAtOnce() async throws {
        let fixture = try await RecommendServiceTests.Fixture.start()
        do {
            let registry = fixture.platform.registry
            let admin = try registry.principal(forUser: "admin")
            // Version 2: the same interactions with another K, and user carol, a reader through her own grant.
            let version1 = try registry.getVersion(model: "dishes", .number(1), by: admin)
            let reader = try registry.openArtifact(model: "dishes", version: .number(1), by: admin)
            var bytes: [UInt8] = []
            while case let chunk = try reader.read(upTo: 1 << 16), !chunk.isEmpty { bytes += chunk }
            reader.close()
            let upload = try registry.beginUpload(
                model: "dishes",
                header: VersionHeader(
                    sizeBytes: version1.sizeBytes,
                    sha256: version1.sha256,
                    manifest: ["algorithm": "itemcf", "neighbours": "3"]
                ),
                by: admin
            )
            try upload.append(bytes)
            _ = try upload.finish()
            try registry.createUser("carol", by: admin)
            let token = try registry.createToken(for: "carol", by: admin)
            try registry.setPermission(model: "dishes", grantee: .user("carol"), role: .reader, by: admin)
            try registry.setAlias(model: "dishes", alias: "prod", version: .number(1), by: admin)

            var options = CallOptions(timeout: .seconds(120))
            options.metadata.add("Bearer \(token.token)", forKey: "authorization")
            func served() async throws -> UInt32? {
                let response: RecommendResponse = try await fixture.client.unary(
                    RecommendMethods.recommend,
                    request: RecommendRequest(model: "dishes", version: VersionSelector(alias: "prod"), userId: "alice", k: 3),
                    options: options
                )
                return response.servedBy?.version
            }
            func status() async -> StatusCode? {
                do { _ = try await served() } catch let error as RPCError { return error.code } catch { return nil }
                return .ok
            }

            #expect(try await served() == 1)
            #expect(try await served() == 1)
            try registry.setAlias(model: "dishes", alias: "prod", version: .number(2), by: admin)
            #expect(try await served() == 2)

            try registry.setPermission(model: "dishes", grantee: .user("carol"), role: nil, by: admin)
            #expect(await status() == .permissionDenied)
            try registry.setPermission(model: "dishes", grantee: .user("carol"), role: .reader, by: admin)
            #expect(try await served() == 2)

            try registry.revokeToken(id: token.id, by: admin)
            #expect(await status() == .unauthenticated)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
