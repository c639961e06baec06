import Dispatch
import FoundationEssentials

/// The build for every measure other than plain cosine, and for the attribute blend: each row accumulates its dot
/// products with every row sharing a feature (and its common attribute features with every row sharing one), then
/// ``SimilarityKernel/collect(a:aAttributes:exclude:touched:isTouched:dots:commons:k:into:)`` turns them into
/// similarities and the top K are kept (similarity descending, index ascending), as the cosine build does. Each pair
/// is computed from both sides; rows run in blocks of equal work on all cores.
extension NeighbourBuilder {
    static func build(input: SimilarityInput, divisors: [Double]?, k: Int, normalize: Bool) -> SparseMatrix {
        let rowCount = input.entities.rowCount
        var costs = Self.rowCosts(entities: input.entities, features: input.features)
        if let attributes = input.attributes {
            let attributeCosts = Self.rowCosts(entities: attributes.rows, features: attributes.columns)
            costs = zip(costs, attributeCosts).map(+)
        }
        let boundaries = Self.balancedBlocks(costs: costs)
        let blockCount = boundaries.count - 1
        var blocks = [[ScoredIndex]](repeating: [], count: blockCount)
        var counts = [Int](repeating: 0, count: rowCount)
        blocks.withUnsafeMutableBufferPointer { blockResults in
            counts.withUnsafeMutableBufferPointer { rowCounts in
                // Each iteration writes only `blockResults[block]` and its own rows of `rowCounts`; the input is
                // immutable and shared.
                nonisolated(unsafe) let blockResults = blockResults
                nonisolated(unsafe) let rowCounts = rowCounts
                DispatchQueue.concurrentPerform(iterations: blockCount) { block in
                    blockResults[block] = Self.measureRows(
                        boundaries[block]..<boundaries[block + 1],
                        input: input,
                        divisors: divisors,
                        k: k,
                        normalize: normalize,
                        counts: rowCounts
                    )
                }
            }
        }
        var rowStart = [Int](repeating: 0, count: rowCount + 1)
        for r in 0..<rowCount {
            rowStart[r + 1] = rowStart[r] + counts[r]
        }
        let entries = blocks.joined()
        return SparseMatrix(
            rowCount: rowCount,
            columnCount: rowCount,
            rowStart: rowStart,
            columns: entries.map(\.index),
            values: entries.map(\.score)
        )
    }

    private static func measureRows(
        _ rows: Range<Int>,
        input: SimilarityInput,
        divisors: [Double]?,
        k: Int,
        normalize: Bool,
        counts: UnsafeMutableBufferPointer<Int>
    ) -> [ScoredIndex] {
        let rowCount = input.entities.rowCount
        var scratch = DotScratch(count: rowCount, withCommons: input.attributes != nil)
        var candidates: [ScoredIndex] = []
        var output: [ScoredIndex] = []
        for a in rows {
            for entry in input.entities.row(a) {
                let f = Int(input.entities.columns[entry])
                let weight = divisors.map { input.entities.values[entry] / $0[f] } ?? input.entities.values[entry]
                scratch.addDots(row: input.features.row(f), of: input.features, times: weight)
            }
            var aAttributes = 0.0
            if let attributes = input.attributes {
                aAttributes = Double(attributes.rows.row(a).count)
                for entry in attributes.rows.row(a) {
                    scratch.addCommons(row: attributes.columns.row(Int(attributes.rows.columns[entry])), of: attributes.columns)
                }
            }
            candidates.removeAll(keepingCapacity: true)
            scratch.collect(kernel: input.kernel, a: input.kernel.statistics[a], aAttributes: aAttributes, exclude: a, k: k, into: &candidates)
            var kept = candidates.topRanked(k)
            if normalize, let maximum = kept.first?.score {
                for position in kept.indices {
                    kept[position].score /= maximum
                }
            }
            counts[a] = kept.count
            output.append(contentsOf: kept)
        }
        return output
    }
}

/// Dense dot-product and common-attribute accumulators with a touched list, reset after each row.
struct DotScratch {
    private var dots: [Double]
    private var commons: [Double]
    private var isTouched: [Bool]
    private var touched: [Int32] = []

    init(count: Int, withCommons: Bool) {
        self.dots = [Double](repeating: 0, count: count)
        self.commons = withCommons ? [Double](repeating: 0, count: count) : []
        self.isTouched = [Bool](repeating: false, count: count)
    }

    /// Adds `weight · value` of each entry of `row` to its column's dot product.
    mutating func addDots(row: Range<Int>, of matrix: SparseMatrix, times weight: Double) {
        for entry in row {
            let b = Int(matrix.columns[entry])
            self.touch(b)
            self.dots[b] += weight * matrix.values[entry]
        }
    }

    /// Counts one common attribute feature for each entry of `row`.
    mutating func addCommons(row: Range<Int>, of matrix: SparseMatrix) {
        for entry in row {
            let b = Int(matrix.columns[entry])
            self.touch(b)
            self.commons[b] += 1
        }
    }

    @inline(__always)
    private mutating func touch(_ b: Int) {
        if !self.isTouched[b] {
            self.isTouched[b] = true
            self.touched.append(Int32(truncatingIfNeeded: b))
        }
    }

    /// Hands the touched rows to the kernel, then clears the accumulators.
    mutating func collect(
        kernel: SimilarityKernel,
        a: RowStatistics,
        aAttributes: Double,
        exclude: Int?,
        k: Int,
        into candidates: inout [ScoredIndex]
    ) {
        let touched = self.touched
        self.isTouched.withUnsafeMutableBufferPointer { isTouched in
            self.dots.withUnsafeMutableBufferPointer { dots in
                self.commons.withUnsafeMutableBufferPointer { commons in
                    kernel.collect(
                        a: a, aAttributes: aAttributes, exclude: exclude, touched: touched, isTouched: isTouched,
                        dots: dots, commons: commons, k: k, into: &candidates
                    )
                    for b in touched {
                        dots[Int(b)] = 0
                        isTouched[Int(b)] = false
                        if !commons.isEmpty { commons[Int(b)] = 0 }
                    }
                }
            }
        }
        self.touched.removeAll(keepingCapacity: true)
    }
}
