import Dispatch
import FoundationEssentials

/// Builds the top-K cosine neighbours of every row of a sparse matrix, on all cores.
///
/// For rows `a`, `b` of `entities` (entities × features) the similarity is
/// `Σ_f x[a,f] · x[b,f] / d_f  /  sqrt(‖a‖² · ‖b‖²)` with one square root of the product; `d_f` is the optional
/// per-feature divisor (ln(1 + feature degree) for iuf / iif) and the norms are unweighted.
/// Each row keeps the `k` best neighbours other than itself with similarity > 0, ranked by similarity descending and
/// then by index ascending.
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
        let rowCount = entities.rowCount
        let norms = entities.rowSquaredNorms()
        let costs = Self.rowCosts(entities: entities, features: features)
        let boundaries = Self.balancedBlocks(costs: costs)
        let blockCount = boundaries.count - 1
        var blocks = [[ScoredIndex]](repeating: [], count: blockCount)
        var counts = [Int](repeating: 0, count: rowCount)
        blocks.withUnsafeMutableBufferPointer { blockResults in
            counts.withUnsafeMutableBufferPointer { rowCounts in
                // Each iteration writes only its own slot of `blockResults` and its own rows of `rowCounts`.
                nonisolated(unsafe) let blockResults = blockResults
                nonisolated(unsafe) let rowCounts = rowCounts
                DispatchQueue.concurrentPerform(iterations: blockCount) { block in
                    var accumulator = [Double](repeating: 0, count: rowCount)
                    var marked = [Bool](repeating: false, count: rowCount)
                    var touched: [Int32] = []
                    var candidates: [ScoredIndex] = []
                    var output: [ScoredIndex] = []
                    for a in boundaries[block]..<boundaries[block + 1] {
                        candidates.removeAll(keepingCapacity: true)
                        if costs[a] >= rowCount {
                            // Dense row: most rows are touched anyway, so skip the bookkeeping and scan them all.
                            Self.accumulateDense(
                                row: a,
                                entities: entities,
                                features: features,
                                divisors: divisors,
                                into: &accumulator
                            )
                            for b in 0..<rowCount where accumulator[b] != 0 {
                                let dot = accumulator[b]
                                accumulator[b] = 0
                                if b != a && dot > 0 {
                                    let score = dot / (norms[a] * norms[b]).squareRoot()
                                    candidates.append(ScoredIndex(index: Int32(truncatingIfNeeded: b), score: score))
                                }
                            }
                        } else {
                            Self.accumulate(
                                row: a,
                                entities: entities,
                                features: features,
                                divisors: divisors,
                                into: &accumulator,
                                marked: &marked,
                                touched: &touched
                            )
                            for b32 in touched {
                                let b = Int(b32)
                                let dot = accumulator[b]
                                accumulator[b] = 0
                                marked[b] = false
                                if b != a && dot > 0 {
                                    candidates.append(ScoredIndex(index: b32, score: dot / (norms[a] * norms[b]).squareRoot()))
                                }
                            }
                            touched.removeAll(keepingCapacity: true)
                        }
                        var kept = candidates.topRanked(k)
                        if normalize, let maximum = kept.first?.score {
                            for position in kept.indices {
                                kept[position].score /= maximum
                            }
                        }
                        rowCounts[a] = kept.count
                        output.append(contentsOf: kept)
                    }
                    blockResults[block] = output
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
        return SparseMatrix(
            rowCount: rowCount,
            columnCount: rowCount,
            rowStart: rowStart,
            columns: columns,
            values: values
        )
    }

    /// Adds row `a`'s dot products with every row sharing a feature into `accumulator`, recording newly touched rows.
    ///
    /// The hot loop: unchecked buffer access over arrays whose indices come from the matrices themselves.
    @inline(__always)
    private static func accumulate(
        row a: Int,
        entities: SparseMatrix,
        features: SparseMatrix,
        divisors: [Double]?,
        into accumulator: inout [Double],
        marked: inout [Bool],
        touched: inout [Int32]
    ) {
        features.columns.withUnsafeBufferPointer { featureColumns in
            features.values.withUnsafeBufferPointer { featureValues in
                accumulator.withUnsafeMutableBufferPointer { sums in
                    marked.withUnsafeMutableBufferPointer { isTouched in
                        for entry in entities.row(a) {
                            let f = Int(entities.columns[entry])
                            var weight = entities.values[entry]
                            if let divisors {
                                weight /= divisors[f]
                            }
                            for featureEntry in features.row(f) {
                                let b = Int(featureColumns[featureEntry])
                                if !isTouched[b] {
                                    isTouched[b] = true
                                    touched.append(Int32(truncatingIfNeeded: b))
                                }
                                sums[b] += weight * featureValues[featureEntry]
                            }
                        }
                    }
                }
            }
        }
    }

    /// ``accumulate(row:entities:features:divisors:into:marked:touched:)`` without tracking touched rows; the sums are
    /// made in the same order, so the results are bit-identical.
    @inline(__always)
    private static func accumulateDense(
        row a: Int,
        entities: SparseMatrix,
        features: SparseMatrix,
        divisors: [Double]?,
        into accumulator: inout [Double]
    ) {
        features.columns.withUnsafeBufferPointer { featureColumns in
            features.values.withUnsafeBufferPointer { featureValues in
                accumulator.withUnsafeMutableBufferPointer { sums in
                    for entry in entities.row(a) {
                        let f = Int(entities.columns[entry])
                        var weight = entities.values[entry]
                        if let divisors {
                            weight /= divisors[f]
                        }
                        for featureEntry in features.row(f) {
                            sums[Int(featureColumns[featureEntry])] += weight * featureValues[featureEntry]
                        }
                    }
                }
            }
        }
    }

    /// The work of each row: Σ over its features of the feature's degree, plus one.
    static func rowCosts(entities: SparseMatrix, features: SparseMatrix) -> [Int] {
        (0..<entities.rowCount).map { a in
            var cost = 1
            for entry in entities.row(a) {
                cost += features.row(Int(entities.columns[entry])).count
            }
            return cost
        }
    }

    /// Row boundaries of about 8 blocks per core with equal work (Σ over a row's features of the feature's degree),
    /// so that the few heavy rows of popular items do not all land in one block.
    static func balancedBlocks(costs: [Int]) -> [Int] {
        let rowCount = costs.count
        guard rowCount > 0 else {
            return [0, 0]
        }
        let total = costs.reduce(0, +)
        let blockCount = max(1, min(rowCount, 8 * ProcessInfo.processInfo.activeProcessorCount))
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
