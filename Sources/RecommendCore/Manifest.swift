/// How a collaborative-filtering model is built from an interactions table.
///
/// A manifest is either written in code or parsed from `key = value` / `key: value` lines
/// (see ``init(parsing:)``). ``validate()`` rejects inconsistent combinations; ``Recommender`` calls it before
/// building.
///
/// ```swift
/// let manifest = Manifest(algorithm: .itemCF, neighbours: 20, feedback: .implicit, weighting: .iuf, normalize: true)
/// try manifest.validate()
/// ```
public struct Manifest: Hashable, Sendable {
    /// Which neighbourhood the model keeps.
    public enum Algorithm: String, Hashable, Sendable, CaseIterable {
        /// Item-based CF: each item keeps its top-K most similar items.
        case itemCF = "itemcf"
        /// User-based CF: each user keeps its top-K most similar users.
        case userCF = "usercf"
    }

    /// What value an interaction row contributes.
    public enum Feedback: String, Hashable, Sendable, CaseIterable {
        /// Every (user, item) pair present counts as 1; ratings are ignored.
        case implicit
        /// The row's rating is the value (the file must have a rating column).
        case explicit
    }

    /// How the terms of the similarity's dot product are weighted. The norms in the denominator stay unweighted.
    public enum Weighting: String, Hashable, Sendable, CaseIterable {
        /// Plain cosine.
        case none
        /// Inverse user frequency (ItemCF only): each user's term is divided by ln(1 + items of that user).
        case iuf
        /// Inverse item frequency (UserCF only): each item's term is divided by ln(1 + users of that item).
        case iif
    }

    /// How two items (ItemCF) or two users (UserCF) are compared; see docs/recommendation.md, "Similarities", for the
    /// exact formulas and what each does with implicit and explicit feedback.
    public enum Similarity: String, Hashable, Sendable, CaseIterable {
        /// `dot / sqrt(‖a‖² · ‖b‖²)`; the only one that takes `iuf` / `iif` weighting.
        case cosine
        /// Pearson correlation of the two full vectors (absent pairs are 0): with implicit feedback the phi coefficient.
        case pearson
        /// Cosine of the vectors after each stored value minus its column's mean (ItemCF: the user's mean rating;
        /// UserCF: the item's mean rating); explicit feedback only.
        case adjustedCosine = "adjusted_cosine"
        /// |A ∩ B| / |A ∪ B| of the sets of rows present (values ignored).
        case jaccard
        /// `1 / (1 + d)`, `d` the Euclidean distance of the two full vectors (absent pairs are 0).
        case euclidean
    }

    /// The largest neighbourhood size accepted.
    public static let maximumNeighbours = 100_000

    /// ItemCF or UserCF.
    public var algorithm: Algorithm
    /// K: how many neighbours (similarity > 0) each item (ItemCF) or user (UserCF) keeps.
    public var neighbours: Int
    /// Implicit (every row is 1) or explicit (the rating).
    public var feedback: Feedback
    /// Term weighting of the similarity's dot product.
    public var weighting: Weighting
    /// ItemCF only: after the top-K cut, divide each item's similarity row by its maximum.
    public var normalize: Bool
    /// The similarity measure of the neighbourhood.
    public var similarity: Similarity
    /// UserCF only: the weight `w` in `(1 − w) · behaviour + w · attributes` of the user-user similarity, in 0...1.
    public var userFeatureWeight: Double
    /// UserCF only: the user attribute columns encoded into the user feature matrix.
    public var userFeatures: [FeatureColumn]
    /// ItemCF only: the weight `w` in `(1 − w) · behaviour + w · attributes` of the item-item similarity, in 0...1.
    public var itemFeatureWeight: Double
    /// ItemCF only: the item attribute columns encoded into the item feature matrix.
    public var itemFeatures: [FeatureColumn]
    /// An optional interactions file named by the manifest (for example `data = interactions.tsv`), relative to the
    /// manifest's folder. The core does not read it; callers resolve it.
    public var data: String?

    /// Creates a manifest. Call ``validate()`` to check the combination.
    ///
    /// - Parameters:
    ///   - algorithm: ItemCF or UserCF.
    ///   - neighbours: K, in `1...``maximumNeighbours```.
    ///   - feedback: Implicit or explicit.
    ///   - weighting: `.none`, `.iuf` (ItemCF) or `.iif` (UserCF).
    ///   - normalize: ItemCF only: divide each neighbour row by its maximum.
    ///   - data: An optional interactions file name.
    ///   - similarity: The similarity measure (cosine by default).
    ///   - userFeatureWeight: UserCF: the attribute similarity's weight in the blend (0: behaviour only).
    ///   - userFeatures: UserCF: the user attribute columns.
    ///   - itemFeatureWeight: ItemCF: the attribute similarity's weight in the blend (0: behaviour only).
    ///   - itemFeatures: ItemCF: the item attribute columns.
    public init(
        algorithm: Algorithm,
        neighbours: Int = 20,
        feedback: Feedback = .implicit,
        weighting: Weighting = .none,
        normalize: Bool = false,
        data: String? = nil,
        similarity: Similarity = .cosine,
        userFeatureWeight: Double = 0,
        userFeatures: [FeatureColumn] = [],
        itemFeatureWeight: Double = 0,
        itemFeatures: [FeatureColumn] = []
    ) {
        self.algorithm = algorithm
        self.neighbours = neighbours
        self.feedback = feedback
        self.weighting = weighting
        self.normalize = normalize
        self.data = data
        self.similarity = similarity
        self.userFeatureWeight = userFeatureWeight
        self.userFeatures = userFeatures
        self.itemFeatureWeight = itemFeatureWeight
        self.itemFeatures = itemFeatures
    }

    /// The attribute weight and columns of the algorithm's neighbourhood (users for UserCF, items for ItemCF).
    var featureBlend: (weight: Double, columns: [FeatureColumn]) {
        self.algorithm == .userCF
            ? (self.userFeatureWeight, self.userFeatures) : (self.itemFeatureWeight, self.itemFeatures)
    }

    /// Checks that the values are in range and consistent with the algorithm.
    ///
    /// - Throws: ``RecommendError`` with code `invalidArgument` when K is out of range, when `iuf` is used with
    ///   UserCF or `iif` with ItemCF, when `normalize` is set for UserCF, when a weighting is combined with a
    ///   similarity other than cosine, when `adjusted_cosine` is asked of implicit feedback, or when a feature weight is
    ///   outside 0...1, set for the other algorithm, or set without its feature columns.
    public func validate() throws(RecommendError) {
        guard (1...Self.maximumNeighbours).contains(self.neighbours) else {
            throw .invalidArgument("neighbours must be in 1...\(Self.maximumNeighbours), got \(self.neighbours)")
        }
        switch (self.algorithm, self.weighting) {
        case (.userCF, .iuf):
            throw .invalidArgument("weighting 'iuf' applies to itemcf only; usercf takes 'none' or 'iif'")
        case (.itemCF, .iif):
            throw .invalidArgument("weighting 'iif' applies to usercf only; itemcf takes 'none' or 'iuf'")
        default:
            break
        }
        if self.normalize && self.algorithm == .userCF {
            throw .invalidArgument("normalize applies to itemcf only")
        }
        if self.weighting != .none && self.similarity != .cosine {
            throw .invalidArgument(
                "weighting '\(self.weighting.rawValue)' applies to similarity cosine only; similarity '\(self.similarity.rawValue)' takes weighting none"
            )
        }
        if self.similarity == .adjustedCosine && self.feedback == .implicit {
            throw .invalidArgument(
                "similarity 'adjusted_cosine' needs feedback explicit (with implicit feedback every centred value is 0)"
            )
        }
        try Self.validateBlend(
            key: "user_feature_weight", weight: self.userFeatureWeight, columnsKey: "user_features",
            columns: self.userFeatures, applies: self.algorithm == .userCF, algorithm: "usercf"
        )
        try Self.validateBlend(
            key: "item_feature_weight", weight: self.itemFeatureWeight, columnsKey: "item_features",
            columns: self.itemFeatures, applies: self.algorithm == .itemCF, algorithm: "itemcf"
        )
    }

    private static func validateBlend(
        key: String, weight: Double, columnsKey: String, columns: [FeatureColumn], applies: Bool, algorithm: String
    ) throws(RecommendError) {
        guard weight.isFinite && (0...1).contains(weight) else {
            throw .invalidArgument("\(key) must be in 0...1, got \(weight)")
        }
        if !applies && (weight != 0 || !columns.isEmpty) {
            throw .invalidArgument("\(key) and \(columnsKey) apply to \(algorithm) only")
        }
        if weight > 0 && columns.isEmpty {
            throw .invalidArgument("\(key) > 0 needs \(columnsKey) (the attribute columns to encode)")
        }
    }
}

extension Manifest: CustomStringConvertible {
    /// The manifest as text that ``init(parsing:)`` reads back.
    public var description: String {
        var lines = [
            "algorithm = \(self.algorithm.rawValue)",
            "neighbours = \(self.neighbours)",
            "feedback = \(self.feedback.rawValue)",
            "weighting = \(self.weighting.rawValue)",
            "normalize = \(self.normalize)",
        ]
        if let data = self.data {
            lines.append("data = \(data)")
        }
        // Keys at their defaults are left out, so manifests written before they existed print as they did.
        if self.similarity != .cosine {
            lines.append("similarity = \(self.similarity.rawValue)")
        }
        if self.userFeatureWeight != 0 || !self.userFeatures.isEmpty {
            lines.append("user_feature_weight = \(self.userFeatureWeight)")
            lines.append("user_features = \(FeatureColumn.text(self.userFeatures))")
        }
        if self.itemFeatureWeight != 0 || !self.itemFeatures.isEmpty {
            lines.append("item_feature_weight = \(self.itemFeatureWeight)")
            lines.append("item_features = \(FeatureColumn.text(self.itemFeatures))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
