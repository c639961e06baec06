/// A dense index with a score; the ranking order is score descending, then index ascending (index order is
/// identifier order, so this is "ties go to the smaller id").
struct ScoredIndex: Sendable {
    var index: Int32
    var score: Double

    /// Whether `self` ranks strictly before `other`.
    @inline(__always)
    func ranks(before other: ScoredIndex) -> Bool {
        self.score != other.score ? self.score > other.score : self.index < other.index
    }
}

extension Array where Element == ScoredIndex {
    /// The best `k` elements in ranking order, using a bounded heap when there are more than `k`.
    func topRanked(_ k: Int) -> [ScoredIndex] {
        guard k > 0 else {
            return []
        }
        if self.count <= k {
            return self.sorted { $0.ranks(before: $1) }
        }
        // A heap of the k best so far whose root is the worst of them.
        var heap = Array(self[0..<k])
        func worse(_ a: ScoredIndex, _ b: ScoredIndex) -> Bool { b.ranks(before: a) }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                var worst = left
                let right = left + 1
                if right < heap.count && worse(heap[right], heap[left]) {
                    worst = right
                }
                guard worse(heap[worst], heap[parent]) else { return }
                heap.swapAt(worst, parent)
                parent = worst
            }
        }
        for index in stride(from: k / 2 - 1, through: 0, by: -1) {
            siftDown(index)
        }
        for candidate in self[k...] where candidate.ranks(before: heap[0]) {
            heap[0] = candidate
            siftDown(0)
        }
        return heap.sorted { $0.ranks(before: $1) }
    }
}
