#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A built ItemCF or UserCF model: the feedback matrix plus each item's (ItemCF) or user's (UserCF) top-K cosine
/// neighbours. Immutable and `Sendable`; queries may run concurrently.
///
/// ```swift
/// let table = try InteractionTable(contentsOfFile: "examples/dishes/interactions.tsv")
/// let model = try Recommender(interactions: table, manifest: Manifest(algorithm: .itemCF, neighbours: 20))
/// let forUser = try model.recommend(user: "alice", k: 10)
/// let related = try model.similarItems(item: "kung_pao_chicken", k: 5)
/// ```
public struct Recommender: Sendable {
    /// The largest `k` a query accepts.
    public static let maximumResults = 10_000

    /// The manifest the model was built with.
    public let manifest: Manifest
    /// User ids, in ``IdentifierOrder`` (index order).
    public let userIds: [String]
    /// Item ids, in ``IdentifierOrder`` (index order).
    public let itemIds: [String]

    let userLookup: [String: Int32]
    let itemLookup: [String: Int32]
    /// Users × items feedback values (1 for implicit, the rating for explicit).
    let ratings: SparseMatrix
    /// Items × users: the transpose of ``ratings``.
    let itemRatings: SparseMatrix
    /// Items × items (ItemCF) or users × users (UserCF) top-K neighbours, rows in ranking order.
    let neighbours: SparseMatrix
    /// Per-feature divisors of the similarity terms (iuf: per user; iif: per item), `nil` for no weighting.
    let divisors: [Double]?

    /// UserCF: what anonymous profiles' neighbours are computed from (the stored users' rows as the build saw them).
    let userSimilarity: SimilarityInput?

    /// Item titles by item index, when the item attributes have a title column.
    let itemTitles: [String?]?
    /// Every item with at least one user, most users first (ties to the smaller id): the popularity fallback.
    let popularItems: [ScoredIndex]
    /// The stored users' attributes, when the inputs have a users section: cold start by attribute neighbours.
    let coldStart: ColdStartIndex?

    /// Builds the model: validates the manifest, then computes every row's top-K neighbours on all cores.
    ///
    /// - Parameters:
    ///   - table: The interactions (one value per distinct user-item pair).
    ///   - manifest: Algorithm, K, feedback, weighting, normalisation, similarity, attribute blend.
    ///   - userAttributes: User attributes; needed when the manifest sets `user_feature_weight` (UserCF).
    ///   - itemAttributes: Item attributes; needed when the manifest sets `item_feature_weight` (ItemCF).
    /// - Throws: ``RecommendError`` with code `invalidArgument` when the manifest is invalid, the table is empty,
    ///   explicit feedback is asked of a table with an unrated row (naming its line), the blend's attribute table is
    ///   missing or lacks a named column, or a bucketed attribute is not a number.
    public init(
        interactions table: InteractionTable,
        manifest: Manifest,
        userAttributes: AttributeTable? = nil,
        itemAttributes: AttributeTable? = nil
    ) throws(RecommendError) {
        try manifest.validate()
        guard table.count > 0 else {
            throw .invalidArgument("the interactions table is empty")
        }
        if manifest.feedback == .explicit, let line = table.firstUnratedLine {
            throw .invalidArgument("explicit feedback needs a rating on every row; line \(line) has none")
        }
        self.manifest = manifest
        self.userIds = table.userIds
        self.itemIds = table.itemIds
        self.userLookup = Dictionary(uniqueKeysWithValues: table.userIds.enumerated().map { ($1, Int32($0)) })
        self.itemLookup = Dictionary(uniqueKeysWithValues: table.itemIds.enumerated().map { ($1, Int32($0)) })
        let values = manifest.feedback == .explicit ? table.rating : [Double](repeating: 1, count: table.count)
        let ratings = SparseMatrix(
            rowCount: table.userIds.count,
            columnCount: table.itemIds.count,
            rowStart: table.userStart,
            columns: table.itemIndex,
            values: values
        )
        let itemRatings = ratings.transposed()
        self.ratings = ratings
        self.itemRatings = itemRatings
        let attributes = try Self.attributeMatrix(
            manifest: manifest, userIds: table.userIds, itemIds: table.itemIds, users: userAttributes, items: itemAttributes
        )
        let divisors: [Double]?
        let input: SimilarityInput
        switch manifest.algorithm {
        case .itemCF:
            // iuf: each user's term is divided by ln(1 + items of that user).
            divisors =
                manifest.weighting == .iuf
                ? (0..<ratings.rowCount).map { log(1 + Double(ratings.row($0).count)) } : nil
            input = SimilarityInput(manifest: manifest, entities: itemRatings, features: ratings, attributes: attributes)
            self.userSimilarity = nil
        case .userCF:
            // iif: each item's term is divided by ln(1 + users of that item).
            divisors =
                manifest.weighting == .iif
                ? (0..<itemRatings.rowCount).map { log(1 + Double(itemRatings.row($0).count)) } : nil
            input = SimilarityInput(manifest: manifest, entities: ratings, features: itemRatings, attributes: attributes)
            self.userSimilarity = input
        }
        self.divisors = divisors
        self.itemTitles = itemAttributes.flatMap { items in
            items.titleColumn == nil ? nil : table.itemIds.map { items.title(of: $0) }
        }
        self.popularItems = (0..<itemRatings.rowCount).map {
            ScoredIndex(index: Int32($0), score: Double(itemRatings.row($0).count))
        }.filter { $0.score > 0 }.topRanked(itemRatings.rowCount)
        self.coldStart = try userAttributes.map { (users) throws(RecommendError) in
            try ColdStartIndex(
                attributes: users, userIds: table.userIds,
                columns: manifest.algorithm == .userCF ? manifest.userFeatures : [])
        }
        let normalize = manifest.algorithm == .itemCF && manifest.normalize
        self.neighbours =
            input.isPlainCosine
            ? NeighbourBuilder.build(
                entities: input.entities, features: input.features, divisors: divisors, k: manifest.neighbours,
                normalize: normalize
            )
            : NeighbourBuilder.build(input: input, divisors: divisors, k: manifest.neighbours, normalize: normalize)
    }

    /// The one-hot attribute matrix of the neighbourhood's rows, when the manifest blends attributes in.
    private static func attributeMatrix(
        manifest: Manifest,
        userIds: [String],
        itemIds: [String],
        users: AttributeTable?,
        items: AttributeTable?
    ) throws(RecommendError) -> SparseMatrix? {
        let (weight, columns) = manifest.featureBlend
        guard weight > 0 else {
            return nil
        }
        switch manifest.algorithm {
        case .userCF:
            guard let users else {
                throw .invalidArgument("user_feature_weight > 0 needs user attributes (a 'users' section), none given")
            }
            return try users.featureMatrix(ids: userIds, columns: columns, what: "user attributes")
        case .itemCF:
            guard let items else {
                throw .invalidArgument("item_feature_weight > 0 needs item attributes (an 'items' section), none given")
            }
            return try items.featureMatrix(ids: itemIds, columns: columns, what: "item attributes")
        }
    }

    /// Builds the model of a sectioned artifact's inputs (``ModelInputs``).
    ///
    /// - Throws: As ``init(interactions:manifest:userAttributes:itemAttributes:)``.
    public init(inputs: ModelInputs, manifest: Manifest) throws(RecommendError) {
        try self.init(
            interactions: inputs.interactions,
            manifest: manifest,
            userAttributes: inputs.userAttributes,
            itemAttributes: inputs.itemAttributes
        )
    }

    /// Sizes of the model's arrays.
    public var statistics: Statistics {
        Statistics(
            users: self.userIds.count,
            items: self.itemIds.count,
            interactions: self.ratings.entryCount,
            neighbourEntries: self.neighbours.entryCount,
            indexBytes: self.ratings.byteCount + self.itemRatings.byteCount + self.neighbours.byteCount
                + (self.divisors?.count ?? 0) * MemoryLayout<Double>.stride
        )
    }

    /// Sizes of a built model.
    public struct Statistics: Hashable, Sendable {
        /// Distinct users.
        public var users: Int
        /// Distinct items.
        public var items: Int
        /// Distinct (user, item) pairs.
        public var interactions: Int
        /// Stored neighbour entries (at most K per item or user).
        public var neighbourEntries: Int
        /// Bytes of the sparse arrays (feedback matrix, its transpose, neighbours, weights); ids and hash maps are
        /// not counted.
        public var indexBytes: Int
    }
}
