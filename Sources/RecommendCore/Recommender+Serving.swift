/// Which path produced a list of recommendations.
public enum ServingPath: String, Sendable, Hashable, CaseIterable {
    /// A user the model knows: scored from their own interactions.
    case history
    /// An anonymous profile: scored from the seed items the model knows.
    case seedItems = "seed_items"
    /// A user the model has no interactions of, but whose attributes it has (or the request gave): scored from the
    /// stored users with the most similar attributes.
    case attributeNeighbours = "attribute_neighbours"
    /// Nothing known: the items with the most users.
    case popularity
}

/// Recommendations and the path that produced them.
public struct ServedRecommendations: Sendable, Hashable {
    /// At most `k` items, best first.
    public var items: [Recommendation]
    /// How they were found.
    public var path: ServingPath
}

extension Recommender {
    /// The top `k` items for any user: from their history when the model has it; else from the stored users whose
    /// attributes are most like theirs (`attributes` by column name, or their row of the users section); else the
    /// most popular items. Never `notFound`: a user who arrived after the build is served too.
    ///
    /// Attribute neighbours are the manifest's K stored users with the highest cosine of the one-hot attribute
    /// vectors (UserCF's `user_features` columns, otherwise every non-title column, categorical); an item's score is
    /// Σ over them of `sim · r(v, i)`. With no neighbour sharing a feature, or no positive score, popularity serves.
    ///
    /// - Throws: ``RecommendError`` `invalidArgument` for `k` out of range.
    public func serve(
        user: String, attributes: [String: String] = [:], k: Int, excludeSeen: Bool = true
    ) throws(RecommendError) -> ServedRecommendations {
        try Self.check(k: k)
        if let u = self.userLookup[user] {
            return ServedRecommendations(
                items: self.results(self.rank(userIndex: Int(u), k: k, excludeSeen: excludeSeen)), path: .history)
        }
        if let coldStart {
            let neighbours = coldStart.neighbours(
                of: coldStart.features(of: user, given: attributes), k: self.manifest.neighbours)
            var scores = [Double](repeating: 0, count: self.itemIds.count)
            for neighbour in neighbours {
                for entry in self.ratings.row(Int(neighbour.index)) {
                    scores[Int(self.ratings.columns[entry])] += neighbour.score * self.ratings.values[entry]
                }
            }
            let ranked = scores.enumerated().compactMap { $1 > 0 ? ScoredIndex(index: Int32($0), score: $1) : nil }
            if !ranked.isEmpty {
                return ServedRecommendations(items: self.results(ranked.topRanked(k)), path: .attributeNeighbours)
            }
        }
        return ServedRecommendations(items: self.popular(k: k, excluding: []), path: .popularity)
    }

    /// The top `k` items for seed items: the ones the model knows are scored as ``recommend(seedItems:k:excludeSeen:)``
    /// does; the others (items that arrived after the build) are left out; with none known, the most popular items
    /// (without the seeds when `excludeSeen`).
    ///
    /// - Throws: ``RecommendError`` `invalidArgument` for an empty seed list or `k` out of range.
    public func serve(seedItems: [String], k: Int, excludeSeen: Bool = true) throws(RecommendError) -> ServedRecommendations {
        try Self.check(k: k)
        guard !seedItems.isEmpty else {
            throw .invalidArgument("seedItems must not be empty")
        }
        let known = seedItems.compactMap { self.itemLookup[$0] }
        guard !known.isEmpty else {
            return ServedRecommendations(
                items: self.popular(k: k, excluding: excludeSeen ? Set(seedItems) : []), path: .popularity)
        }
        let ranked = self.rank(profile: Profile(seeds: known), userIndex: nil, k: k, excludeSeen: excludeSeen)
        return ServedRecommendations(items: self.results(ranked), path: .seedItems)
    }

    /// The most popular items (score: how many users have them), ties to the smaller id.
    public func popular(k: Int, excluding: Set<String> = []) -> [Recommendation] {
        var result: [Recommendation] = []
        for entry in self.popularItems where result.count < k {
            let item = self.itemIds[Int(entry.index)]
            if !excluding.contains(item) { result.append(Recommendation(item: item, score: entry.score)) }
        }
        return result
    }

    /// The item's title, when the model's item attributes have a title column and a title for it.
    public func title(of item: String) -> String? {
        guard let titles = self.itemTitles, let i = self.itemLookup[item] else {
            return nil
        }
        return titles[Int(i)]
    }

    /// Whether the item attributes carried titles.
    public var hasTitles: Bool { self.itemTitles != nil }
}
