import SchedulerCore
import Synchronization
import Testing

@testable import MeshCore

/// A journal in memory: what a leader recorded, as its successor reads it.
final class MemoryJournal: MeshJournal {
    let recorded = Mutex<[MeshEvent]>([])
    let states = Mutex<[MeshState]>([])
    let failing = Mutex(false)

    func restore() throws -> (state: MeshState, history: [MeshEvent])? {
        guard let state = states.withLock({ $0.last }) else { return nil }
        return (state, recorded.withLock { $0 })
    }

    func record(_ event: MeshEvent, state: MeshState) -> Bool {
        guard !failing.withLock({ $0 }) else { return false }
        recorded.withLock { $0.append(event) }
        states.withLock { $0.append(state) }
        return true
    }
}

/// High availability: a leader records every state event before issuing it, and its successor continues the same
/// revisions with the same history, so a watcher resumes across the change without a reset.
@Suite("Mesh journal")
struct MeshJournalTests {
    @Test("Every state event is recorded before a subscriber sees it; load reports are not recorded")
    func recordsStateEvents() async throws {
        let journal = MemoryJournal()
        let hub = MeshHub(journal: journal)
        let subscription = hub.subscribe()
        try hub.publish(Fixture.worker("w1"))
        try hub.publish(Fixture.load("w1", inFlight: 3))
        try hub.publish(Fixture.ready("r1", model: "movies"))
        var iterator = subscription.makeAsyncIterator()
        let events = try await iterator.take(4)
        #expect(events.map(\.kind) == [.snapshot, .workerJoined, .loadReported, .replicaReady])
        #expect(journal.recorded.withLock { $0.map(\.revision) } == [1, 2])
        #expect(journal.states.withLock { $0.last?.replicas.keys.sorted() } == ["r1"])
    }

    @Test("A successor restored from the journal replays what a watcher missed, then continues at the next revision")
    func successorContinues() async throws {
        let journal = MemoryJournal()
        let leader = MeshHub(journal: journal)
        try leader.publish(Fixture.worker("w1"))
        let seen = leader.revision
        try leader.publish(Fixture.deployment("movies"))
        try leader.publish(Fixture.ready("r1", model: "movies"))
        let restored = try #require(try journal.restore())
        let successor = MeshHub(state: restored.state, journal: journal, history: restored.history)
        #expect(successor.revision == 3)
        #expect(successor.state == leader.state)
        let resumed = successor.subscribe(fromRevision: seen)
        try successor.publish(Fixture.worker("w2"))
        var iterator = resumed.makeAsyncIterator()
        let events = try await iterator.take(3)
        #expect(events.map(\.revision) == [2, 3, 4])
        #expect(events.map(\.kind) == [.deploymentScaled, .replicaReady, .workerJoined])
        // A watcher from before the retained history still gets a snapshot with reset.
        let fresh = successor.subscribe(fromRevision: 0)
        var freshIterator = fresh.makeAsyncIterator()
        let snapshot = try #require(try await freshIterator.next()?.snapshot)
        #expect(snapshot.workers.map(\.id) == ["w1", "w2"] && !snapshot.reset)
    }

    @Test("History that does not lead to the state's revision is not replayed")
    func brokenHistoryIsIgnored() throws {
        let journal = MemoryJournal()
        let leader = MeshHub(journal: journal)
        for i in 1...3 { try leader.publish(Fixture.worker("w\(i)")) }
        let restored = try #require(try journal.restore())
        let gap = restored.history.filter { $0.revision != 2 }
        #expect(MeshHub.consecutive(gap, endingAt: 3).map(\.revision) == [3])
        #expect(MeshHub.consecutive(restored.history, endingAt: 4).isEmpty)
    }

    @Test("An event the journal cannot record is never delivered: the hub halts and its watchers end UNAVAILABLE")
    func failureHalts() async throws {
        let journal = MemoryJournal()
        let hub = MeshHub(journal: journal)
        try hub.publish(Fixture.worker("w1"))
        let subscription = hub.subscribe(fromRevision: 1)
        journal.failing.withLock { $0 = true }
        #expect(try hub.publish(Fixture.worker("w2")) == nil)
        #expect(hub.isHalted)
        var iterator = subscription.makeAsyncIterator()
        do {
            let event = try await iterator.next()
            Issue.record("expected the stream to end, got \(String(describing: event))")
        } catch {
            #expect(error as? MeshError == .shuttingDown(lastDeliveredRevision: 1))
        }
        journal.failing.withLock { $0 = false }
        #expect(try hub.publish(Fixture.worker("w3")) == nil)
        #expect(journal.recorded.withLock { $0.map(\.revision) } == [1])
    }

    @Test("A leader's hub records nothing after shutdown: its workers' streams closing is not news for its successor")
    func nothingAfterShutdown() throws {
        let journal = MemoryJournal()
        let hub = MeshHub(journal: journal)
        try hub.publish(Fixture.worker("w1"))
        hub.shutdown()
        #expect(try hub.publish(.healthChanged(HealthChanged(workerId: "w1", health: .notServing))) == nil)
        #expect(journal.recorded.withLock { $0.map(\.revision) } == [1])
        // Without a journal (one control plane) shutdown leaves publishing as it was.
        let plain = MeshHub()
        try plain.publish(Fixture.worker("w1"))
        plain.shutdown()
        #expect(try plain.publish(.healthChanged(HealthChanged(workerId: "w1", health: .notServing))) != nil)
    }
}
