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

    /// Builds the model: validates the manifest, then computes every row's top-K neighbours on all cores.
    ///
    /// - Parameters:
    ///   - table: The interactions (one value per distinct user-item pair).
    ///   - manifest: Algorithm, K, feedback, weighting, normalisation.
    /// - Throws: ``RecommendError`` with code `invalidArgument` when the manifest is invalid, the table is empty, or
    ///   explicit feedback is asked of a table with an unrated row (naming its line).
    public init(interactions table: InteractionTable, manifest: Manifest) throws(RecommendError) {
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
        switch manifest.algorithm {
        case .itemCF:
            // iuf: each user's term is divided by ln(1 + items of that user).
            let divisors =
                manifest.weighting == .iuf
                ? (0..<ratings.rowCount).map { log(1 + Double(ratings.row($0).count)) } : nil
            self.divisors = divisors
            self.neighbours = NeighbourBuilder.build(
                entities: itemRatings,
                features: ratings,
                divisors: divisors,
                k: manifest.neighbours,
                normalize: manifest.normalize
            )
        case .userCF:
            // iif: each item's term is divided by ln(1 + users of that item).
            let divisors =
                manifest.weighting == .iif
                ? (0..<itemRatings.rowCount).map { log(1 + Double(itemRatings.row($0).count)) } : nil
            self.divisors = divisors
            self.neighbours = NeighbourBuilder.build(
                entities: ratings,
                features: itemRatings,
                divisors: divisors,
                k: manifest.neighbours,
                normalize: false
            )
        }
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
