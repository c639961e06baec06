import Synchronization
import SchedulerCore
import Testing

@testable import MeshCore

/// Revisions continue across restarts: the hub reserves them in blocks and persists each block before issuing it.
@Suite("Revision reservation")
struct RevisionReservationTests {
    func worker(_ id: String) -> MeshEvent.Payload {
        .workerJoined(Worker(id: WorkerID(id), address: "\(id):1"))
    }

    @Test("One persist per block, before the block's first revision is issued")
    func reservesInBlocks() throws {
        let reserved = Mutex<[UInt64]>([])
        let hub = MeshHub(reservation: .init(block: 3) { through in reserved.withLock { $0.append(through) } })
        var issued: [UInt64] = []
        for i in 1...7 {
            let event = try #require(try hub.publish(worker("w\(i)")))
            issued.append(event.revision)
            // Never an issued revision past the last persisted reservation.
            #expect(event.revision <= reserved.withLock { $0.last ?? 0 })
        }
        #expect(issued == Array(1...7))
        #expect(reserved.withLock { $0 } == [3, 6, 9])
    }

    @Test("A hub started past the reservation issues higher revisions, and an old revision gets a reset snapshot")
    func restartContinues() async throws {
        let reserved = Mutex<UInt64>(0)
        let first = MeshHub(reservation: .init(block: 100) { through in reserved.withLock { $0 = through } })
        for i in 1...5 { try first.publish(worker("w\(i)")) }
        let seen = first.revision
        let restarted = MeshHub(state: MeshState(revision: reserved.withLock { $0 } + 1))
        let event = try #require(try restarted.publish(worker("w1")))
        #expect(event.revision > seen)
        let subscription = restarted.subscribe(fromRevision: seen)
        var iterator = subscription.makeAsyncIterator()
        let snapshot = try #require(try await iterator.next())
        guard case .snapshot(let view) = snapshot.payload else {
            Issue.record("expected a snapshot, got \(snapshot.payload.kind)")
            return
        }
        #expect(view.reset)
        #expect(snapshot.revision == event.revision)
    }
}
