import AIMassAPI
import AIMassClient
import MeshCore
import RPCCore
import SchedulerCore
import Synchronization
import TestSupport
import Testing

/// The watcher against a real control plane: snapshot then ordered changes; a cut stream resumes without a gap or a
/// duplicate.
@Suite("Mesh watcher", .serialized)
struct MeshWatcherTests {
    /// Collects the watcher's applied events in a task.
    final class Recorder: Sendable {
        private let state = Mutex<(events: [AIMassAPI.MeshEvent], connects: Int)>(([], 0))
        private let task = Mutex<Task<Void, Never>?>(nil)

        init(_ watcher: MeshWatcher) {
            let stream = watcher.changes()
            let task = Task { [self] in
                for await change in stream { self.record(change) }
            }
            self.task.withLock { $0 = task }
        }

        private func record(_ change: MeshWatcher.Change) {
            state.withLock { state in
                switch change {
                case .applied(let event): state.events.append(event)
                case .connected: state.connects += 1
                case .disconnected: break
                }
            }
        }

        func cancel() { task.withLock { $0 }?.cancel() }
        var events: [AIMassAPI.MeshEvent] { state.withLock { $0.events } }
        var connects: Int { state.withLock { $0.connects } }
        var stateEvents: [AIMassAPI.MeshEvent] {
            events.filter { ![.heartbeat, .loadReported, .snapshot].contains($0.kind) }
        }
    }

    @Test("a watcher sees the snapshot, then every change in order")
    func snapshotThenChanges() async throws {
        let fixture = try await MeshFixture.start()
        try fixture.join(0)
        let watcher = fixture.watcher()
        let recorder = Recorder(watcher)
        let running = Task { await watcher.run() }
        #expect(await eventually { watcher.view.revision == 3 })
        try fixture.join(1)
        try fixture.publish(.loadReported(SchedulerCore.LoadReport(workerId: "w2", total: SchedulerCore.Load(inFlight: 2, latencyEwmaUs: 900))))
        try fixture.setHealth(0, .draining)
        try fixture.setReplica(1, .draining)
        #expect(await eventually { watcher.view.revision == fixture.platform.mesh.revision })
        // The view is updated before the change reaches the stream's consumer.
        #expect(await eventually { recorder.stateEvents.last?.revision == 8 })

        let events = recorder.events.filter { $0.kind != .heartbeat }
        #expect(events.first?.kind == .snapshot)
        if case .snapshot(let snapshot)? = events.first?.payload {
            #expect(snapshot.workers.map(\.id) == ["w1"] && snapshot.replicas.map(\.id) == ["movies-w1"])
        }
        #expect(events.dropFirst().map(\.kind) == [
            .workerJoined, .healthChanged, .replicaReady, .loadReported, .healthChanged, .replicaDraining,
        ])
        #expect(recorder.stateEvents.map(\.revision) == Array(4...8))
        let view = watcher.view
        #expect(view.workers["w1"]?.health == .draining && view.workers["w2"]?.load?.total?.inFlight == 2)
        #expect(view.replicas["movies-w2"]?.state == .draining && view.eligibleWorkers(model: "movies").isEmpty)
        #expect(Set(view.replicas.keys) == Set(fixture.platform.mesh.state.replicas.keys))

        await watcher.close()
        await running.value
        recorder.cancel()
        await fixture.stop()
    }

    @Test("a watcher whose stream is cut resumes from its revision: nothing missed, nothing twice")
    func resumesAfterCut() async throws {
        let fixture = try await MeshFixture.start()
        try fixture.join(0)
        let watcher = fixture.watcher()
        let recorder = Recorder(watcher)
        let running = Task { await watcher.run() }
        #expect(await eventually { watcher.view.revision == 3 })

        // Publish 300 changes while the stream is cut three times.
        for index in 0..<300 {
            let replica = SchedulerCore.Replica(
                id: ReplicaID("r\(index)"), deploymentID: "d", model: "movies", version: 1, workerID: "w1", state: .ready)
            try fixture.publish(.replicaReady(replica))
            if index % 100 == 50 {
                let connects = index / 100 + 1
                #expect(await eventually { recorder.connects == connects })
                watcher.restartStream()
            }
            if index % 10 == 0 { try await Task.sleep(for: .milliseconds(2)) }
        }
        let final = fixture.platform.mesh.revision
        #expect(await eventually { watcher.view.revision == final })
        #expect(await eventually { recorder.stateEvents.last?.revision == final })

        let revisions = recorder.stateEvents.map(\.revision)
        #expect(revisions == Array(4...final), "every revision exactly once, in order")
        let snapshots = recorder.events.filter { $0.kind == .snapshot }
        #expect(snapshots.count == 1, "resumed from the log, never re-snapshotted")
        #expect(recorder.connects >= 4)
        #expect(Set(watcher.view.replicas.keys) == Set(fixture.platform.mesh.state.replicas.keys))

        await watcher.close()
        await running.value
        recorder.cancel()
        await fixture.stop()
    }

    @Test("the view ignores duplicates and replaces itself on a snapshot")
    func viewRules() {
        var view = MeshView()
        let worker = AIMassAPI.Worker(id: "w1", address: "h:1", health: .serving)
        let ready = AIMassAPI.Replica(id: "r1", model: "m", workerId: "w1", state: .ready)
        let applied = [
            view.apply(AIMassAPI.MeshEvent(revision: 2, kind: .snapshot, payload: .snapshot(Snapshot(workers: [worker])))),
            view.apply(AIMassAPI.MeshEvent(revision: 3, kind: .replicaReady, payload: .replicaReady(ready))),
            view.apply(AIMassAPI.MeshEvent(revision: 3, kind: .replicaReady, payload: .replicaReady(ready))),
        ]
        #expect(applied == [true, true, false])
        #expect(view.eligibleWorkers(model: "m").map(\.id) == ["w1"])
        let reset = view.apply(AIMassAPI.MeshEvent(revision: 9, kind: .snapshot, payload: .snapshot(Snapshot(reset: true))))
        #expect(reset)
        #expect(view.revision == 9 && view.workers.isEmpty && view.replicas.isEmpty)
        #expect(Endpoint.split("[::1]:80")?.host == "::1" && Endpoint.split("nohost") == nil)
    }
}
