import Testing

@testable import SchedulerCore

@Suite("DeadlineQueue")
struct DeadlineQueueTests {
    @Test("serves the higher class first, then the call due first; equal dues first come, first served")
    func order() {
        var queue = DeadlineQueue<String>(capacity: 10)
        _ = queue.insert("normal, due 9", priority: 1, due: 9)
        _ = queue.insert("normal, due 3", priority: 1, due: 3)
        _ = queue.insert("batch, due 1", priority: 0, due: 1)
        _ = queue.insert("critical, due 20", priority: 2, due: 20)
        _ = queue.insert("normal, due 3 again", priority: 1, due: 3)
        var served: [String] = []
        while let entry = queue.popFirst() { served.append(entry.item) }
        #expect(served == ["critical, due 20", "normal, due 3", "normal, due 3 again", "normal, due 9", "batch, due 1"])
        #expect(queue.isEmpty && queue.first == nil)
    }

    @Test("bounded: a full queue refuses; removal by id frees a place and removes only that call")
    func capacityAndRemoval() {
        var queue = DeadlineQueue<Int>(capacity: 2)
        let first = queue.insert(1, priority: 1, due: 5)
        let second = queue.insert(2, priority: 1, due: 6)
        #expect(first != nil && second != nil && first != second)
        #expect(queue.insert(3, priority: 2, due: 1) == nil, "full")
        #expect(queue.remove(id: first ?? 0)?.item == 1)
        #expect(queue.remove(id: first ?? 0) == nil, "already gone")
        #expect(queue.insert(3, priority: 1, due: 1) != nil)
        #expect(queue.popFirst()?.item == 3)
        #expect(queue.popFirst()?.item == 2)
    }

    @Test("calls due by now leave in serving order; the others stay")
    func due() {
        var queue = DeadlineQueue<String>(capacity: 10)
        _ = queue.insert("a", priority: 1, due: 1)
        _ = queue.insert("b", priority: 2, due: 2)
        _ = queue.insert("c", priority: 1, due: 5)
        #expect(queue.removeDue(now: 0.5).isEmpty)
        #expect(queue.removeDue(now: 2).map(\.item) == ["b", "a"])
        #expect(queue.count == 1 && queue.first?.item == "c")
    }
}
