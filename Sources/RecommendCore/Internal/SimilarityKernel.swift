/// What the similarity formulas need of one row (an item for ItemCF, a user for UserCF) of the matrix whose dot
/// products the builder accumulates.
struct RowStatistics: Sendable {
    /// Σ x².
    var squaredNorm: Double
    /// Σ x.
    var sum: Double
    /// Stored entries.
    var count: Double

    init(squaredNorm: Double, sum: Double, count: Double) {
        self.squaredNorm = squaredNorm
        self.sum = sum
        self.count = count
    }

    init(values: some Sequence<Double>) {
        var squaredNorm = 0.0
        var sum = 0.0
        var count = 0.0
        for value in values {
            squaredNorm += value * value
            sum += value
            count += 1
        }
        self.init(squaredNorm: squaredNorm, sum: sum, count: count)
    }
}

/// Turns a dot product of two rows into the manifest's similarity (formulas in docs/recommendation.md,
/// "Similarities"), and blends in the attribute similarity.
///
/// The builder's input rows are already prepared for the measure (``SimilarityInput``): raw values for cosine,
/// Pearson and Euclidean, centred values for adjusted cosine, 1 for Jaccard; so the dot product of two rows is
/// `Σ x·y` of what the formula needs.
struct SimilarityKernel: Sendable {
    let similarity: Manifest.Similarity
    /// n, the length of the full vectors (features: users for ItemCF, items for UserCF); Pearson's means divide by it.
    let featureCount: Double
    /// Per row.
    let statistics: [RowStatistics]
    /// Euclidean only: rows by squared norm ascending, then index ascending. A pair with no common feature has
    /// similarity `1 / (1 + sqrt(‖a‖² + ‖b‖²))`, largest for the smallest ‖b‖², so the best such rows lead this order.
    let byNorm: [Int32]
    /// The attribute blend's weight (0: none).
    let blendWeight: Double
    /// Per row: how many attribute features it has (the blend's cosine norms).
    let attributeCounts: [Double]

    init(similarity: Manifest.Similarity, featureCount: Int, statistics: [RowStatistics], blendWeight: Double, attributeCounts: [Double]) {
        self.similarity = similarity
        self.featureCount = Double(featureCount)
        self.statistics = statistics
        self.blendWeight = blendWeight
        self.attributeCounts = attributeCounts
        self.byNorm =
            similarity == .euclidean
            ? (0..<Int32(statistics.count)).sorted {
                let (x, y) = (statistics[Int($0)].squaredNorm, statistics[Int($1)].squaredNorm)
                return x != y ? x < y : $0 < $1
            } : []
    }

    /// The behaviour similarity of two rows with dot product `dot`.
    @inline(__always)
    func behaviour(_ a: RowStatistics, _ b: RowStatistics, dot: Double) -> Double {
        switch self.similarity {
        case .cosine, .adjustedCosine:
            let product = a.squaredNorm * b.squaredNorm
            return product > 0 ? dot / product.squareRoot() : 0
        case .pearson:
            let n = self.featureCount
            let product = (a.squaredNorm - a.sum * a.sum / n) * (b.squaredNorm - b.sum * b.sum / n)
            return product > 0 ? (dot - a.sum * b.sum / n) / product.squareRoot() : 0
        case .jaccard:
            let union = a.count + b.count - dot
            return union > 0 ? dot / union : 0
        case .euclidean:
            return 1 / (1 + max(0, a.squaredNorm + b.squaredNorm - 2 * dot).squareRoot())
        }
    }

    /// `(1 − w) · behaviour + w · attributes`, or the behaviour alone when there is no blend.
    @inline(__always)
    func blended(_ behaviour: Double, common: Double, _ aAttributes: Double, _ bAttributes: Double) -> Double {
        guard self.blendWeight > 0 else {
            return behaviour
        }
        let product = aAttributes * bAttributes
        let attributes = common > 0 && product > 0 ? common / product.squareRoot() : 0
        return (1 - self.blendWeight) * behaviour + self.blendWeight * attributes
    }

    /// Appends to `candidates` every row other than `exclude` with a positive similarity to a row with statistics
    /// `a` and `aAttributes` attribute features: the `touched` rows (dot products in `dots`, common attributes in
    /// `commons`), then, for Euclidean, the untouched rows that can reach the top `k` (the first `k` of ``byNorm``
    /// that are neither touched nor excluded, plus any tied with the last of them).
    func collect(
        a: RowStatistics,
        aAttributes: Double,
        exclude: Int?,
        touched: [Int32],
        isTouched: UnsafeMutableBufferPointer<Bool>,
        dots: UnsafeMutableBufferPointer<Double>,
        commons: UnsafeMutableBufferPointer<Double>,
        k: Int,
        into candidates: inout [ScoredIndex]
    ) {
        for b32 in touched {
            let b = Int(b32)
            guard b != exclude else { continue }
            let behaviour = self.behaviour(a, self.statistics[b], dot: dots[b])
            let bAttributes = self.blendWeight > 0 ? self.attributeCounts[b] : 0
            let score = self.blended(behaviour, common: commons.isEmpty ? 0 : commons[b], aAttributes, bAttributes)
            if score > 0 {
                candidates.append(ScoredIndex(index: b32, score: score))
            }
        }
        guard self.similarity == .euclidean else {
            return
        }
        var taken = 0
        var last = 0.0
        for b32 in self.byNorm {
            let b = Int(b32)
            guard b != exclude && !isTouched[b] else { continue }
            let score = self.blended(self.behaviour(a, self.statistics[b], dot: 0), common: 0, aAttributes, 0)
            if score <= 0 || (taken >= k && score != last) {
                break
            }
            candidates.append(ScoredIndex(index: b32, score: score))
            taken += 1
            last = score
        }
    }
}
