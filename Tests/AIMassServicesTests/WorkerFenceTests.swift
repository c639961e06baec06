import Testing

@testable import AIMassServer

/// The worker's side of fencing, as pure state.
@Suite("Worker fence")
struct WorkerFenceTests {
    @Test("a Welcome older than the highest seen is refused; equal or newer ones are accepted")
    func welcomes() {
        var fence = WorkerFence()
        let first = fence.welcome(3)
        let again = fence.welcome(3)
        let stale = fence.welcome(2)
        #expect(first && again)
        #expect(!stale, "a stale control plane")
        #expect(fence.highest == 3)
        let newer = fence.welcome(4)
        #expect(newer && fence.highest == 4)
    }

    @Test("placements and removals of an older epoch are refused; a confirmation re-stamps the replica")
    func assignments() {
        var fence = WorkerFence()
        _ = fence.welcome(2)
        let placed = fence.place("r1", epoch: 2)
        #expect(placed && fence.epoch(of: "r1") == 2)
        let stale = fence.place("r2", epoch: 1)
        #expect(!stale && fence.epoch(of: "r2") == 0)
        #expect(!fence.accepts(1) && fence.accepts(2))
        _ = fence.welcome(5)
        #expect(fence.epoch(of: "r1") == 2, "held under the old epoch until confirmed")
        let confirmed = fence.place("r1", epoch: 5)
        #expect(confirmed && fence.epoch(of: "r1") == 5)
        fence.forget("r1")
        #expect(fence.epoch(of: "r1") == 0)
    }
}
