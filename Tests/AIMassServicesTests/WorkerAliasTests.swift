import AIMassAPI
import AIMassServer
import Foundation
@testable import ModelRegistry
import RPCCore
import RPCHTTP2
import Testing

/// A worker asked for an alias serves the version the control plane says it points at (recommend.proto), not the
/// newest version it holds; one it does not hold is UNAVAILABLE naming it. DeleteVersion spares a served version.
@Suite("Worker alias resolution", .serialized)
struct WorkerAliasTests {
    @Test("A worker resolves an alias with the control plane, follows its move, and names a version it does not hold")
    func workerResolvesAliases() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aimass-alias-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory.path, role: .controlPlane))
        let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let admin = try platform.registry.authenticate(token: token)
        let bytes = Array(try Data(contentsOf: RecommendServiceTests.repositoryRoot.appendingPathComponent("examples/dishes/interactions.tsv")))
        _ = try platform.registry.createModel(Model(name: "dishes", manifest: ["algorithm": "itemcf"]), by: admin)
        for neighbours in ["5", "3", "2"] {
            let upload = try platform.registry.beginUpload(
                model: "dishes",
                header: VersionHeader(sizeBytes: Int64(bytes.count), sha256: try SHA256Hasher.hex(of: bytes), manifest: ["algorithm": "itemcf", "neighbours": neighbours]),
                by: admin)
            try upload.append(bytes)
            _ = try upload.finish()
        }
        _ = try platform.registry.setAlias(model: "dishes", alias: "production", version: .number(1), by: admin)
        _ = try platform.registry.setAlias(model: "dishes", alias: "canary", version: .number(3), by: admin)
        let worker = try await WorkerServer.start(
            configuration: .init(
                controlPlaneHost: "127.0.0.1", controlPlanePort: platform.address.port ?? 0,
                capacity: Capacity(cpuMillis: 4000, memoryBytes: 4 << 30, replicaSlots: 4), token: token))
        let control = RPCClient(host: "127.0.0.1", port: platform.address.port ?? 0)
        let client = RPCClient(host: "127.0.0.1", port: worker.address.port ?? 0)
        var options = CallOptions(timeout: .seconds(120))
        options.metadata.add("Bearer \(token)", forKey: "authorization")
        func recommend(_ selector: VersionSelector) async throws -> RecommendResponse {
            try await client.unary(
                RecommendMethods.recommend, request: RecommendRequest(model: "dishes", version: selector, userId: "alice"), options: options)
        }
        do {
            // Versions 1 and 2 on the worker; version 3 (canary) nowhere.
            for number in [UInt32(1), 2] {
                let deployed: Deployment = try await control.unary(
                    SchedulerMethods.deploy, request: DeployRequest(model: "dishes", version: VersionSelector(number: number)), options: options)
                let end = ContinuousClock.now + .seconds(30)
                while true {
                    let now: Deployment = try await control.unary(
                        SchedulerMethods.getDeployment, request: GetDeploymentRequest(id: deployed.id), options: options)
                    if now.readyReplicas == 1 { break }
                    try #require(ContinuousClock.now < end, "deployment \(deployed.id) not ready: \(now)")
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(try await recommend(VersionSelector(alias: "production")).servedBy?.version == 1)
            #expect(try await recommend(VersionSelector(number: 2)).servedBy?.version == 2)
            #expect(try await recommend(VersionSelector()).servedBy?.version == 2)  // no selector: the newest held

            let missing = await #expect(throws: RPCError.self) { _ = try await recommend(VersionSelector(alias: "canary")) }
            #expect(missing?.code == .unavailable)
            #expect(missing?.message.contains("model 'dishes' version 3") == true, "\(missing?.message ?? "")")
            let unknown = await #expect(throws: RPCError.self) { _ = try await recommend(VersionSelector(alias: "nope")) }
            #expect(unknown?.code == .notFound)

            // The alias moves on the control plane: the worker follows within its cache's TTL (5 s).
            _ = try platform.registry.setAlias(model: "dishes", alias: "production", version: .number(2), by: admin)
            let end = ContinuousClock.now + .seconds(120)  // the TTL, with room for a loaded machine
            var served = try await recommend(VersionSelector(alias: "production")).servedBy?.version
            while served != 2, ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(200))
                served = try await recommend(VersionSelector(alias: "production")).servedBy?.version
            }
            #expect(served == 2)

            // No alias points at version 1 any more, but a deployment serves it: DeleteVersion is refused.
            let refused = await #expect(throws: RPCError.self) {
                let _: DeleteVersionResponse = try await control.unary(
                    ModelRegistryMethods.deleteVersion, request: DeleteVersionRequest(model: "dishes", version: 1), options: options)
            }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.message.contains("deployment dishes@1") == true, "\(refused?.message ?? "")")
        } catch {
            await client.close()
            await control.close()
            await worker.shutdown()
            await platform.shutdown(gracePeriod: .seconds(1))
            throw error
        }
        await client.close()
        await control.close()
        await worker.shutdown()
        await platform.shutdown(gracePeriod: .seconds(1))
    }
}
