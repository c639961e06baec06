import Dispatch
import FoundationEssentials
import Synchronization

/// The pair-once build: each similarity is computed once and offered to both rows.
///
/// Row `a` accumulates its dot products only against rows `b > a` (the entries after `a` in each feature row, found by
/// binary search), in the same order of features as the full build, so `dot(a, b)` is bit-identical to what row `b`
/// would have computed (see ``NeighbourBuilder/build(entities:features:divisors:k:normalize:)`` for when that holds).
/// The score `dot / sqrt(‖a‖² · ‖b‖²)` is then offered to a bounded heap of row `a` and one of row `b`. Each worker
/// thread owns one heap per row (``WorkerState``); every pair is offered exactly once, so the union of the workers'
/// heaps of a row holds its global top K, and merging them with the same ranking (score descending, index ascending)
/// gives exactly the rows of the full build.
extension NeighbourBuilder {
    static func buildSymmetric(
        entities: SparseMatrix,
        features: SparseMatrix,
        divisors: [Double]?,
        unitFeatures: Bool,
        k: Int,
        normalize: Bool
    ) -> SparseMatrix {
        let rowCount = entities.rowCount
        let capacity = max(0, min(k, rowCount - 1))
        guard capacity > 0 else {
            return SparseMatrix(
                rowCount: rowCount,
                columnCount: rowCount,
                rowStart: [Int](repeating: 0, count: rowCount + 1),
                columns: [],
                values: []
            )
        }
        let norms = entities.rowSquaredNorms()
        // Multiply-adds of each row against the rows after it.
        var work = [Int](repeating: 0, count: rowCount)
        for f in 0..<features.rowCount {
            let end = features.rowStart[f + 1]
            for position in features.rowStart[f]..<end {
                work[Int(features.columns[position])] += end - position - 1
            }
        }
        let costs = (0..<rowCount).map { a in 1 + work[a] + min(work[a], rowCount - a - 1) }
        let boundaries = Self.balancedBlocks(costs: costs)
        let blockCount = boundaries.count - 1
        let featureDivisors = divisors ?? []
        let pool = WorkerPool(rowCount: rowCount, capacity: capacity)

        MatrixView.with(entities) { entityView in
            MatrixView.with(features) { featureView in
                norms.withUnsafeBufferPointer { normBuffer in
                    featureDivisors.withUnsafeBufferPointer { divisorBuffer in
                        work.withUnsafeBufferPointer { workBuffer in
                            // Read-only views of arrays that outlive the call; all writes go to the worker's own state.
                            nonisolated(unsafe) let context = PairContext(
                                entities: entityView,
                                features: featureView,
                                norms: normBuffer,
                                divisors: divisors == nil ? nil : divisorBuffer,
                                work: workBuffer,
                                unitFeatures: unitFeatures,
                                capacity: capacity
                            )
                            DispatchQueue.concurrentPerform(iterations: blockCount) { block in
                                let state = pool.acquire()
                                context.run(rows: boundaries[block]..<boundaries[block + 1], state: state)
                                pool.release(state)
                            }
                        }
                    }
                }
            }
        }
        return Self.merge(pool.all(), rowCount: rowCount, capacity: capacity, normalize: normalize)
    }

    /// Merges the workers' heaps of every row into the neighbour matrix, rows in ranking order.
    private static func merge(_ states: [WorkerState], rowCount: Int, capacity: Int, normalize: Bool) -> SparseMatrix {
        var rowStart = [Int](repeating: 0, count: rowCount + 1)
        for r in 0..<rowCount {
            var total = 0
            for state in states {
                total += Int(state.heapCount[r])
            }
            rowStart[r + 1] = rowStart[r] + min(total, capacity)
        }
        let entryCount = rowStart[rowCount]
        var columns = [Int32](repeating: 0, count: entryCount)
        var values = [Double](repeating: 0, count: entryCount)
        let chunkCount = max(1, min(rowCount, 4 * ProcessInfo.processInfo.activeProcessorCount))
        columns.withUnsafeMutableBufferPointer { columnBuffer in
            values.withUnsafeMutableBufferPointer { valueBuffer in
                rowStart.withUnsafeBufferPointer { startBuffer in
                    // Each chunk writes only its own rows' ranges; the states are no longer written.
                    nonisolated(unsafe) let columnBuffer = columnBuffer
                    nonisolated(unsafe) let valueBuffer = valueBuffer
                    nonisolated(unsafe) let startBuffer = startBuffer
                    DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                        var scratch: [ScoredIndex] = []
                        scratch.reserveCapacity(states.count * capacity)
                        for r in (rowCount * chunk / chunkCount)..<(rowCount * (chunk + 1) / chunkCount) {
                            scratch.removeAll(keepingCapacity: true)
                            for state in states {
                                let base = r * capacity
                                scratch.append(contentsOf: state.heap[base..<(base + Int(state.heapCount[r]))])
                            }
                            scratch.sort { $0.ranks(before: $1) }
                            let start = startBuffer[r]
                            let count = startBuffer[r + 1] - start
                            let divisor = normalize && count > 0 ? scratch[0].score : 1
                            for position in 0..<count {
                                columnBuffer[start + position] = scratch[position].index
                                valueBuffer[start + position] =
                                    normalize ? scratch[position].score / divisor : scratch[position].score
                            }
                        }
                    }
                }
            }
        }
        return SparseMatrix(rowCount: rowCount, columnCount: rowCount, rowStart: rowStart, columns: columns, values: values)
    }
}

/// One worker thread's accumulator and per-row bounded heaps; used by one block at a time (``WorkerPool``).
final class WorkerState: @unchecked Sendable {
    var sums: [Double]
    var marked: [Bool]
    var touched: [Int32] = []
    /// Row `r`'s heap is `heap[r * capacity ..< r * capacity + heapCount[r]]`, its worst entry at the root.
    var heap: [ScoredIndex]
    var heapCount: [Int32]
    /// The root's score once row `r`'s heap is full, else -∞: a candidate scoring below it cannot enter.
    var floor: [Double]

    init(rowCount: Int, capacity: Int) {
        self.sums = [Double](repeating: 0, count: rowCount)
        self.marked = [Bool](repeating: false, count: rowCount)
        self.heap = [ScoredIndex](repeating: ScoredIndex(index: 0, score: 0), count: rowCount * capacity)
        self.heapCount = [Int32](repeating: 0, count: rowCount)
        self.floor = [Double](repeating: -.infinity, count: rowCount)
    }
}

/// Hands each running block a worker state no other block is using; creates one when none is free.
final class WorkerPool: Sendable {
    private let states = Mutex<(free: [WorkerState], all: [WorkerState])>(([], []))
    private let rowCount: Int
    private let capacity: Int

    init(rowCount: Int, capacity: Int) {
        self.rowCount = rowCount
        self.capacity = capacity
    }

    func acquire() -> WorkerState {
        if let state = self.states.withLock({ $0.free.popLast() }) {
            return state
        }
        let state = WorkerState(rowCount: self.rowCount, capacity: self.capacity)
        self.states.withLock { $0.all.append(state) }
        return state
    }

    func release(_ state: WorkerState) {
        self.states.withLock { $0.free.append(state) }
    }

    func all() -> [WorkerState] {
        self.states.withLock { $0.all }
    }
}

/// What the pair-once blocks read; all buffers are read-only.
private struct PairContext {
    let entities: MatrixView
    let features: MatrixView
    let norms: UnsafeBufferPointer<Double>
    let divisors: UnsafeBufferPointer<Double>?
    let work: UnsafeBufferPointer<Int>
    let unitFeatures: Bool
    let capacity: Int

    func run(rows: Range<Int>, state: WorkerState) {
        state.sums.withUnsafeMutableBufferPointer { sums in
            state.marked.withUnsafeMutableBufferPointer { isTouched in
                state.heap.withUnsafeMutableBufferPointer { heap in
                    state.heapCount.withUnsafeMutableBufferPointer { heapCount in
                        state.floor.withUnsafeMutableBufferPointer { floor in
                            var heaps = Heaps(heap: heap, count: heapCount, floor: floor, capacity: self.capacity)
                            self.run(rows: rows, sums: sums, isTouched: isTouched, touched: &state.touched, heaps: &heaps)
                        }
                    }
                }
            }
        }
    }

    private func run(
        rows: Range<Int>,
        sums: UnsafeMutableBufferPointer<Double>,
        isTouched: UnsafeMutableBufferPointer<Bool>,
        touched: inout [Int32],
        heaps: inout Heaps
    ) {
        let rowCount = self.norms.count
        let featureColumns = self.features.columns
        for a in rows {
            let remaining = rowCount - a - 1
            guard remaining > 0 else {
                continue
            }
            // Rows whose later neighbours are mostly touched anyway scan them all instead of keeping a touched list;
            // the sums are made in the same order either way.
            let dense = self.work[a] > remaining
            for entry in self.entities.rowStart[a]..<self.entities.rowStart[a + 1] {
                let f = Int(self.entities.columns[entry])
                var weight = self.entities.values[entry]
                if let divisors = self.divisors {
                    weight /= divisors[f]
                }
                // The first entry of the feature's row after `a` (rows are ascending and contain `a`).
                var low = self.features.rowStart[f]
                var high = self.features.rowStart[f + 1]
                let end = high
                while low < high {
                    let middle = (low + high) >> 1
                    if Int(featureColumns[middle]) <= a {
                        low = middle + 1
                    } else {
                        high = middle
                    }
                }
                let featureRow = low..<end
                if dense && self.unitFeatures {
                    for featureEntry in featureRow {
                        sums[Int(featureColumns[featureEntry])] += weight
                    }
                } else if dense {
                    for featureEntry in featureRow {
                        sums[Int(featureColumns[featureEntry])] += weight * self.features.values[featureEntry]
                    }
                } else {
                    for featureEntry in featureRow {
                        let b = Int(featureColumns[featureEntry])
                        if !isTouched[b] {
                            isTouched[b] = true
                            touched.append(Int32(truncatingIfNeeded: b))
                        }
                        sums[b] += weight * self.features.values[featureEntry]
                    }
                }
            }
            let normA = self.norms[a]
            if dense {
                for b in (a + 1)..<rowCount where sums[b] != 0 {
                    let dot = sums[b]
                    sums[b] = 0
                    if dot > 0 {
                        let product = normA * self.norms[b]
                        if heaps.mayEnter(a, b, dot: dot, product: product) {
                            let score = dot / product.squareRoot()
                            heaps.offer(row: a, index: b, score: score)
                            heaps.offer(row: b, index: a, score: score)
                        }
                    }
                }
            } else {
                for b32 in touched {
                    let b = Int(b32)
                    let dot = sums[b]
                    sums[b] = 0
                    isTouched[b] = false
                    if dot > 0 {
                        let product = normA * self.norms[b]
                        if heaps.mayEnter(a, b, dot: dot, product: product) {
                            let score = dot / product.squareRoot()
                            heaps.offer(row: a, index: b, score: score)
                            heaps.offer(row: b, index: a, score: score)
                        }
                    }
                }
                touched.removeAll(keepingCapacity: true)
            }
        }
    }
}

/// Bounded heaps of the best `capacity` candidates of every row, worst at the root, over a worker's buffers.
private struct Heaps {
    let heap: UnsafeMutableBufferPointer<ScoredIndex>
    let count: UnsafeMutableBufferPointer<Int32>
    let floor: UnsafeMutableBufferPointer<Double>
    let capacity: Int

    /// A cheap, conservative test before the square root and division: `false` only when `dot / sqrt(product)` is
    /// certainly below both rows' floors (dot² < floor² · product with a relative margin of 1e-9, far above the few
    /// ulps of rounding in either side), so no candidate that ``offer(row:index:score:)`` would keep is skipped.
    @inline(__always)
    func mayEnter(_ a: Int, _ b: Int, dot: Double, product: Double) -> Bool {
        let threshold = dot * dot * (1 + 1e-9)
        let floorA = self.floor[a]
        let floorB = self.floor[b]
        return floorA <= 0 || floorB <= 0 || threshold >= floorA * floorA * product
            || threshold >= floorB * floorB * product
    }

    @inline(__always)
    func offer(row: Int, index: Int, score: Double) {
        guard score >= self.floor[row] else {
            return
        }
        self.insert(row: row, candidate: ScoredIndex(index: Int32(truncatingIfNeeded: index), score: score))
    }

    private func insert(row: Int, candidate: ScoredIndex) {
        let base = row * self.capacity
        let n = Int(self.count[row])
        if n < self.capacity {
            // Sift up: the parent must not be better than the child.
            var child = n
            while child > 0 {
                let parent = (child - 1) >> 1
                guard self.heap[base + parent].ranks(before: candidate) else {
                    break
                }
                self.heap[base + child] = self.heap[base + parent]
                child = parent
            }
            self.heap[base + child] = candidate
            self.count[row] = Int32(n + 1)
            if n + 1 == self.capacity {
                self.floor[row] = self.heap[base].score
            }
            return
        }
        guard candidate.ranks(before: self.heap[base]) else {
            return
        }
        // Replace the root and sift down: a child that ranks after the candidate moves up.
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < n else {
                break
            }
            var worst = left
            let right = left + 1
            if right < n && self.heap[base + left].ranks(before: self.heap[base + right]) {
                worst = right
            }
            guard candidate.ranks(before: self.heap[base + worst]) else {
                break
            }
            self.heap[base + parent] = self.heap[base + worst]
            parent = worst
        }
        self.heap[base + parent] = candidate
        self.floor[row] = self.heap[base].score
    }
}
