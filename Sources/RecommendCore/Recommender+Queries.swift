extension Recommender {
    /// The top `k` unseen items for a known user.
    ///
    /// ItemCF scores item `i` as Σ over the user's items `j` of `sim(j, i) · r(u, j)`, for `i` among `j`'s neighbours.
    /// UserCF scores it as Σ over the user's neighbours `v` of `sim(u, v) · r(v, i)`. Only scores > 0 are returned,
    /// highest first, ties to the smaller id.
    ///
    /// ```swift
    /// let top = try model.recommend(user: "196", k: 10)
    /// ```
    ///
    /// - Parameters:
    ///   - user: The user id.
    ///   - k: How many results, in `1...10_000`.
    ///   - excludeSeen: Leave out items the user already has (default `true`).
    /// - Returns: At most `k` results.
    /// - Throws: ``RecommendError`` `notFound` for an unknown user, `invalidArgument` for `k` out of range.
    public func recommend(user: String, k: Int, excludeSeen: Bool = true) throws(RecommendError) -> [Recommendation] {
        try Self.check(k: k)
        guard let u = self.userLookup[user] else {
            throw .notFound("unknown user '\(user)'")
        }
        return self.results(self.rank(userIndex: Int(u), k: k, excludeSeen: excludeSeen))
    }

    /// The top `k` items for an anonymous user who has exactly `seedItems`, each with value 1.
    ///
    /// For "choose a dish, get related dishes": the scores are those of a user whose profile is the seeds.
    /// Repeated seeds count once. UserCF first finds the anonymous user's top-K neighbours on demand.
    ///
    /// ```swift
    /// let top = try model.recommend(seedItems: ["mapo_tofu", "kung_pao_chicken"], k: 5)
    /// ```
    ///
    /// - Parameters:
    ///   - seedItems: The item ids the anonymous user has; must not be empty.
    ///   - k: How many results, in `1...10_000`.
    ///   - excludeSeen: Leave out the seed items (default `true`).
    /// - Returns: At most `k` results.
    /// - Throws: ``RecommendError`` `notFound` naming the first unknown item, `invalidArgument` for an empty seed list
    ///   or `k` out of range.
    public func recommend(
        seedItems: [String],
        k: Int,
        excludeSeen: Bool = true
    ) throws(RecommendError) -> [Recommendation] {
        try Self.check(k: k)
        guard !seedItems.isEmpty else {
            throw .invalidArgument("seedItems must not be empty")
        }
        var indices: [Int32] = []
        for item in seedItems {
            guard let i = self.itemLookup[item] else {
                throw .notFound("unknown item '\(item)'")
            }
            indices.append(i)
        }
        let profile = Profile(seeds: indices)
        return self.results(self.rank(profile: profile, userIndex: nil, k: k, excludeSeen: excludeSeen))
    }

    /// The `k` items most similar to `item`, by cosine similarity, highest first, ties to the smaller id.
    ///
    /// ItemCF returns the item's stored neighbour row (so at most K items, normalised if the manifest says so).
    /// UserCF has no item neighbours, so it computes the item's unweighted cosine with every item on demand.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - k: How many results, in `1...10_000`.
    /// - Returns: At most `k` results, all with similarity > 0; never the item itself.
    /// - Throws: ``RecommendError`` `notFound` for an unknown item, `invalidArgument` for `k` out of range.
    public func similarItems(item: String, k: Int) throws(RecommendError) -> [Recommendation] {
        try Self.check(k: k)
        guard let i = self.itemLookup[item] else {
            throw .notFound("unknown item '\(item)'")
        }
        switch self.manifest.algorithm {
        case .itemCF:
            let row = self.neighbours.row(Int(i))
            return row.prefix(k).map { entry in
                Recommendation(item: self.itemIds[Int(self.neighbours.columns[entry])], score: self.neighbours.values[entry])
            }
        case .userCF:
            return self.results(self.itemCosineOnDemand(Int(i)).topRanked(k))
        }
    }

    static func check(k: Int) throws(RecommendError) {
        guard (1...Self.maximumResults).contains(k) else {
            throw .invalidArgument("k must be in 1...\(Self.maximumResults), got \(k)")
        }
    }

    func results(_ ranked: [ScoredIndex]) -> [Recommendation] {
        ranked.map { Recommendation(item: self.itemIds[Int($0.index)], score: $0.score) }
    }
}
