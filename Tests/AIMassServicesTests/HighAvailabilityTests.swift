import AIMassAPI
import AIMassEtcd
import AIMassServices
import Foundation
import Logging
import MeshCore
import EtcdAPI
import ModelRegistry
import RPCCore
import RPCHTTP2
import Testing

@testable import AIMassServer

/// The pure parts of running control planes on etcd: which control plane a worker joins, and the fenced
/// transaction a batch of desired-state changes becomes.
@Suite("High availability")
struct HighAvailabilityTests {
    static let addresses = ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"]

    @Test("A worker follows the leader a standby names")
    func followsLeader() {
        var targets = ControlPlaneTargets(addresses: Self.addresses)
        let redirect = RPCError(code: .unavailable, message: "standby", metadata: ["aimass-leader": "127.0.0.1:7003"])
        targets.failed(with: redirect)
        #expect(targets.current == 2)
    }

    @Test("Without a known leader (dead control plane, or a leader not in the list) the worker tries the next one")
    func triesNext() {
        var targets = ControlPlaneTargets(addresses: Self.addresses)
        targets.failed(with: RPCError(code: .unavailable, message: "connection refused"))
        #expect(targets.current == 1)
        targets.failed(with: RPCError(code: .unavailable, message: "x", metadata: ["aimass-leader": "10.0.0.9:1"]))
        #expect(targets.current == 2)
        targets.failed(with: RPCError(code: .unavailable, message: "connection refused"))
        #expect(targets.current == 0)
    }

    @Test("A standby's answer names the leader in aimass-leader, or says none is known yet")
    func standbyRedirect() {
        let known = StandbyServer.redirect("127.0.0.1:7001")
        #expect(known.code == .unavailable)
        #expect(known.metadata.firstString(forKey: "aimass-leader") == "127.0.0.1:7001")
        let unknown = StandbyServer.redirect("")
        #expect(unknown.code == .unavailable && unknown.metadata.firstString(forKey: "aimass-leader") == nil)
    }

    @Test("A standby redirects registry reads until its replica is loaded from etcd, then answers them itself")
    func standbyReadsWaitForTheReplica() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aimass-standby-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let replica = try ModelRegistry.open(
            dataDirectory: directory, configuration: .defaults { $0.createAdminUser = false }, logger: Logger(label: "test"))
        defer { replica.close() }
        let standby = StandbyServer(
            configuration: .defaults { $0.port = 0 }, replica: replica, logger: Logger(label: "test"))
        let address = try await standby.start()
        standby.setLeader("127.0.0.1:7001")
        let client = RPCClient(host: "127.0.0.1", port: address.port ?? 0)
        let options = CallOptions(timeout: .seconds(120), metadata: ["authorization": .string("Bearer some-token")])
        func read() async -> RPCError? {
            do {
                let _: AIMassAPI.Model = try await client.unary(
                    ModelRegistryMethods.getModel, request: GetModelRequest(name: "movies"), options: options)
                return nil
            } catch {
                return error as? RPCError
            }
        }
        let before = await read()
        standby.replicaLoaded()
        let after = await read()
        await client.close()
        await standby.shutdown()
        // Before: the empty replica would have refused the token; the caller is sent to the leader instead.
        #expect(before?.code == .unavailable && before?.message.contains("not loaded") == true, "\(String(describing: before))")
        #expect(before?.metadata.firstString(forKey: "aimass-leader") == "127.0.0.1:7001")
        #expect(after?.code == .unauthenticated, "the loaded replica judges the token itself: \(String(describing: after))")
    }

    @Test("A standby answers for every method of the platform's API")
    func standbyCoversTheAPI() {
        let services = Set(StandbyServer.methods.map(\.service))
        #expect(services.isSuperset(of: Platform.serviceNames))
    }

    @Test("A batch of changes is one transaction guarded by the leader key's creation revision")
    func fencedTransaction() {
        let fence = LeaderElection.Fence(key: Array("/aimass/leader".utf8), createRevision: 42, lease: 7)
        let request = EtcdDesiredStateStore.transaction(
            [
                .init(namespace: "deployment", key: "movies@1", value: "{}"),
                .init(namespace: "worker", key: "w-1", value: nil),
            ], prefix: "/aimass/state/", fence: fence)
        #expect(request.compare == [
            Compare(result: .equal, target: .create, key: Array("/aimass/leader".utf8), targetUnion: .createRevision(42))
        ])
        #expect(request.success == [
            RequestOp(request: .requestPut(PutRequest(key: Array("/aimass/state/deployment/movies@1".utf8), value: Array("{}".utf8)))),
            RequestOp(request: .requestDeleteRange(DeleteRangeRequest(key: Array("/aimass/state/worker/w-1".utf8)))),
        ])
        #expect(request.failure.isEmpty)
    }

    @Test("A Mesh event is recorded in one fenced transaction; a checkpoint drops the events beyond the retained ones")
    func journalTransaction() throws {
        let fence = LeaderElection.Fence(key: Array("/aimass/leader".utf8), createRevision: 42, lease: 7)
        let event = MeshCore.MeshEvent(revision: 1500, occurredAtMs: 1, payload: .workerLeft(.init(workerId: "w1")))
        let plain = EtcdMeshJournal.transaction(
            event, state: MeshState(revision: 1500), checkpoint: false, retained: 1000, eventPrefix: "/aimass/mesh/event/",
            checkpointKey: Array("/aimass/mesh/checkpoint".utf8), fence: fence)
        #expect(plain.compare == [fence.compare])
        guard case .requestPut(let put) = try #require(plain.success.first?.request), plain.success.count == 1 else {
            Issue.record("expected one put, got \(plain.success)")
            return
        }
        #expect(String(decoding: put.key, as: UTF8.self) == "/aimass/mesh/event/00000000000000001500")
        #expect(try MeshCore.MeshEvent(AIMassAPI.MeshEvent(wireBytes: put.value)) == event)
        let checkpoint = EtcdMeshJournal.transaction(
            event, state: MeshState(revision: 1500), checkpoint: true, retained: 1000, eventPrefix: "/aimass/mesh/event/",
            checkpointKey: Array("/aimass/mesh/checkpoint".utf8), fence: fence)
        #expect(checkpoint.success.count == 3)
        guard case .requestDeleteRange(let dropped) = try #require(checkpoint.success.last?.request) else {
            Issue.record("expected a range deletion last")
            return
        }
        #expect(String(decoding: dropped.key, as: UTF8.self) == "/aimass/mesh/event/00000000000000000000")
        #expect(String(decoding: dropped.rangeEnd, as: UTF8.self) == "/aimass/mesh/event/00000000000000000501")
    }
}
