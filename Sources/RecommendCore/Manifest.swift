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
    public init(
        algorithm: Algorithm,
        neighbours: Int = 20,
        feedback: Feedback = .implicit,
        weighting: Weighting = .none,
        normalize: Bool = false,
        data: String? = nil
    ) {
        self.algorithm = algorithm
        self.neighbours = neighbours
        self.feedback = feedback
        self.weighting = weighting
        self.normalize = normalize
        self.data = data
    }

    /// Checks that the values are in range and consistent with the algorithm.
    ///
    /// - Throws: ``RecommendError`` with code `invalidArgument` when K is out of range, when `iuf` is used with
    ///   UserCF or `iif` with ItemCF, or when `normalize` is set for UserCF.
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
        return lines.joined(separator: "\n") + "\n"
    }
}
