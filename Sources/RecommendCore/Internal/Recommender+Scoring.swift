/// A user's items and values, items ascending.
struct Profile {
    var items: [Int32]
    var values: [Double]

    /// An anonymous profile: each distinct seed with value 1.
    init(seeds: [Int32]) {
        self.items = Array(Set(seeds)).sorted()
        self.values = [Double](repeating: 1, count: self.items.count)
    }

    init(items: [Int32], values: [Double]) {
        self.items = items
        self.values = values
    }
}

extension Recommender {
    /// The profile of a known user.
    func profile(userIndex u: Int) -> Profile {
        let row = self.ratings.row(u)
        return Profile(items: Array(self.ratings.columns[row]), values: Array(self.ratings.values[row]))
    }

    /// The top `k` items (score > 0) for a known user.
    func rank(userIndex u: Int, k: Int, excludeSeen: Bool) -> [ScoredIndex] {
        self.rank(profile: self.profile(userIndex: u), userIndex: u, k: k, excludeSeen: excludeSeen)
    }

    /// The top `k` items (score > 0) for a profile; `userIndex` selects stored UserCF neighbours, `nil` computes
    /// them on demand.
    func rank(profile: Profile, userIndex: Int?, k: Int, excludeSeen: Bool) -> [ScoredIndex] {
        var scores = ScoreAccumulator(count: self.itemIds.count)
        switch self.manifest.algorithm {
        case .itemCF:
            for (position, j) in profile.items.enumerated() {
                scores.add(row: self.neighbours.row(Int(j)), of: self.neighbours, times: profile.values[position])
            }
        case .userCF:
            let neighbours = userIndex.map(self.storedUserNeighbours) ?? self.userNeighbours(of: profile)
            for neighbour in neighbours {
                scores.add(row: self.ratings.row(Int(neighbour.index)), of: self.ratings, times: neighbour.score)
            }
        }
        if excludeSeen {
            for item in profile.items { scores.clear(Int(item)) }
        }
        return scores.positive().topRanked(k)
    }

    private func storedUserNeighbours(_ u: Int) -> [ScoredIndex] {
        self.neighbours.row(u).map { ScoredIndex(index: self.neighbours.columns[$0], score: self.neighbours.values[$0]) }
    }

    /// UserCF: the top-K users most similar to an anonymous profile, by the manifest's measure and weighting, with
    /// the measure's values (each seed's 1 minus the item's mean for adjusted cosine). The profile has no attributes,
    /// so a blend scales its behaviour similarity by `1 − w`.
    func userNeighbours(of profile: Profile) -> [ScoredIndex] {
        guard let input = self.userSimilarity else {
            return []
        }
        let values = profile.items.enumerated().map { position, i in
            input.kernel.similarity == .jaccard ? 1 : profile.values[position] - (input.featureMeans?[Int(i)] ?? 0)
        }
        var scratch = DotScratch(count: self.userIds.count, withCommons: false)
        for (position, i) in profile.items.enumerated() {
            let weight = self.divisors.map { values[position] / $0[Int(i)] } ?? values[position]
            scratch.addDots(row: input.features.row(Int(i)), of: input.features, times: weight)
        }
        var candidates: [ScoredIndex] = []
        scratch.collect(
            kernel: input.kernel, a: RowStatistics(values: values), aAttributes: 0, exclude: nil,
            k: self.manifest.neighbours, into: &candidates
        )
        return candidates.topRanked(self.manifest.neighbours)
    }

    /// UserCF's `similarItems`: unweighted cosine of item `i` with every other item.
    func itemCosineOnDemand(_ i: Int) -> [ScoredIndex] {
        var dots = [Double](repeating: 0, count: self.itemIds.count)
        var marked = [Bool](repeating: false, count: self.itemIds.count)
        var touched: [Int32] = []
        for entry in self.itemRatings.row(i) {
            let u = Int(self.itemRatings.columns[entry])
            let value = self.itemRatings.values[entry]
            for userEntry in self.ratings.row(u) {
                let j = Int(self.ratings.columns[userEntry])
                if !marked[j] {
                    marked[j] = true
                    touched.append(Int32(j))
                }
                dots[j] += value * self.ratings.values[userEntry]
            }
        }
        let norm = self.itemSquaredNorm(i)
        var candidates: [ScoredIndex] = []
        for j in touched where Int(j) != i && dots[Int(j)] > 0 {
            let score = dots[Int(j)] / (norm * self.itemSquaredNorm(Int(j))).squareRoot()
            candidates.append(ScoredIndex(index: j, score: score))
        }
        return candidates
    }

    private func itemSquaredNorm(_ i: Int) -> Double {
        var sum = 0.0
        for entry in self.itemRatings.row(i) {
            sum += self.itemRatings.values[entry] * self.itemRatings.values[entry]
        }
        return sum
    }
}

/// Sums scores into a dense array while remembering which entries were touched, in first-touch order.
///
/// The hot loop of every query (an ItemCF top-10 on MovieLens-100k adds ~2,000 neighbour scores), on unsafe
/// buffers: bounds and uniqueness checks on three arrays per addition cost a third of a query's instructions
/// (callgrind). The order of additions, hence every floating-point sum, is the one the callers give.
private struct ScoreAccumulator {
    private var scores: [Double]
    private var marked: [Bool]
    private var touched: [Int32] = []

    init(count: Int) {
        self.scores = [Double](repeating: 0, count: count)
        self.marked = [Bool](repeating: false, count: count)
        self.touched.reserveCapacity(count)
    }

    /// Adds `matrix`'s entries in `row`, each value times `factor`, to the scores of their columns.
    mutating func add(row: Range<Int>, of matrix: SparseMatrix, times factor: Double) {
        let count = self.scores.count
        precondition(row.lowerBound >= 0 && row.upperBound <= matrix.columns.count)
        precondition(matrix.columns.count == matrix.values.count)
        self.scores.withUnsafeMutableBufferPointer { scores in
            self.marked.withUnsafeMutableBufferPointer { marked in
                matrix.columns.withUnsafeBufferPointer { columns in
                    matrix.values.withUnsafeBufferPointer { values in
                        for entry in row {
                            let item = columns[entry]
                            let i = Int(item)
                            precondition(i >= 0 && i < count)
                            if !marked[i] {
                                marked[i] = true
                                self.touched.append(item)
                            }
                            scores[i] += values[entry] * factor
                        }
                    }
                }
            }
        }
    }

    /// Sets an item's score to zero (it is then left out).
    mutating func clear(_ item: Int) {
        self.scores[item] = 0
    }

    /// The touched items whose score is positive, in first-touch order.
    func positive() -> [ScoredIndex] {
        var candidates: [ScoredIndex] = []
        candidates.reserveCapacity(self.touched.count)
        self.scores.withUnsafeBufferPointer { scores in
            for item in self.touched where scores[Int(item)] > 0 {
                candidates.append(ScoredIndex(index: item, score: scores[Int(item)]))
            }
        }
        return candidates
    }
}
