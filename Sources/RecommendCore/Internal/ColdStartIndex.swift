/// What serves a user the model has no history of: the stored users' attribute features (one-hot), so a new user's
/// attributes find their nearest stored users.
struct ColdStartIndex: Sendable {
    /// Users × features, every value 1.
    let userFeatures: SparseMatrix
    /// Features × users: the transpose, to find the users sharing a feature.
    let featureUsers: SparseMatrix
    let encoder: FeatureEncoder
    /// The attribute rows, for users that have one but no interactions.
    let attributes: AttributeTable

    /// Builds the index of the stored users' attributes for `columns` (every non-title column, categorical, when
    /// empty).
    init(attributes: AttributeTable, userIds: [String], columns: [FeatureColumn]) throws(RecommendError) {
        let chosen = columns.isEmpty ? attributes.categoricalFeatureColumns : columns
        let (matrix, encoder) = try attributes.featureEncoding(ids: userIds, columns: chosen, what: "user attributes")
        self.userFeatures = matrix
        self.featureUsers = matrix.transposed()
        self.encoder = encoder
        self.attributes = attributes
    }

    /// The known feature indices of a user given by attributes (by column name), else by the file's row, and how
    /// many distinct features the user has; empty when neither says anything.
    func features(of user: String, given: [String: String]) -> (known: [Int32], count: Int) {
        if !given.isEmpty {
            return self.encoder.lookUp(named: given)
        }
        return self.attributes.values(of: user).map { self.encoder.lookUp($0) } ?? ([], 0)
    }

    /// The top `k` stored users by the cosine of the binary feature vectors, `common / sqrt(|F_a| · |F_b|)` (`|F_a|`
    /// counts the user's features no stored user has too), ties to the smaller index; only similarities > 0.
    func neighbours(of features: (known: [Int32], count: Int), k: Int) -> [ScoredIndex] {
        guard !features.known.isEmpty else {
            return []
        }
        var common = [Int32](repeating: 0, count: self.userFeatures.rowCount)
        var touched: [Int32] = []
        for feature in features.known {
            for entry in self.featureUsers.row(Int(feature)) {
                let v = self.featureUsers.columns[entry]
                if common[Int(v)] == 0 { touched.append(v) }
                common[Int(v)] += 1
            }
        }
        let size = Double(features.count)
        let candidates = touched.map { v in
            ScoredIndex(
                index: v,
                score: Double(common[Int(v)]) / (size * Double(self.userFeatures.row(Int(v)).count)).squareRoot()
            )
        }
        return candidates.topRanked(k)
    }
}
