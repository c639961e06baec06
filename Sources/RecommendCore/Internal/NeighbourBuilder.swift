import Dispatch
import FoundationEssentials
import Synchronization

/// Builds the top-K cosine neighbours of every row of a sparse matrix, on all cores.
///
/// For rows `a`, `b` of `entities` (entities × features) the similarity is
/// `Σ_f x[a,f] · x[b,f] / d_f  /  sqrt(‖a‖² · ‖b‖²)` with one square root of the product; `d_f` is the optional
/// per-feature divisor (ln(1 + feature degree) for iuf / iif) and the norms are unweighted.
/// Each row keeps the `k` best neighbours other than itself with similarity > 0, ranked by similarity descending and
/// then by index ascending.
///
/// Rows are split into about 16 blocks per core of equal work and run with `DispatchQueue.concurrentPerform`; each block
/// has its own dense accumulator. The parallel section reads the shared matrices only through raw buffers
/// (``MatrixView``), so threads never touch the arrays' reference counts.
enum NeighbourBuilder {
    /// - Parameters:
    ///   - entities: The entities × features matrix (items × users for ItemCF, users × items for UserCF).
    ///   - features: Its transpose.
    ///   - divisors: Per-feature divisors of the dot product's terms, or `nil` for none.
    ///   - k: How many neighbours to keep per row.
    ///   - normalize: Divide each kept row by its maximum.
    /// - Returns: The neighbour matrix, each row in ranking order.
    static func build(
        entities: SparseMatrix,
        features: SparseMatrix,
        divisors: [Double]?,
        k: Int,
        normalize: Bool
    ) -> SparseMatrix {
        let unitFeatures = features.values.allSatisfy { $0 == 1 }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let capacity = max(0, min(k, entities.rowCount - 1))
        let heapBytes = workers * entities.rowCount * capacity * MemoryLayout<ScoredIndex>.stride
        // The pair-once build needs dot(a, b) == dot(b, a) bit for bit: true without divisors (x·y == y·x) and with
        // unit values ((1 / d) · 1 either way), but not for (x / d) · y against (y / d) · x. Its per-worker heaps must
        // also stay small next to the matrices.
        if (divisors == nil || unitFeatures) && heapBytes <= entities.byteCount + features.byteCount {
            return Self.buildSymmetric(
                entities: entities,
                features: features,
                divisors: divisors,
                unitFeatures: unitFeatures,
                k: k,
                normalize: normalize
            )
        }
        return Self.buildFull(entities: entities, features: features, divisors: divisors, k: k, normalize: normalize)
    }

    /// Computes every row's dot products against all rows (each pair twice); for explicit values with divisors.
    static func buildFull(
        entities: SparseMatrix,
        features: SparseMatrix,
        divisors: [Double]?,
        k: Int,
        normalize: Bool
    ) -> SparseMatrix {
        let rowCount = entities.rowCount
        let norms = entities.rowSquaredNorms()
        let costs = Self.rowCosts(entities: entities, features: features)
        let boundaries = Self.balancedBlocks(costs: costs)
        let blockCount = boundaries.count - 1
        // Each term is computed as (x / d) · y.
        let featureDivisors = divisors ?? []
        let unitFeatures = features.values.allSatisfy { $0 == 1 }
        var blocks = [[ScoredIndex]](repeating: [], count: blockCount)
        var counts = [Int](repeating: 0, count: rowCount)

        MatrixView.with(entities) { entityView in
            MatrixView.with(features) { featureView in
                norms.withUnsafeBufferPointer { normBuffer in
                    featureDivisors.withUnsafeBufferPointer { divisorBuffer in
                        costs.withUnsafeBufferPointer { costBuffer in
                            blocks.withUnsafeMutableBufferPointer { blockResults in
                                counts.withUnsafeMutableBufferPointer { rowCounts in
                                    // Read-only views of arrays that outlive the call, and per-block output slots:
                                    // each iteration writes only `blockResults[block]` and its own rows of `rowCounts`.
                                    nonisolated(unsafe) let context = BlockContext(
                                        entities: entityView,
                                        features: featureView,
                                        norms: normBuffer,
                                        divisors: divisors == nil ? nil : divisorBuffer,
                                        costs: costBuffer,
                                        unitFeatures: unitFeatures,
                                        k: k,
                                        normalize: normalize
                                    )
                                    nonisolated(unsafe) let blockResults = blockResults
                                    nonisolated(unsafe) let rowCounts = rowCounts
                                    DispatchQueue.concurrentPerform(iterations: blockCount) { block in
                                        blockResults[block] = context.run(
                                            rows: boundaries[block]..<boundaries[block + 1],
                                            counts: rowCounts
                                        )
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        var rowStart = [Int](repeating: 0, count: rowCount + 1)
        for r in 0..<rowCount {
            rowStart[r + 1] = rowStart[r] + counts[r]
        }
        var columns: [Int32] = []
        var values: [Double] = []
        columns.reserveCapacity(rowStart[rowCount])
        values.reserveCapacity(rowStart[rowCount])
        for block in blocks {
            for neighbour in block {
                columns.append(neighbour.index)
                values.append(neighbour.score)
            }
        }
        return SparseMatrix(rowCount: rowCount, columnCount: rowCount, rowStart: rowStart, columns: columns, values: values)
    }

    /// The work of each row: the multiply-adds `w` (Σ over its features of the feature's degree) plus the pass over
    /// the result: the touched list (`w`) for a sparse row, a scan of every row for a dense one (`w` ≥ row count).
    static func rowCosts(entities: SparseMatrix, features: SparseMatrix) -> [Int] {
        let rowCount = entities.rowCount
        return (0..<rowCount).map { a in
            var work = 0
            for entry in entities.row(a) {
                work += features.row(Int(entities.columns[entry])).count
            }
            return 1 + work + min(work, rowCount)
        }
    }

    /// Row boundaries of about 16 blocks per core with equal work (``rowCosts(entities:features:)``), so that the few
    /// heavy rows of popular items do not all land in one block.
    static func balancedBlocks(costs: [Int]) -> [Int] {
        let rowCount = costs.count
        guard rowCount > 0 else {
            return [0, 0]
        }
        let total = costs.reduce(0, +)
        let blockCount = max(1, min(rowCount, 16 * ProcessInfo.processInfo.activeProcessorCount))
        var boundaries = [0]
        var running = 0
        for a in 0..<rowCount {
            running += costs[a]
            if running * blockCount >= total * boundaries.count && boundaries.count < blockCount {
                boundaries.append(a + 1)
            }
        }
        if boundaries.last != rowCount {
            boundaries.append(rowCount)
        }
        return boundaries
    }
}

/// Raw, read-only buffers of a ``SparseMatrix``, valid inside ``with(_:_:)``.
struct MatrixView {
    let rowStart: UnsafeBufferPointer<Int>
    let columns: UnsafeBufferPointer<Int32>
    let values: UnsafeBufferPointer<Double>

    static func with<R>(_ matrix: SparseMatrix, _ body: (MatrixView) -> R) -> R {
        matrix.rowStart.withUnsafeBufferPointer { rowStart in
            matrix.columns.withUnsafeBufferPointer { columns in
                matrix.values.withUnsafeBufferPointer { values in
                    body(MatrixView(rowStart: rowStart, columns: columns, values: values))
                }
            }
        }
    }
}

/// What one block of rows needs; all buffers are read-only.
private struct BlockContext {
    let entities: MatrixView
    let features: MatrixView
    let norms: UnsafeBufferPointer<Double>
    let divisors: UnsafeBufferPointer<Double>?
    let costs: UnsafeBufferPointer<Int>
    /// Whether every feature value is 1 (implicit feedback).
    let unitFeatures: Bool
    let k: Int
    let normalize: Bool

    /// Computes the neighbour rows of `rows`, writing each row's count into `counts` and returning the rows' entries.
    func run(rows: Range<Int>, counts: UnsafeMutableBufferPointer<Int>) -> [ScoredIndex] {
        let rowCount = self.norms.count
        var accumulator = [Double](repeating: 0, count: rowCount)
        var marked = [Bool](repeating: false, count: rowCount)
        var touched: [Int32] = []
        var candidates: [ScoredIndex] = []
        var output: [ScoredIndex] = []
        accumulator.withUnsafeMutableBufferPointer { sums in
            marked.withUnsafeMutableBufferPointer { isTouched in
                for a in rows {
                    candidates.removeAll(keepingCapacity: true)
                    // Dense rows touch most rows anyway: skip the bookkeeping and scan them all. The sums are made in
                    // the same order either way, so both paths give bit-identical results.
                    let dense = self.costs[a] > 2 * rowCount
                    for entry in self.entities.rowStart[a]..<self.entities.rowStart[a + 1] {
                        let f = Int(self.entities.columns[entry])
                        var weight = self.entities.values[entry]
                        if let divisors = self.divisors {
                            weight /= divisors[f]
                        }
                        let featureRow = self.features.rowStart[f]..<self.features.rowStart[f + 1]
                        if dense && self.unitFeatures {
                            // Implicit feedback: every value is 1, so weight · 1 = weight and the values need no reading.
                            for featureEntry in featureRow {
                                sums[Int(self.features.columns[featureEntry])] += weight
                            }
                        } else if dense {
                            for featureEntry in featureRow {
                                sums[Int(self.features.columns[featureEntry])] += weight * self.features.values[featureEntry]
                            }
                        } else {
                            for featureEntry in featureRow {
                                let b = Int(self.features.columns[featureEntry])
                                if !isTouched[b] {
                                    isTouched[b] = true
                                    touched.append(Int32(truncatingIfNeeded: b))
                                }
                                sums[b] += weight * self.features.values[featureEntry]
                            }
                        }
                    }
                    if dense {
                        for b in 0..<rowCount where sums[b] != 0 {
                            self.offer(a: a, b: b, dot: sums[b], to: &candidates)
                            sums[b] = 0
                        }
                    } else {
                        for b32 in touched {
                            let b = Int(b32)
                            self.offer(a: a, b: b, dot: sums[b], to: &candidates)
                            sums[b] = 0
                            isTouched[b] = false
                        }
                        touched.removeAll(keepingCapacity: true)
                    }
                    var kept = candidates.topRanked(self.k)
                    if self.normalize, let maximum = kept.first?.score {
                        for position in kept.indices {
                            kept[position].score /= maximum
                        }
                    }
                    counts[a] = kept.count
                    output.append(contentsOf: kept)
                }
            }
        }
        return output
    }

    @inline(__always)
    private func offer(a: Int, b: Int, dot: Double, to candidates: inout [ScoredIndex]) {
        if b != a && dot > 0 {
            let score = dot / (self.norms[a] * self.norms[b]).squareRoot()
            candidates.append(ScoredIndex(index: Int32(truncatingIfNeeded: b), score: score))
        }
    }
}
