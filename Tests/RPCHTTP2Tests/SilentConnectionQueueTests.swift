import Testing

@testable import RPCHTTP2

@Suite("SilentConnectionQueue: connections that have not spoken, checked a few at a time")
struct SilentConnectionQueueTests {
    static func queue(perCheck: Int = 3) -> SilentConnectionQueue<Int> {
        SilentConnectionQueue(perCheck: perCheck, shortestPause: .milliseconds(1), longestPause: .milliseconds(8))
    }

    @Test("every arrival asks for a round within the shortest pause")
    func arrival() {
        var queue = Self.queue()
        #expect(queue.arrived(1) == .milliseconds(1))
        #expect(queue.arrived(2) == .milliseconds(1) && queue.count == 2)
    }

    @Test("a round checks every recent arrival, then at most `perCheck` older ones, oldest first; the silent go back")
    func rounds() {
        var queue = Self.queue(perCheck: 2)
        for id in 1...5 { _ = queue.arrived(id) }
        #expect(queue.round() == [1, 2, 3, 4, 5], "the first check of each arrival is not rationed")
        _ = queue.checked(stillSilent: [1, 2, 3, 4, 5], spoke: 0)
        #expect(queue.round() == [1, 2])
        _ = queue.checked(stillSilent: [1], spoke: 1)
        _ = queue.arrived(6)
        #expect(queue.round() == [6, 3, 4], "a newcomer is checked before the older ones")
        _ = queue.checked(stillSilent: [6, 3, 4], spoke: 0)
        #expect(queue.round() == [5, 1])
    }

    @Test("the pause doubles while nobody speaks, up to the longest, and is short again after someone spoke")
    func pauses() {
        var queue = Self.queue(perCheck: 1)
        _ = queue.arrived(1)
        _ = queue.arrived(2)
        var pauses: [Duration] = []
        for _ in 0..<5 {
            let due = queue.round()
            pauses.append(queue.checked(stillSilent: due, spoke: 0) ?? .zero)
        }
        #expect(pauses == [.milliseconds(2), .milliseconds(4), .milliseconds(8), .milliseconds(8), .milliseconds(8)])
        _ = queue.round()
        #expect(queue.checked(stillSilent: [], spoke: 1) == .milliseconds(1))
    }

    @Test("with nobody left the rounds stop; a connection that left is never checked")
    func stop() {
        var queue = Self.queue()
        _ = queue.arrived(1)
        _ = queue.arrived(2)
        queue.left(2)
        #expect(queue.round() == [1])
        #expect(queue.checked(stillSilent: [], spoke: 1) == nil && queue.count == 0)
    }

    @Test("thousands waiting, most leaving: every one still waiting is checked once per pass")
    func manyLeave() {
        var queue = Self.queue(perCheck: 64)
        for id in 0..<5_000 { _ = queue.arrived(id) }
        _ = queue.checked(stillSilent: queue.round(), spoke: 0)
        for id in stride(from: 0, to: 5_000, by: 2) { queue.left(id) }
        var checkedInOrder: [Int] = []
        while checkedInOrder.count < 2_500 {
            let due = queue.round()
            #expect(!due.isEmpty)
            checkedInOrder += due
            _ = queue.checked(stillSilent: due, spoke: 0)
        }
        #expect(checkedInOrder.prefix(2_500) == ArraySlice(stride(from: 1, to: 5_000, by: 2)))
        #expect(queue.count == 2_500)
    }
}
