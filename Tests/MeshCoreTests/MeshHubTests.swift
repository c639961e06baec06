import SchedulerCore
import Testing

@testable import MeshCore

@Suite struct MeshHubTests {
    @Test func snapshotThenDeltasInOrder() async throws {
        let hub = Fixture.hub()
        try hub.publish(Fixture.worker("w1"))
        try hub.publish(Fixture.deployment("m"))
        var events = hub.subscribe().makeAsyncIterator()
        try hub.publish(Fixture.ready("r1", model: "m"))
        try hub.publish(.healthChanged(HealthChanged(workerId: "w1", health: .draining)))
        let received = try await events.take(3)
        let snapshot = try #require(received.first?.snapshot)
        #expect(received[0].revision == 2)
        #expect(!snapshot.reset)
        #expect(snapshot.workers.map(\.id) == ["w1"])
        #expect(snapshot.deployments.map(\.id) == ["d-m"])
        #expect(received.dropFirst().map(\.revision) == [3, 4])
        #expect(received.dropFirst().map(\.kind) == [.replicaReady, .healthChanged])
    }

    @Test func resumeFromTheMiddleGetsExactlyTheMissedEvents() async throws {
        let hub = Fixture.hub(log: 100)
        try hub.publish(Fixture.worker("w1"))
        for index in 0..<9 {
            try hub.publish(Fixture.ready("r\(index)", model: "m"))
        }
        #expect(hub.revision == 10)
        var events = hub.subscribe(fromRevision: 6).makeAsyncIterator()
        try hub.publish(Fixture.ready("late", model: "m"))
        let received = try await events.take(5)
        #expect(received.map(\.revision) == [7, 8, 9, 10, 11])
        #expect(received.allSatisfy { $0.kind == .replicaReady })
    }

    @Test func resumeAtTheCurrentRevisionGetsOnlyLiveEvents() async throws {
        let hub = Fixture.hub()
        try hub.publish(Fixture.worker("w1"))
        var events = hub.subscribe(fromRevision: 1).makeAsyncIterator()
        try hub.publish(Fixture.worker("w2"))
        #expect(try await events.take(1).map(\.revision) == [2])
    }

    @Test func resumeFromTooOldOrUnknownRevisionGetsResetSnapshot() async throws {
        let hub = Fixture.hub(log: 5)
        try hub.publish(Fixture.worker("w1"))
        for index in 0..<10 {
            try hub.publish(Fixture.ready("r\(index)", model: "m"))
        }
        for from in [UInt64(3), 99] {
            var events = hub.subscribe(fromRevision: from).makeAsyncIterator()
            let first = try #require(try await events.next())
            #expect(first.revision == 11)
            #expect(first.snapshot?.reset == true)
            #expect(first.snapshot?.replicas.count == 10)
        }
        var fresh = hub.subscribe(fromRevision: 6).makeAsyncIterator()
        #expect(try await fresh.take(5).map(\.revision) == [7, 8, 9, 10, 11])
    }

    @Test func filtersByModelAndKind() async throws {
        let hub = Fixture.hub()
        try hub.publish(Fixture.worker("w1"))
        try hub.publish(Fixture.deployment("a"))
        try hub.publish(Fixture.deployment("b"))
        try hub.publish(Fixture.ready("ra", model: "a"))
        try hub.publish(Fixture.ready("rb", model: "b"))
        var onlyA = hub.subscribe(models: ["a"]).makeAsyncIterator()
        var onlyHealth = hub.subscribe(models: [], kinds: [.healthChanged]).makeAsyncIterator()
        var resumedA = hub.subscribe(fromRevision: 1, models: ["a"]).makeAsyncIterator()
        try hub.publish(Fixture.ready("rb2", model: "b"))
        try hub.publish(Fixture.worker("w2"))
        try hub.publish(.healthChanged(HealthChanged(workerId: "w2", health: .notServing)))
        try hub.publish(Fixture.ready("ra2", model: "a"))

        let a = try await onlyA.take(4)
        let snapshot = try #require(a.first?.snapshot)
        #expect(snapshot.workers.map(\.id) == ["w1"])
        #expect(snapshot.deployments.map(\.model) == ["a"])
        #expect(snapshot.replicas.map(\.id) == ["ra"])
        #expect(a.dropFirst().map(\.kind) == [.workerJoined, .healthChanged, .replicaReady])
        #expect(a.last?.revision == 9)

        let health = try await onlyHealth.take(2)
        #expect(health.map(\.kind) == [.snapshot, .healthChanged])
        #expect(health[1].revision == 8)

        let resumed = try await resumedA.take(5)
        #expect(resumed.map(\.revision) == [2, 4, 7, 8, 9])
    }

    @Test func loadReportsCoalescePerWorkerUnderASlowConsumer() async throws {
        let hub = Fixture.hub(buffer: 4)
        try hub.publish(Fixture.worker("w1"))
        try hub.publish(Fixture.worker("w2"))
        var events = hub.subscribe(fromRevision: 2).makeAsyncIterator()
        for round in UInt32(1)...1_000 {
            try hub.publish(Fixture.load("w1", inFlight: round))
            try hub.publish(Fixture.load("w2", inFlight: round * 10))
            if round == 500 {
                try hub.publish(Fixture.ready("r1", model: "m"))
            }
        }
        try hub.publish(Fixture.ready("r2", model: "m"))
        let received = try await events.take(4)
        #expect(received.map(\.kind) == [.loadReported, .loadReported, .replicaReady, .replicaReady])
        #expect(received[0].load?.workerId == "w1")
        #expect(received[0].load?.total.inFlight == 1_000)
        #expect(received[1].load?.total.inFlight == 10_000)
        #expect(received.map(\.revision) == [2, 2, 3, 4])
        #expect(hub.state.workers["w1"]?.load?.total.inFlight == 1_000)
    }

    @Test func resumeIsFollowedByEachWorkersLatestLoad() async throws {
        let hub = Fixture.hub(log: 100)
        try hub.publish(Fixture.worker("w1"))
        try hub.publish(Fixture.worker("w2"))
        try hub.publish(Fixture.load("w2", inFlight: 3))
        try hub.publish(Fixture.load("w2", inFlight: 5))
        try hub.publish(Fixture.ready("r1", model: "m"))
        var events = hub.subscribe(fromRevision: 2).makeAsyncIterator()
        let received = try await events.take(2)
        #expect(received.map(\.kind) == [.replicaReady, .loadReported])
        #expect(received.last?.load?.workerId == "w2" && received.last?.load?.total.inFlight == 5)
        #expect(received.map(\.revision) == [3, 3])
    }

    @Test func pendingLoadReportOfAWorkerThatLeftIsDropped() async throws {
        let hub = Fixture.hub()
        try hub.publish(Fixture.worker("w1"))
        var events = hub.subscribe(fromRevision: 1).makeAsyncIterator()
        try hub.publish(Fixture.load("w1", inFlight: 1))
        try hub.publish(.workerLeft(WorkerLeft(workerId: "w1", reason: "lease expired")))
        try hub.publish(Fixture.worker("w1"))
        try hub.publish(Fixture.load("w1", inFlight: 7))
        let received = try await events.take(3)
        #expect(received.map(\.kind) == [.workerLeft, .workerJoined, .loadReported])
        #expect(received.last?.load?.total.inFlight == 7)
        #expect(received.map(\.revision) == [2, 3, 3])
    }

    @Test func tooSlowSubscriberIsEndedWithItsLastDeliveredRevision() async throws {
        let hub = Fixture.hub(buffer: 5)
        try hub.publish(Fixture.worker("w1"))
        var slow = hub.subscribe().makeAsyncIterator()
        var fast = hub.subscribe().makeAsyncIterator()
        #expect(try await slow.next()?.revision == 1)
        try hub.publish(Fixture.ready("r0", model: "m"))
        #expect(try await slow.next()?.revision == 2)
        for index in 1...6 {
            try hub.publish(Fixture.ready("r\(index)", model: "m"))
            #expect(try await fast.take(index == 1 ? 3 : 1).last?.revision == UInt64(2 + index))
        }
        await #expect(throws: MeshError.subscriberTooSlow(lastDeliveredRevision: 2)) {
            _ = try await slow.next()
        }
        #expect(try await slow.next() == nil)
        #expect(hub.subscriberCount == 1)
        var resumed = hub.subscribe(fromRevision: 2).makeAsyncIterator()
        #expect(try await resumed.take(6).map(\.revision) == [3, 4, 5, 6, 7, 8])
    }

    @Test func heartbeatWhenIdleCarriesTheCurrentRevision() async throws {
        let hub = Fixture.hub(heartbeat: .seconds(60))
        try hub.publish(Fixture.worker("w1"))
        var events = hub.subscribe(models: ["elsewhere"], heartbeatInterval: .milliseconds(50)).makeAsyncIterator()
        #expect(try await events.next()?.kind == .snapshot)
        try hub.publish(Fixture.ready("r1", model: "m"))
        let beat = try #require(try await events.next())
        #expect(beat.kind == .heartbeat)
        #expect(beat.revision == 2)
        #expect(try await events.next()?.kind == .heartbeat)
    }

    @Test func cancellingTheConsumerEndsTheSubscription() async throws {
        let hub = Fixture.hub()
        let subscription = hub.subscribe()
        let (received, receivedOne) = AsyncStream.makeStream(of: Void.self)
        let consumer = Task {
            var count = 0
            for try await _ in subscription {
                count += 1
                receivedOne.yield()
            }
            return count
        }
        // Cancelled once it holds the snapshot, not after a guessed delay.
        var iterator = received.makeAsyncIterator()
        _ = await iterator.next()
        consumer.cancel()
        #expect(try await consumer.value == 1)
        #expect(hub.subscriberCount == 0)
    }

    @Test func shutdownEndsSubscribersAsUnavailable() async throws {
        let hub = Fixture.hub()
        try hub.publish(Fixture.worker("w1"))
        var events = hub.subscribe().makeAsyncIterator()
        #expect(try await events.next()?.revision == 1)
        hub.shutdown()
        await #expect(throws: MeshError.shuttingDown(lastDeliveredRevision: 1)) { _ = try await events.next() }
        #expect(hub.health.overall == .draining)
        var late = hub.subscribe(fromRevision: 1).makeAsyncIterator()
        await #expect(throws: MeshError.shuttingDown(lastDeliveredRevision: 1)) { _ = try await late.next() }
    }
}
